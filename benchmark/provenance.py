"""Provenance of every number: file checksums, package versions, git revision, machine."""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import subprocess
from importlib import metadata
from pathlib import Path

log = logging.getLogger(__name__)

PACKAGES = ("xbench", "torch", "numpy", "scipy", "transformers", "pot", "h5py", "scikit-learn", "pandas")


def sha256_file(path: str | Path, chunk: int = 1 << 22) -> str:
    """SHA-256 of a file, cached in a ``<file>.sha256.json`` sidecar keyed by size and mtime.

    Real PDEBench files are several GB; hashing them once per run would cost minutes.
    """
    path = Path(path)
    st = path.stat()
    sidecar = path.with_name(path.name + ".sha256.json")
    key = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    try:
        cached = json.loads(sidecar.read_text())
        if {k: cached.get(k) for k in key} == key:
            return cached["sha256"]
    except (OSError, ValueError, KeyError):
        pass
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    digest = h.hexdigest()
    try:
        sidecar.write_text(json.dumps({**key, "sha256": digest}))
    except OSError:
        log.debug("could not write checksum cache %s", sidecar)
    return digest


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["python"] = platform.python_version()
    return out


def git_sha() -> str:
    """The commit of the xbench source tree, with ``+dirty`` when it has uncommitted changes."""
    src = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=src, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=src, capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + ("+dirty" if dirty else "")


def machine() -> dict[str, str]:
    import torch

    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "torch_threads": str(torch.get_num_threads())}
    if torch.cuda.is_available():
        info["cuda"] = torch.cuda.get_device_name(0)
    return info
