"""Task registry: every task is one declarative :class:`TaskSpec`, registered by name.

A spec owns everything that defines the numbers a task produces: the data file and its layout,
the protocol (which input maps to which output), the split, the training loss, the metric suite
with directions, and per-profile hyper-parameters. Any change to data, split or metric bumps
``version``; results carry it so numbers from different versions are never ranked together.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xbench.registry import Registry

if TYPE_CHECKING:
    from xbench.data import TaskData

KINDS = ("dense-regression", "classification", "multi-label", "pixel-binary")


@dataclass(frozen=True)
class DataFile:
    """One real data file of a task, as its publisher distributes it.

    ``path`` is relative to the data root and mirrors the publisher's download layout, so a root
    filled by the publisher's own download script works as it is.
    """

    path: str
    layout: str
    url: str = ""
    md5: str = ""
    n_samples: int = 0


@dataclass(frozen=True)
class TaskSpec:
    """Declarative description of a task; see the module docstring."""

    name: str
    version: int
    family: str
    description: str
    modality: str  # "1d" or "2d"
    kind: str  # one of KINDS: what the harness builds (head, loss space, pseudo-labels, baselines)
    input_shape: tuple[int, ...]  # per sample, channels first
    output_shape: tuple[int, ...]
    loss: str  # a name in xbench.metrics.LOSSES
    metrics: tuple[str, ...]
    main_metric: str
    protocol: dict[str, Any]
    data: DataFile
    loader: Callable[..., TaskData]
    generator: Callable[..., Path] | None = None
    generator_params: dict[str, Any] = field(default_factory=dict)
    split: dict[str, Any] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    reference: str = ""
    # (MB per sample of the file, samples per second of xbench's generator on a 2-core CPU), for the
    # plan a paper-profile run prints before it generates a full-size file; (0, 0) when unknown
    generation_cost: tuple[float, float] = (0.0, 0.0)
    loss_options: dict[str, Any] = field(default_factory=dict)  # e.g. {"pos_weight": 10.0} for "bce"

    @property
    def can_generate(self) -> bool:
        return self.generator is not None

    @property
    def generator_version(self) -> str | None:
        """``GENERATOR_VERSION`` of the generator's module; generated data is stored under it, so a
        changed solver never reuses files written by an earlier one."""
        if self.generator is None:
            return None
        module = sys.modules[self.generator.__module__]
        if not hasattr(module, "GENERATOR_VERSION"):
            raise AttributeError(f"generator module {module.__name__} of task {self.name} defines no GENERATOR_VERSION")
        return str(module.GENERATOR_VERSION)

    def profile_overrides(self, profile: str) -> dict[str, Any]:
        return dict(self.profiles.get(profile, {}))

    def describe(self) -> dict[str, Any]:
        """A JSON-friendly summary (for ``xbench ls`` and run records)."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if callable(v):
                v = f"{v.__module__}.{v.__qualname__}"
            elif isinstance(v, DataFile):
                v = dataclasses.asdict(v)
            out[f.name] = v
        out["generator_version"] = self.generator_version
        return out


@dataclass(frozen=True)
class Family:
    """What a task family plugs into the harness, besides its task specs and metrics.

    ``layouts`` maps each file layout its tasks name (``DataFile.layout``) to ``inspect(path)``,
    which returns an object with ``n_samples`` and ``generated`` (whether xbench's generator wrote
    the file) or raises :class:`~xbench.errors.DataError`. ``check_real(spec, root, allow_unverified,
    progress) -> data_source`` vets a real (downloaded) file and returns the label its rows carry;
    ``verify(spec, root, progress) -> (exit code, message)`` is ``xbench data verify``; ``info(spec,
    root) -> str`` describes for ``xbench data info`` what a task needs, what is there and where the
    rest goes; ``data_files(spec, path) -> [Path]`` lists every file a run of the task reads (their
    checksums together are the run's ``data_sha256``; default: ``path`` itself); ``convert(spec,
    root) -> [Path]`` is ``xbench data convert`` (e.g. pickles to a format that cannot run code);
    ``missing(spec, root) -> str`` says which of a task's real files are absent, from where and where
    they go ("" when all are there; default: whether ``spec.data.path`` exists). The task's
    ``loader(spec, path, n_samples, *, source, sha256, allow_pickle)`` reads the splits.
    """

    name: str
    layouts: dict[str, Callable[[Path], Any]]
    check_real: Callable[..., str]
    verify: Callable[..., tuple[int, str]]
    info: Callable[[TaskSpec, Path], str]
    data_files: Callable[[TaskSpec, Path], list[Path]] | None = None
    convert: Callable[[TaskSpec, Path], list[Path]] | None = None
    missing: Callable[[TaskSpec, Path], str] | None = None


def load_families() -> None:
    """Import every task family (each subpackage of ``xbench.tasks``) so that it registers its
    family, specs and metrics; a new family is a new subpackage and needs no edit here."""
    import importlib
    import pkgutil

    import xbench.tasks

    for mod in pkgutil.iter_modules(xbench.tasks.__path__):
        if mod.ispkg:
            importlib.import_module(f"xbench.tasks.{mod.name}")


TASKS: Registry[TaskSpec] = Registry("task", "List them with `xbench ls tasks`.", load_families)
FAMILIES: Registry[Family] = Registry("task family", "", load_families)


LAYOUTS: Registry[Callable[[Path], Any]] = Registry("data layout", "", load_families)


def register_family(family: Family) -> Family:
    for name, inspect in family.layouts.items():
        LAYOUTS.register(name, inspect)
    return FAMILIES.register(family.name, family)


def register_task(spec: TaskSpec) -> TaskSpec:
    if spec.main_metric not in spec.metrics:
        raise ValueError(f"task {spec.name!r}: main metric {spec.main_metric!r} not in its metrics")
    if spec.kind not in KINDS:
        raise ValueError(f"task {spec.name!r}: kind {spec.kind!r} is not one of {KINDS}")
    return TASKS.register(spec.name, spec)


def get_task(name: str) -> TaskSpec:
    return TASKS[name]


def list_tasks() -> list[TaskSpec]:
    return [TASKS[k] for k in sorted(TASKS)]
