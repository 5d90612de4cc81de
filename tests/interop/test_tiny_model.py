"""The tiny model: the sizes we promise, and that transformers really loads and runs it.

The build needs torch, transformers and tokenizers, which live in the interop venv, not in
the suite's environment; there these tests skip. Run them with the interop venv:
`$INTEROP_HOME/transformers/bin/python -m pytest tests/interop/test_tiny_model.py`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from interop import tiny_model

HEAVY = ("torch", "transformers", "tokenizers")
MISSING = [name for name in HEAVY if importlib.util.find_spec(name) is None]
needs_torch = pytest.mark.skipif(
    bool(MISSING),
    reason=f"{', '.join(MISSING)} not importable here; test_tiny_model_in_venv.py runs "
    "these in the transformers interop venv",
)


def test_config_has_the_promised_sizes() -> None:
    cfg = tiny_model.model_config(512, 0, 1, 2)
    assert cfg["num_hidden_layers"] == 2
    assert cfg["hidden_size"] == 128
    assert cfg["head_dim"] == 64
    assert cfg["num_attention_heads"] * cfg["head_dim"] == cfg["hidden_size"]
    assert cfg["num_key_value_heads"] in (1, 2)
    assert cfg["intermediate_size"] < 4 * cfg["hidden_size"]
    assert cfg["vocab_size"] == 512
    assert "rope_theta" in cfg  # the classic key older converters read


def test_chat_template_renders_roles_and_generation_cue() -> None:
    jinja2 = pytest.importorskip("jinja2")
    cfg = tiny_model.tokenizer_config(0, 1, 2)
    template = jinja2.Environment().from_string(cfg["chat_template"])
    text = template.render(
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello!"},
        ],
        bos_token=cfg["bos_token"],
        add_generation_prompt=True,
    )
    assert text == "<|bos|>system: Be brief.\nuser: Hello!\nassistant:"


def test_start_token_is_not_endoftext() -> None:
    # llama.cpp ends output on a token named <|endoftext|>: it must not be the start token.
    assert tiny_model.BOS == "<|bos|>"
    assert "<|endoftext|>" not in tiny_model.SPECIAL_TOKENS
    assert tiny_model.EOS != tiny_model.BOS


def _digest(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model.build(tmp_path_factory.mktemp("tiny") / "model")


@needs_torch
def test_build_is_reproducible(built: Path, tmp_path: Path) -> None:
    again = tiny_model.build(tmp_path / "again")
    assert _digest(again) == _digest(built)


@needs_torch
def test_files_and_config_on_disk(built: Path) -> None:
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "generation_config.json",
    ):
        assert (built / name).is_file(), name
    cfg = json.loads((built / "config.json").read_text())
    tok_cfg = json.loads((built / "tokenizer_config.json").read_text())
    assert (cfg["num_hidden_layers"], cfg["hidden_size"], cfg["head_dim"]) == (2, 128, 64)
    assert "chat_template" in tok_cfg


@needs_torch
def test_tokenizer_round_trips_text(built: Path) -> None:
    from transformers import AutoTokenizer

    tok: Any = AutoTokenizer.from_pretrained(str(built))
    text = "Hello! Café, naïve — 3.50 € and 日本 🚀"
    ids = tok(text)["input_ids"]
    assert ids[0] == tok.bos_token_id  # the start token is added, as Llama tokenizers do
    assert tok.decode(ids, skip_special_tokens=True) == text
    assert tok.eos_token == "<|eos|>"
    rendered = tok.apply_chat_template(
        [{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True
    )
    assert rendered == "<|bos|>user: Hi\nassistant:"


@needs_torch
def test_model_loads_and_generates(built: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok: Any = AutoTokenizer.from_pretrained(str(built))
    model: Any = AutoModelForCausalLM.from_pretrained(str(built))
    assert model.config.num_attention_heads == 2
    assert sum(p.numel() for p in model.parameters()) < 1_000_000
    ids = torch.tensor([tok("Say hello!")["input_ids"]])
    out = model.generate(
        ids, max_new_tokens=4, min_new_tokens=4, do_sample=False, pad_token_id=tok.pad_token_id
    )
    assert out.shape[1] == ids.shape[1] + 4
    assert all(0 <= int(t) < model.config.vocab_size for t in out[0])
