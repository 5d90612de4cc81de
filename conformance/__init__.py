"""Conformance and contract test suite for OpenAI-style LLM text-generation HTTP APIs."""

__version__ = "0.1.0"
