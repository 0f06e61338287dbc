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

from xbench.errors import unknown_name

if TYPE_CHECKING:
    from xbench.data import TaskData


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
    kind: str  # "dense-regression", "classification", "multi-label"
    input_shape: tuple[int, ...]  # per sample, channels first
    output_shape: tuple[int, ...]
    loss: str
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


_TASKS: dict[str, TaskSpec] = {}


def register_task(spec: TaskSpec) -> TaskSpec:
    if spec.name in _TASKS:
        raise ValueError(f"task {spec.name!r} is registered twice")
    if spec.main_metric not in spec.metrics:
        raise ValueError(f"task {spec.name!r}: main metric {spec.main_metric!r} not in its metrics")
    _TASKS[spec.name] = spec
    return spec


def load_families() -> None:
    """Import every task family so that its specs and metrics are registered."""
    from xbench.tasks import pdebench  # noqa: F401


def get_task(name: str) -> TaskSpec:
    load_families()
    if name not in _TASKS:
        raise unknown_name("task", name, _TASKS, "List them with `xbench ls tasks`.")
    return _TASKS[name]


def list_tasks() -> list[TaskSpec]:
    load_families()
    return [_TASKS[k] for k in sorted(_TASKS)]
