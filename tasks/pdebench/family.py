"""The PDEBench family's plug-in to the harness (:class:`xbench.tasks.registry.Family`): its file
layouts, how a downloaded file is vetted (MD5 against PDEBench's manifest), and what
``xbench data info`` / ``xbench data verify`` print for its tasks."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from xbench.errors import DataError
from xbench.tasks.pdebench import layouts
from xbench.tasks.registry import Family, TaskSpec, register_family

log = logging.getLogger(__name__)

_WARNED: set[Path] = set()  # real files already reported as unverified by this process


def check_real(spec: TaskSpec, root: Path, allow_unverified: bool, progress: bool = True) -> str:
    """``pdebench-file`` when the file's MD5 matches PDEBench's manifest (cached by size and mtime),
    ``pdebench-file-unverified`` when it does not (or the manifest has no entry) and
    ``allow_unverified`` is set; a DataError otherwise."""
    from xbench.tasks.pdebench.verify import verify

    verdict = verify(spec, root, progress=progress)
    if verdict.status == "match":
        return "pdebench-file"
    if allow_unverified:
        if verdict.path not in _WARNED:
            _WARNED.add(verdict.path)
            log.warning("using %s unverified: %s", verdict.path, verdict.message)
        return "pdebench-file-unverified"
    raise DataError(f"{verdict.message} To use this file anyway, pass --allow-unverified-data; its rows then "
                    "record data_source=pdebench-file-unverified. To use xbench-generated data instead, move the "
                    "file away.")


def verify(spec: TaskSpec, root: Path, progress: bool = True) -> tuple[int, str]:
    """``xbench data verify``: (exit code, message) of the MD5 check."""
    from xbench.tasks.pdebench.verify import verify as md5_verify

    verdict = md5_verify(spec, root, progress=progress)
    return verdict.exit_code, f"{spec.name}: {verdict.status}: {verdict.message}"


def info(spec: TaskSpec, root: Path) -> str:
    """``xbench data info``: the real file and every generated file, with sizes and checksums."""
    from xbench.provenance import sha256_file
    from xbench.tasks.datafiles import generated_files, real_path

    lines = []
    found = [("real file", real_path(spec, root))] + [("generated", p) for p in generated_files(spec, root)]
    for label, path in found:
        if path.exists():
            meta = layouts.inspect(path, spec.data.layout)
            grid = "x".join(map(str, meta.spatial))
            lines.append(f"  {label}: {path}\n    {meta.n_samples} samples x {meta.n_frames} frames x {grid} cells x "
                         f"{len(meta.channels)} channel(s) {', '.join(meta.channels)}, "
                         f"attrs {meta.attrs}\n    sha256 {sha256_file(path)}")
        else:
            lines.append(f"  {label}: {path} (absent)")
    if len(found) == 1 and spec.can_generate:
        lines.append(f"  generated: none yet under {root / 'generated' / str(spec.generator_version)}")
    if spec.data.url:
        lines.append(f"  download: {spec.data.url} -> place at {real_path(spec, root)}")
    return "\n".join(lines)


register_family(Family(
    name="pdebench", layouts={name: partial(layouts.inspect, layout=name) for name in layouts.LAYOUTS},
    check_real=check_real, verify=verify, info=info,
))
