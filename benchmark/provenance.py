"""Provenance of every number: file checksums, package versions, git revision, machine."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

log = logging.getLogger(__name__)

PACKAGES = ("xbench", "torch", "numpy", "scipy", "transformers", "pot", "h5py", "scikit-learn", "pandas")


def cached_digest(path: str | Path, algorithm: str = "sha256", progress: bool = False, chunk: int = 1 << 22) -> str:
    """Hex digest of a file, cached in a ``<file>.<algorithm>.json`` sidecar keyed by size and mtime.

    Real PDEBench files are several GB; hashing them once per run would cost minutes. The sidecar is
    written atomically (a temporary file of this process, then a rename), so a concurrent reader
    never sees half of it.
    """
    from tqdm.auto import tqdm

    path = Path(path)
    st = path.stat()
    sidecar = path.with_name(f"{path.name}.{algorithm}.json")
    key = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    try:
        cached = json.loads(sidecar.read_text())
        if {k: cached.get(k) for k in key} == key:
            return cached[algorithm]
    except (OSError, ValueError, KeyError):
        pass
    h = hashlib.new(algorithm, usedforsecurity=False)
    with path.open("rb") as f, tqdm(total=st.st_size, unit="B", unit_scale=True, desc=f"{algorithm} {path.name}",
                                    disable=not progress) as bar:
        while block := f.read(chunk):
            h.update(block)
            bar.update(len(block))
    digest = h.hexdigest()
    tmp = sidecar.with_name(f".{sidecar.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({**key, algorithm: digest}))
        tmp.replace(sidecar)
    except OSError:
        tmp.unlink(missing_ok=True)
        log.debug("could not write checksum cache %s", sidecar)
    return digest


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file (cached, see :func:`cached_digest`)."""
    return cached_digest(path, "sha256")


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
    """The commit of the xbench source tree, with ``+dirty`` when its code (the package folders and
    pyproject.toml) has uncommitted changes; results, reports and data in the checkout do not count."""
    src = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=src, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ":/benchmark", ":/tasks",
             ":/pyproject.toml"], cwd=src, capture_output=True, text=True, timeout=5, check=True,
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
