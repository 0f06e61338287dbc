"""Phase kinds: the stages a method's recipe (:mod:`xbench.methods`) is made of.

A phase kind is ``fn(trainer, phase, align_loss) -> None`` registered by name in :data:`PHASES`;
``basic`` holds ``align`` and ``fit`` (thin wrappers of :class:`xbench.train.Trainer`), ``terms``
the fit terms and extra stages (``source-head``, ``fld``, ``joint``, ``lora``, ``adaptive-align``,
``closed-form``), ``pare`` PaRe's patch replacement. These modules import the trainer; the trainer
never imports them.
"""

from __future__ import annotations

from collections.abc import Callable

from xbench.registry import Registry


def _load() -> None:
    from xbench.phasekinds import basic, pare, terms  # noqa: F401  (registration)


PHASES: Registry[Callable[..., None]] = Registry("phase kind", "Phase kinds are listed in xbench.methods.", _load)


def phase_kind(kind: str):
    """Register ``fn(trainer, phase, align_loss)`` as the implementation of phase kind ``kind``."""
    return PHASES.decorator(kind)


def get_phase(kind: str) -> Callable[..., None]:
    """The implementation of phase kind ``kind``."""
    return PHASES[kind]


def run_phases(trainer, phases, align_loss: str, source) -> None:
    """Run a recipe's phases in order on ``trainer`` (an :class:`xbench.train.Trainer`), tracking the
    bound around them."""
    trainer.set_source(source)
    impls = [get_phase(phase.kind) for phase in phases]
    if phases:
        trainer.track("init", 0, 0)
    for phase, impl in zip(phases, impls):
        impl(trainer, phase, align_loss)
    if phases:
        trainer.track("final", 0, 0)
