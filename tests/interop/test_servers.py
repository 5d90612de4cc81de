"""The servers' pure parts: loopback only, keys kept off argv, idempotent venvs, GGUF helpers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from interop import gguf_convert, gguf_fetch, home, venvs
from interop.servers import SERVERS, install_in_hub_cache

KEY = "sk-interop-never-on-argv"


@pytest.fixture(autouse=True)
def interop_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INTEROP_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.mark.parametrize("name", list(SERVERS))
def test_every_server_binds_loopback_and_keeps_its_key_off_argv(name: str) -> None:
    server = SERVERS[name]
    command = server.command(43210)
    assert "127.0.0.1" in command and "0.0.0.0" not in command
    assert "43210" in command
    env = server.env(KEY if server.uses_key else None, 43210)
    assert KEY not in " ".join(command)
    if server.uses_key:
        assert KEY in env.values()  # handed over in the environment instead
    assert env["HF_HUB_OFFLINE"] == "1"
    assert "HTTPS_PROXY" not in env and "https_proxy" not in env


def test_offline_env_creates_the_hub_dir(interop_home: Path) -> None:
    home.offline_env({})
    assert (interop_home / "hf-home" / "hub").is_dir()


def test_torch_is_pinned_to_the_cpu_build_everywhere() -> None:
    for server in SERVERS.values():
        assert venvs.TORCH_CPU in server.recipe().constraints
    assert venvs.TORCH_CPU == "torch==2.13.0+cpu"


def test_hub_cache_layout_serves_by_repo_id(tmp_path: Path, interop_home: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    snapshot = install_in_hub_cache(model, "interop/tiny-llama")
    root = interop_home / "hf-home" / "hub" / "models--interop--tiny-llama"
    assert (root / "refs" / "main").read_text() == snapshot.name
    assert (snapshot / "config.json").read_text() == "{}"
    assert install_in_hub_cache(model, "interop/tiny-llama") == snapshot  # idempotent


def test_marker_decides_whether_a_venv_is_installed(interop_home: Path) -> None:
    recipe = venvs.VenvRecipe("demo", (("somepkg==1.0",),))
    assert not venvs.is_installed(recipe)
    venv = interop_home / "demo"
    venv.mkdir(parents=True)
    (venv / venvs.MARKER).write_text(
        json.dumps({"recipe": recipe.key(), "seconds": 12.5, "size_bytes": 2048})
    )
    assert venvs.is_installed(recipe)
    info = venvs.ensure(recipe)  # present: nothing is run
    assert info.skipped and info.seconds == 12.5 and info.size_bytes == 2048
    changed = venvs.VenvRecipe("demo", (("somepkg==2.0",),))
    assert not venvs.is_installed(changed)


def test_tree_size_counts_file_bytes(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 100)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b").write_bytes(b"y" * 28)
    assert venvs.tree_size(tmp_path) == 128


def test_gguf_patch_answers_gpt2_only_for_unknown_tokenizers() -> None:
    module = ModuleType("conversion.fake")

    class Known:
        def get_vocab_base_pre(self, tokenizer: object) -> str:
            return "llama-bpe"

    class Unknown:
        def get_vocab_base_pre(self, tokenizer: object) -> str:
            raise NotImplementedError("BPE pre-tokenizer was not recognized")

    for cls in (Known, Unknown):
        cls.__module__ = module.__name__
        setattr(module, cls.__name__, cls)
    assert gguf_convert.patch_pre_tokenizer([module]) == 2
    assert Known().get_vocab_base_pre(None) == "llama-bpe"
    assert Unknown().get_vocab_base_pre(None) == "gpt-2"
    assert gguf_convert.patch_pre_tokenizer([module]) == 0  # not wrapped twice


def test_sdist_members_kept_for_the_converter() -> None:
    prefix = "llama_cpp_python-0.3.36/vendor/llama.cpp/"
    assert gguf_fetch.wanted(prefix + "convert_hf_to_gguf.py", prefix) == "convert_hf_to_gguf.py"
    assert gguf_fetch.wanted(prefix + "gguf-py/gguf/__init__.py", prefix)
    assert gguf_fetch.wanted(prefix + "conversion/llama.py", prefix)
    assert gguf_fetch.wanted(prefix + "ggml/src/ggml.c", prefix) is None
    assert gguf_fetch.wanted(prefix + "conversion/../../evil.py", prefix) is None
    assert gguf_fetch.wanted("other/convert_hf_to_gguf.py", prefix) is None


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interop", *args],
        cwd=home.REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_rejects_an_unknown_server_without_a_traceback() -> None:
    done = _cli("start", "no-such-server")
    assert done.returncode != 0
    assert "unknown server 'no-such-server'" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_record_needs_a_running_server() -> None:
    done = _cli("record", "xpyd-sim")
    assert done.returncode == 1
    assert "is not running" in done.stderr and "Traceback" not in done.stderr
