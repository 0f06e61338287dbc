"""Methods as recipes: a method is a list of phases plus the settings it changes.

A recipe says *what* happens (align the embedder with a distance, then fit everything; or fit a
randomly initialised body); the :class:`~xbench.train.Trainer` owns *how* each phase kind runs. The
question xbench exists for, how alignment and fitting should be combined, is answered by comparing
recipes under one protocol. Add a method by adding one small module that calls
:func:`register_method`; bump ``version`` whenever its behaviour changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xbench.registry import Registry


@dataclass(frozen=True)
class Phase:
    """One stage of a recipe. Kinds (registered in :mod:`xbench.phasekinds`):

    ``align`` (alignment loss vs the source reference), ``fit`` (target loss), ``source-head``
    (RECRAFT's tau-hinge source head), ``fld`` (feature-label distortion minimisation), ``joint``
    (target loss + lambda * alignment loss), ``pare`` (PaRe's patch replacement), ``lora`` (insert
    LoRA adapters into the body), ``adaptive-align`` (xbench-adaptive's bound-guided alignment).
    """

    kind: str
    trainable: tuple[str, ...] = ("embedder", "body", "head")  # model parts ("adapters": LoRA) that train
    uses_alignment: bool = False
    uses_source: bool = False  # needs the source reference without an alignment loss (source head, PaRe)
    options: dict[str, Any] = field(default_factory=dict)  # kind-specific settings (align: by_class)


@dataclass(frozen=True)
class MethodSpec:
    name: str
    version: int
    description: str
    reference: str
    pretrained: bool  # pretrained body weights (False: same architecture, random weights)
    phases: tuple[Phase, ...]
    align_loss: str = "none"  # default alignment loss of the align phases (``--align-loss`` overrides)
    overrides: dict[str, Any] = field(default_factory=dict)  # TrainConfig settings the method fixes
    # architecture (xbench.models.MODEL_KINDS): "crossmodal" (embedder -> body -> head) or a target-only
    # baseline, "fno", "unet", "input-mean", "persistence", "train-mean", "linear" (no body is loaded)
    model: str = "crossmodal"
    # the TrainConfig settings the method reads, where not all: the others are left out of its settings
    # hash and diff (a closed-form baseline is the same experiment whatever ``epochs`` says)
    reads: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.model != "crossmodal" and self.needs_source:
            raise ValueError(f"method {self.name!r}: only crossmodal models have an embedder to align")

    @property
    def aligns(self) -> bool:
        return any(p.uses_alignment for p in self.phases)

    @property
    def needs_source(self) -> bool:
        """Whether a phase needs the source reference (an alignment loss, the source head or its tokens)."""
        return any(p.uses_alignment or p.uses_source for p in self.phases)


DEFAULT_METHODS = ("scratch", "finetune", "orca")


def _ensure_loaded() -> None:
    from xbench.methods import finetune, linear_probe, mmd_align, orca, scratch  # noqa: F401
    from xbench.methods import baselines, fno, unet  # noqa: F401
    from xbench.methods import joint, lora, pare, recraft, xbench_adaptive  # noqa: F401


METHODS: Registry[MethodSpec] = Registry("method", "List them with `xbench ls methods`.", _ensure_loaded)


def register_method(spec: MethodSpec) -> MethodSpec:
    return METHODS.register(spec.name, spec)


def get_method(name: str) -> MethodSpec:
    return METHODS[name]


def list_methods() -> list[MethodSpec]:
    return [METHODS[k] for k in sorted(METHODS)]
