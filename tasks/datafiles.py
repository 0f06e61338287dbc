"""Where task data lives, and how a task gets its file.

The data root is ``--data-root``, else ``$XBENCH_DATA``, else ``<user cache>/xbench/data``. A real
file (or folder) is looked up at ``<root>/<spec.data.path>`` (the publisher's own download layout);
on first use the task's family vets it (:class:`~xbench.tasks.registry.Family` ``check_real``; for
PDEBench, its MD5 against the manifest) and names the ``data_source`` its rows carry. Otherwise
a task that xbench can generate gets its data from xbench's solvers, written in exactly the real
layout under ``<root>/generated/<generator version>/n<samples>/<spec.data.path>`` and reused by later
runs (``data_source = "generated"``). The generator version and the sample count are part of the
path: a changed solver or a larger request writes a new file and leaves the old one (and the results
computed on it, which record its sha256) untouched.
"""

from __future__ import annotations

import logging
import os
import hashlib
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock

from xbench.data import TaskData
from xbench.errors import ConfigError, DataError
from xbench.provenance import sha256_file
from xbench.tasks.registry import FAMILIES, LAYOUTS, TaskSpec

log = logging.getLogger(__name__)

__all__ = ["LAYOUTS", "data_root", "data_sha256", "ensure_generated", "generated_files", "load_task_data", "locate",
           "located_sha256", "missing", "real_path"]


def data_root(value: str | Path | None = None) -> Path:
    if value:
        return Path(value).expanduser()
    if os.environ.get("XBENCH_DATA"):
        return Path(os.environ["XBENCH_DATA"]).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("xbench")) / "data"


def real_path(spec: TaskSpec, root: Path) -> Path:
    return root / spec.data.path


def generated_path(spec: TaskSpec, root: Path, n_samples: int) -> Path:
    return root / "generated" / str(spec.generator_version) / f"n{n_samples}" / spec.data.path


def generated_files(spec: TaskSpec, root: Path) -> list[Path]:
    """Every generated file of ``spec`` under ``root`` (one per sample count), fewest samples first."""
    if not spec.can_generate:
        return []
    base = root / "generated" / str(spec.generator_version)
    counts = sorted(int(d.name[1:]) for d in base.glob("n*") if d.name[1:].isdigit())
    return [p for n in counts if (p := generated_path(spec, root, n)).exists()]


def samples_needed(spec: TaskSpec, n_samples: int | None) -> int:
    return n_samples if n_samples is not None else spec.data.n_samples


def ensure_generated(spec: TaskSpec, root: Path, n_samples: int, progress: bool = True) -> Path:
    """The generated file of ``spec`` with exactly ``n_samples`` samples, generating it if needed.

    One file per sample count, written once and never changed: a run records the checksum of the
    file it read, and that file stays as it was when other counts are generated. Generation holds
    the file's lock (``<file>.lock``), so concurrent runs and ``xbench data generate`` write it once;
    the others wait and reuse it. A file that exists but does not open as the task's layout with
    ``n_samples`` samples is moved aside to ``<file>.corrupt-<time>`` (named in a warning) and
    generated again. Generators derive each chunk's random stream from (seed, chunk index), so the
    file for N samples starts with exactly the samples of the file for fewer.
    """
    if not spec.can_generate:
        raise DataError(
            f"task {spec.name} needs the file {real_path(spec, root)}, which is not there, and xbench "
            f"cannot generate its data. Download it ({spec.data.url or 'see the task reference'}) and "
            f"place it at that path, or point --data-root / XBENCH_DATA at the folder that holds it."
        )
    path = generated_path(spec, root, n_samples)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(path) + ".lock")
        lock.acquire()
    except OSError as e:
        raise DataError(f"cannot write generated data for {spec.name} under {root} ({e.strerror or e}). Point "
                        "--data-root (or XBENCH_DATA) at a writable folder.") from None
    try:
        if path.exists():
            try:
                meta = LAYOUTS[spec.data.layout](path)
                if meta.n_samples == n_samples and meta.generated:
                    return path
                problem = f"it holds {meta.n_samples} samples, not {n_samples}" if meta.generated else \
                    "it lacks xbench's generator stamp"
            except DataError as e:
                problem = str(e)
            aside = path.with_name(f"{path.name}.corrupt-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}")
            path.replace(aside)
            log.warning("generated file %s is damaged (%s); moved it to %s and generating it again", path,
                        problem, aside)
        log.info("generating %d samples for %s into %s", n_samples, spec.name, path)
        return spec.generator(path, n_samples=n_samples, progress=progress, **spec.generator_params)
    except OSError as e:
        raise DataError(f"writing generated data for {spec.name} to {path} failed ({e.strerror or e}); is the "
                        "disk full? Free space (or point --data-root at another folder) and run the command "
                        "again: generation resumes where it stopped.") from None
    finally:
        lock.release()


def check_real(spec: TaskSpec, root: Path, allow_unverified: bool, progress: bool = True) -> str:
    """The ``data_source`` of the real file of ``spec``, as its family vets it (a DataError when the
    file does not pass and ``allow_unverified`` is not set)."""
    return FAMILIES[spec.family].check_real(spec, root, allow_unverified, progress)


def data_sha256(spec: TaskSpec, path: Path) -> str:
    """The checksum a run records for its data: the file's SHA-256, or, for a task that reads several
    files (its family's ``data_files``), the SHA-256 of their names and SHA-256s in order."""
    hook = FAMILIES[spec.family].data_files
    files = hook(spec, path) if hook is not None else [path]
    if files == [path] and path.is_file():
        return sha256_file(path)
    lines = "".join(f"{f.relative_to(path.parent)} {sha256_file(f)}\n" for f in files)
    return hashlib.sha256(lines.encode()).hexdigest()


def missing(spec: TaskSpec, root: Path) -> str:
    """What of the task's real data is absent under ``root`` ("" when it is all there): the family's
    ``missing`` hook for tasks that read several files, else whether ``spec.data.path`` exists."""
    hook = FAMILIES[spec.family].missing
    if hook is not None:
        return hook(spec, root)
    real = real_path(spec, root)
    return "" if real.exists() else f"{real} is absent"


def locate(spec: TaskSpec, root: Path, n_samples: int | None, progress: bool = True,
           allow_unverified: bool = False) -> tuple[Path, str]:
    """(path, data_source) of the file a run of ``spec`` uses; see the module docstring."""
    real = real_path(spec, root)
    absent = missing(spec, root)
    if not absent:
        meta = LAYOUTS[spec.data.layout](real)
        if meta.generated:
            return real, "generated"
        return real, check_real(spec, root, allow_unverified, progress)
    if not spec.can_generate and FAMILIES[spec.family].missing is not None:
        raise DataError(absent)
    return ensure_generated(spec, root, samples_needed(spec, n_samples), progress), "generated"


def located_sha256(spec: TaskSpec, root: Path, n_samples: int | None, progress: bool = True,
                   allow_unverified: bool = False) -> str:
    """:func:`data_sha256` of the data a run of ``spec`` with ``n_samples`` reads (located or generated)."""
    return data_sha256(spec, locate(spec, root, n_samples, progress, allow_unverified)[0])


def load_task_data(spec: TaskSpec, root: Path, n_samples: int | None, progress: bool = True,
                   allow_unverified: bool = False, allow_pickle: bool = False) -> TaskData:
    """The task's splits. ``allow_pickle``: the user trusts the task's pickled files (families whose
    released files are Python pickles refuse them otherwise; see ``xbench data convert``)."""
    if n_samples is not None and n_samples < 1:
        raise ConfigError(f"n_samples must be a positive number, not {n_samples}.")
    path, source = locate(spec, root, n_samples, progress, allow_unverified)
    data = spec.loader(spec, path, n_samples, source=source, sha256=data_sha256(spec, path),
                       allow_pickle=allow_pickle)
    log.info("%s: %s data from %s, splits %s", spec.name, source, path, data.sizes())
    return data
