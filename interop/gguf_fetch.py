"""Get llama.cpp's GGUF converter from the llama-cpp-python sdist on PyPI.

The converter is not in the installed wheel, only in the sdist's vendored llama.cpp, so the
sdist is fetched once with pip (the only registry we may use) and the three pieces the
converter needs are unpacked next to it: the script, its `conversion/` package and `gguf-py/`.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

from interop import home

KEEP = ("convert_hf_to_gguf.py", "conversion/", "gguf-py/")


def sdist(version: str) -> Path:
    """The sdist archive, downloaded into the interop cache when it is not there yet."""
    dest = home.cache_dir() / "sdist"
    found = sorted(dest.glob(f"llama_cpp_python-{version}.tar.gz"))
    if found:
        return found[0]
    dest.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-d",
            str(dest),
            f"llama-cpp-python=={version}",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    found = sorted(dest.glob(f"llama_cpp_python-{version}.tar.gz"))
    if done.returncode != 0 or not found:
        raise RuntimeError(
            f"could not download the llama-cpp-python {version} sdist:\n{done.stderr[-2000:]}"
        )
    return found[0]


def wanted(member: str, prefix: str) -> str | None:
    """The path below vendor/llama.cpp/ when `member` is one of the converter's pieces."""
    if not member.startswith(prefix):
        return None
    rest = member[len(prefix) :]
    if ".." in Path(rest).parts or rest.startswith("/"):
        return None
    return rest if any(rest == k or rest.startswith(k) for k in KEEP) else None


def converter_script(version: str) -> Path:
    """Path to convert_hf_to_gguf.py, unpacked from the sdist on first use."""
    out = home.cache_dir() / f"llama-cpp-{version}-convert"
    script = out / "convert_hf_to_gguf.py"
    if script.is_file():
        return script
    prefix = f"llama_cpp_python-{version}/vendor/llama.cpp/"
    with tarfile.open(sdist(version)) as tar:
        for member in tar.getmembers():
            rest = wanted(member.name, prefix)
            if rest is None or not member.isfile():
                continue
            target = out / rest
            target.parent.mkdir(parents=True, exist_ok=True)
            extracted = tar.extractfile(member)
            if extracted is not None:
                target.write_bytes(extracted.read())
    if not script.is_file():
        raise RuntimeError(f"the llama-cpp-python {version} sdist has no convert_hf_to_gguf.py")
    return script
