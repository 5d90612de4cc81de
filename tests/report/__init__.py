"""Tests of the report writers, the diff / matrix views and the command line."""
