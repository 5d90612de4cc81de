"""Where the interop servers live on disk, and the environment that keeps them offline.

Everything heavy (venvs, the tiny model, the Hugging Face cache, run state and logs) goes
under one directory outside the repository, `$INTEROP_HOME`, so a checkout stays small and a
second run reuses what the first one installed.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
TRANSCRIPTS = REPO / "fixtures" / "transcripts" / "interop"


def home() -> Path:
    """`$INTEROP_HOME`, else /work/interop-venvs on the project machines, else a user cache."""
    configured = os.environ.get("INTEROP_HOME")
    if configured:
        return Path(configured).expanduser().resolve()
    if Path("/work").is_dir() and os.access("/work", os.W_OK):
        return Path("/work/interop-venvs")
    return Path.home() / ".cache" / "conformance-interop"


def venv_dir(name: str) -> Path:
    return home() / name


def venv_python(name: str) -> Path:
    return venv_dir(name) / "bin" / "python"


def tiny_model_dir() -> Path:
    return home() / "tiny-llama"


def hf_home() -> Path:
    return home() / "hf-home"


def run_dir() -> Path:
    """State files (pid, port, key) and logs of running servers."""
    return home() / "run"


def cache_dir() -> Path:
    return home() / "cache"


def offline_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every server process gets: no hub, no telemetry, local caches.

    `$HF_HOME/hub` must exist: `transformers serve` scans it for /v1/models and answers 500
    when it is missing.
    """
    env = dict(os.environ if base is None else base)
    (hf_home() / "hub").mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "HF_HOME": str(hf_home()),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "DO_NOT_TRACK": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONUNBUFFERED": "1",
            # Two shared cores: one thread each keeps a server from starving the others.
            "OMP_NUM_THREADS": env.get("OMP_NUM_THREADS", "1"),
            "MKL_NUM_THREADS": env.get("MKL_NUM_THREADS", "1"),
        }
    )
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        env.pop(proxy, None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env
