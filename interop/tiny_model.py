"""Build a tiny, randomly initialised Llama model directory, offline and reproducibly.

Real inference servers (transformers serve, llama.cpp, vLLM) refuse to start without a model,
and nothing may be downloaded here, so we make one: a byte-level BPE tokenizer trained on a
few KB of text shipped in `interop/data/corpus.txt`, and a 2-layer Llama whose weights come
from a fixed seed. Its output is gibberish; what matters is that the servers speak HTTP about
it exactly as they would about a real model.

Usage: `python -m interop.tiny_model OUT_DIR` (needs torch, transformers and tokenizers, which
live in an interop venv, not in the suite's own environment).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

SEED = 1234
VOCAB_SIZE = 512  # 256 byte symbols + merges + special tokens
BOS, EOS, PAD = "<|bos|>", "<|eos|>", "<|pad|>"
# llama.cpp ends output on a token named <|endoftext|>, so the start token must not use it.
SPECIAL_TOKENS = (BOS, EOS, PAD)
HIDDEN_SIZE = 128
HEAD_DIM = 64
NUM_ATTENTION_HEADS = HIDDEN_SIZE // HEAD_DIM  # 2
NUM_KEY_VALUE_HEADS = 2
NUM_LAYERS = 2
INTERMEDIATE_SIZE = 256
MAX_POSITIONS = 2048

# Simple on purpose: role lines, then an "assistant:" cue. `bos_token` comes from the
# template (Llama 3 style) because servers tokenise rendered chats without special tokens.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ message['role'] }}: {{ message['content'] }}\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)

CORPUS_PATH = Path(__file__).parent / "data" / "corpus.txt"
MARKER = "tiny-model.json"  # written last: its presence means the build finished


def corpus_text() -> str:
    """The built-in training text; repeated lines keep BPE merges stable across runs."""
    return CORPUS_PATH.read_text(encoding="utf-8")


def model_config(vocab_size: int, bos_id: int, eos_id: int, pad_id: int) -> dict[str, Any]:
    """config.json in the classic Llama keys (rope_theta, not v5's rope_parameters).

    Written by hand rather than by `LlamaConfig.save_pretrained` so that older readers
    (llama.cpp's converter, vLLM) see keys they know, and so the file does not change with
    the transformers version that built it.
    """
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": vocab_size,
        "hidden_size": HIDDEN_SIZE,
        "intermediate_size": INTERMEDIATE_SIZE,
        "num_hidden_layers": NUM_LAYERS,
        "num_attention_heads": NUM_ATTENTION_HEADS,
        "num_key_value_heads": NUM_KEY_VALUE_HEADS,
        "head_dim": HEAD_DIM,
        "hidden_act": "silu",
        "max_position_embeddings": MAX_POSITIONS,
        "initializer_range": 0.02,
        "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0,
        "rope_scaling": None,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "mlp_bias": False,
        "tie_word_embeddings": False,
        "use_cache": True,
        "bos_token_id": bos_id,
        "eos_token_id": eos_id,
        "pad_token_id": pad_id,
        "torch_dtype": "float32",
    }


def tokenizer_config(bos_id: int, eos_id: int, pad_id: int) -> dict[str, Any]:
    """tokenizer_config.json: the chat template lives here, where every server looks."""

    def added(content: str) -> dict[str, Any]:
        return {
            "content": content,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "single_word": False,
            "special": True,
        }

    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": BOS,
        "eos_token": EOS,
        "pad_token": PAD,
        "unk_token": None,
        "add_bos_token": True,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": MAX_POSITIONS,
        "added_tokens_decoder": {
            str(bos_id): added(BOS),
            str(eos_id): added(EOS),
            str(pad_id): added(PAD),
        },
        "chat_template": CHAT_TEMPLATE,
    }


def train_tokenizer(text: str) -> Any:
    """A byte-level BPE (GPT-2 pre-tokenisation, so llama.cpp's `gpt-2` pre-tokenizer fits)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=2,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(text.splitlines(keepends=True), trainer=trainer)
    bos_id = tok.token_to_id(BOS)
    # Plain encode adds the start token, like a Llama tokenizer with add_bos_token=true.
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A $B", special_tokens=[(BOS, bos_id)]
    )
    return tok


def build(out_dir: Path) -> Path:
    """Write the model directory; skip the work when a finished build is already there."""
    if (out_dir / MARKER).is_file():
        return out_dir
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out_dir.mkdir(parents=True, exist_ok=True)
    tok = train_tokenizer(corpus_text())
    ids = {name: tok.token_to_id(name) for name in SPECIAL_TOKENS}
    cfg = model_config(tok.get_vocab_size(), ids[BOS], ids[EOS], ids[PAD])

    torch.manual_seed(SEED)
    model = LlamaForCausalLM(LlamaConfig(**cfg))
    model.save_pretrained(out_dir, safe_serialization=True)

    # Overwrite what save_pretrained wrote with the version-independent files.
    tok.save(str(out_dir / "tokenizer.json"))
    _write_json(out_dir / "config.json", cfg)
    _write_json(
        out_dir / "generation_config.json",
        {"bos_token_id": ids[BOS], "eos_token_id": ids[EOS], "pad_token_id": ids[PAD]},
    )
    _write_json(out_dir / "tokenizer_config.json", tokenizer_config(ids[BOS], ids[EOS], ids[PAD]))
    _write_json(
        out_dir / "special_tokens_map.json", {"bos_token": BOS, "eos_token": EOS, "pad_token": PAD}
    )
    (out_dir / "chat_template.jinja").unlink(missing_ok=True)  # one template, in one place
    _write_json(
        out_dir / MARKER,
        {"seed": SEED, "vocab_size": tok.get_vocab_size(), "torch": torch.__version__},
    )
    return out_dir


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m interop.tiny_model", description=__doc__)
    parser.add_argument("out_dir", type=Path, help="directory to write the model into")
    args = parser.parse_args(argv)
    try:
        build(args.out_dir)
    except ImportError as exc:
        print(
            f"error: {exc.name or exc} is not installed in this interpreter "
            f"({sys.executable}); run this with an interop venv that has torch, "
            "transformers and tokenizers",
            file=sys.stderr,
        )
        return 2
    except OSError as exc:
        print(f"error: cannot write {args.out_dir}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
