"""Where task data lives, and how a task gets its file.

The data root is ``--data-root``, else ``$XBENCH_DATA``, else ``<user cache>/xbench/data``. A real
file is looked up at ``<root>/<spec.data.path>`` (the publisher's own download layout) and used when
present (``data_source = "pdebench-file"``). Otherwise a task that xbench can generate gets its data
from xbench's solvers, written in exactly the real layout under
``<root>/generated/<generator version>/<spec.data.path>`` and reused by later runs (``data_source =
"generated"``). The generator version is part of the path: a changed solver writes a new file and
leaves the old one (and the results computed on it, which record its sha256) untouched.
"""

from __future__ import annotations

import logging
import os
from functools import partial
from pathlib import Path

from xbench.data import TaskData
from xbench.errors import ConfigError, DataError
from xbench.provenance import sha256_file
from xbench.tasks.pdebench import layouts
from xbench.tasks.registry import TaskSpec

log = logging.getLogger(__name__)

# layout name -> inspect(path) -> FileMeta (.n_samples, .generated, ...); see tasks/pdebench/layouts.py
LAYOUTS = {name: partial(layouts.inspect, layout=name) for name in layouts.LAYOUTS}


def data_root(value: str | Path | None = None) -> Path:
    if value:
        return Path(value).expanduser()
    if os.environ.get("XBENCH_DATA"):
        return Path(os.environ["XBENCH_DATA"]).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("xbench")) / "data"


def real_path(spec: TaskSpec, root: Path) -> Path:
    return root / spec.data.path


def generated_path(spec: TaskSpec, root: Path) -> Path:
    return root / "generated" / str(spec.generator_version) / spec.data.path


def samples_needed(spec: TaskSpec, n_samples: int | None) -> int:
    return n_samples if n_samples is not None else spec.data.n_samples


def ensure_generated(spec: TaskSpec, root: Path, n_samples: int, progress: bool = True) -> Path:
    """The generated file of ``spec`` with at least ``n_samples`` samples, generating it if needed.

    Generators derive each chunk's random stream from (seed, chunk index), so a larger file starts
    with exactly the samples of a smaller one: growing a file never changes earlier samples.
    """
    if not spec.can_generate:
        raise DataError(
            f"task {spec.name} needs the file {real_path(spec, root)}, which is not there, and xbench "
            f"cannot generate its data. Download it ({spec.data.url or 'see the task reference'}) and "
            f"place it at that path, or point --data-root / XBENCH_DATA at the folder that holds it."
        )
    path = generated_path(spec, root)
    if path.exists():
        meta = LAYOUTS[spec.data.layout](path)
        if meta.n_samples >= n_samples:
            return path
        log.info("%s holds %d samples; regenerating with %d", path, meta.n_samples, n_samples)
    path.parent.mkdir(parents=True, exist_ok=True)
    log.info("generating %d samples for %s into %s", n_samples, spec.name, path)
    return spec.generator(path, n_samples=n_samples, progress=progress, **spec.generator_params)


def locate(spec: TaskSpec, root: Path, n_samples: int | None, generate: bool = True,
           progress: bool = True) -> tuple[Path, str]:
    """(path, data_source) of the file a run of ``spec`` uses; see the module docstring."""
    real = real_path(spec, root)
    if real.exists():
        meta = LAYOUTS[spec.data.layout](real)
        return real, "generated" if meta.generated else "pdebench-file"
    if not generate:
        gen = generated_path(spec, root)
        if gen.exists():
            return gen, "generated"
        raise DataError(f"no data for {spec.name}: neither {real} nor {gen} exists. Run `xbench data generate {spec.name}`.")
    return ensure_generated(spec, root, samples_needed(spec, n_samples), progress), "generated"


def load_task_data(spec: TaskSpec, root: Path, n_samples: int | None, progress: bool = True) -> TaskData:
    if n_samples is not None and n_samples < 1:
        raise ConfigError(f"n_samples must be a positive number, not {n_samples}.")
    path, source = locate(spec, root, n_samples, progress=progress)
    data = spec.loader(spec, path, n_samples, source=source, sha256=sha256_file(path))
    log.info("%s: %s data from %s, splits %s", spec.name, source, path, data.sizes())
    return data
