"""The NAS-Bench-360 family's plug-in to the harness (:class:`xbench.tasks.registry.Family`).

A task's files are its reader's ``FILES`` (``tasks/nasbench360/readers``), at their released paths
under the data root. NAS-Bench-360 publishes no checksums, so a real file is used as it is
(``data_source = nb360-file``) and a run records the SHA-256 of what it read: every listed file
(the safe ``.xbench.npz`` where ``xbench data convert`` wrote one); a folder tree (PSICOV's
proteins, Cosmic's exposures, FSD50K's wavs) is identified by the manifest files listed beside it
(``deepcov.lst``, ``train_dirs.npy``, ``tr.csv``, ...), not hashed file by file. Darcy's files can
be generated (:mod:`xbench.tasks.nasbench360.generate.darcy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xbench.errors import DataError
from xbench.tasks.nasbench360 import readers
from xbench.tasks.registry import Family, TaskSpec, register_family


@dataclass(frozen=True)
class Nb360Meta:
    """What ``inspect`` tells the locator: samples in the file (0 when only reading would tell) and
    whether xbench's generator wrote it."""

    n_samples: int
    generated: bool


def _short(spec: TaskSpec) -> str:
    return spec.protocol["reader"]


def _root(spec: TaskSpec, path: Path) -> Path:
    from xbench.tasks.nasbench360.loader import data_root_of

    return data_root_of(spec, path)


def inspect_darcy(path: Path) -> Nb360Meta:
    """Samples in both Darcy files (scipy's table of contents, no data read) and the generator stamp."""
    import scipy.io
    from scipy.io.matlab import MatReadError

    total, generated = 0, True
    for f in (path, path.with_name(readers.READERS["darcy"].FILES[1].path)):
        try:
            toc = {name: shape for name, shape, _ in scipy.io.whosmat(f)}
        except (MatReadError, ValueError, OSError, NotImplementedError) as e:
            raise DataError(f"{f} is not a readable MATLAB file ({e}); download it again, or delete it and run "
                            "`xbench data generate nb360-darcy`.") from None
        if "coeff" not in toc:
            raise DataError(f"{f} has no 'coeff' variable; is it a Darcy piececonst file?")
        total += toc["coeff"][0]
        generated &= "xbench_generator" in toc
    return Nb360Meta(total, generated)


def inspect_real(path: Path) -> Nb360Meta:
    if not path.exists():
        raise DataError(f"{path} does not exist; `xbench data info TASK` says where to get it.")
    return Nb360Meta(0, False)


def check_real(spec: TaskSpec, root: Path, allow_unverified: bool, progress: bool = True) -> str:
    return "nb360-file"


def missing(spec: TaskSpec, root: Path) -> str:
    absent = readers.missing_files(_short(spec), root)
    return readers.missing_message(_short(spec), root, absent) if absent else ""


def verify(spec: TaskSpec, root: Path, progress: bool = True) -> tuple[int, str]:
    """``xbench data verify``: are all the task's files there? (NAS-Bench-360 publishes no checksums.)"""
    absent = missing(spec, root)
    if absent:
        return 1, absent
    return 0, (f"{spec.name}: every file is present under {root}. NAS-Bench-360 publishes no checksums, so "
               "their content is not verified; runs record the SHA-256 of what they read.")


def info(spec: TaskSpec, root: Path) -> str:
    """``xbench data info``: each file the task needs, present or not, its size, source and place."""
    from xbench.tasks.datafiles import generated_files

    lines = []
    for f in readers.READERS[_short(spec)].FILES:
        path, conv = root / f.path, (root / f.converted if f.converted else None)
        state = "present" if path.exists() else "ABSENT"
        if conv is not None and conv.exists():
            state += f"; converted: {conv}"
        lines.append(f"  {f.path}: {state} ({f.size}) at {path}\n    from {f.url}" + (f"; {f.note}" if f.note else ""))
    for p in generated_files(spec, root):
        lines.append(f"  generated: {p.parent} ({inspect_darcy(p).n_samples} samples)")
    return "\n".join(lines)


def data_files(spec: TaskSpec, path: Path) -> list[Path]:
    """The files whose checksums make a run's ``data_sha256`` (module docstring)."""
    root = _root(spec, path)
    out = []
    for f in readers.READERS[_short(spec)].FILES:
        if f.converted and (root / f.converted).is_file():
            out.append(root / f.converted)
        elif (root / f.path).is_file():
            out.append(root / f.path)
    return out


def convert(spec: TaskSpec, root: Path) -> list[Path]:
    return readers.convert(_short(spec), root)


register_family(Family(
    name="nasbench360",
    layouts={f"nb360-{m}": (inspect_darcy if m == "darcy" else inspect_real) for m in readers._MODULES},
    check_real=check_real, verify=verify, info=info, data_files=data_files, convert=convert, missing=missing,
))
