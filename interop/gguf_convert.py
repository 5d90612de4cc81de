"""Convert the tiny model to GGUF with llama.cpp's own converter, telling it the pre-tokenizer.

llama.cpp's `convert_hf_to_gguf.py` recognises a BPE tokenizer by hashing how it splits a
fixed text, and refuses any tokenizer it has not seen. Ours is home-made, but it splits
exactly like GPT-2 (byte-level, GPT-2 regex), so every `get_vocab_base_pre` that gives up is
wrapped to answer `gpt-2` instead. Known tokenizers keep their own answer.

Run with an interpreter that has torch, numpy and transformers (the transformers venv):
`python -m interop.gguf_convert CONVERT_SCRIPT MODEL_DIR OUT.gguf`.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

PRE_TOKENIZER = "gpt-2"
METHOD = "get_vocab_base_pre"


def _fallback(original: Callable[..., str]) -> Callable[..., str]:
    @functools.wraps(original)
    def get_vocab_base_pre(self: Any, tokenizer: Any) -> str:
        try:
            return original(self, tokenizer)
        except NotImplementedError:
            return PRE_TOKENIZER

    return get_vocab_base_pre


def patch_pre_tokenizer(modules: list[ModuleType]) -> int:
    """Wrap every class-level `get_vocab_base_pre` in `modules`; return how many were wrapped."""
    patched = 0
    for module in modules:
        for obj in list(vars(module).values()):
            if not isinstance(obj, type) or obj.__module__ != module.__name__:
                continue
            original = obj.__dict__.get(METHOD)
            if callable(original) and not getattr(original, "__wrapped__", None):
                setattr(obj, METHOD, _fallback(original))
                patched += 1
    return patched


def load_converter(script: Path) -> ModuleType:
    """Import the converter as a module so it can be patched before `main()` runs."""
    sys.path.insert(0, str(script.parent))  # its `conversion/` package and `gguf-py/`
    spec = importlib.util.spec_from_file_location("convert_hf_to_gguf", script)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {script}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def convert(script: Path, model_dir: Path, out_file: Path) -> None:
    module = load_converter(script)
    ours = [
        m
        for name, m in list(sys.modules.items())
        if m is not None and (name == module.__name__ or name.startswith("conversion"))
    ]
    if patch_pre_tokenizer(ours) == 0:
        raise RuntimeError(f"{script}: found no get_vocab_base_pre to patch; converter changed?")
    sys.argv = [str(script), str(model_dir), "--outfile", str(out_file), "--outtype", "f32"]
    module.main()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m interop.gguf_convert", description=__doc__)
    parser.add_argument("script", type=Path, help="llama.cpp's convert_hf_to_gguf.py")
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("out_file", type=Path)
    args = parser.parse_args(argv)
    for path in (args.script, args.model_dir):
        if not path.exists():
            print(f"error: {path} does not exist", file=sys.stderr)
            return 2
    try:
        convert(args.script, args.model_dir, args.out_file)
    except ImportError as exc:
        print(
            f"error: the converter needs {exc.name or exc}, missing from {sys.executable}",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
