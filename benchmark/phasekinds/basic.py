"""The basic phase kinds ``align`` and ``fit``; what they do is documented in :mod:`xbench.train`."""

from __future__ import annotations

from xbench.phasekinds import phase_kind
from xbench.train import Trainer


@phase_kind("align")
def align_phase(trainer: Trainer, phase, align_loss: str) -> None:
    trainer.align(align_loss, phase.trainable, by_class=phase.options.get("by_class", True))


@phase_kind("fit")
def fit_phase(trainer: Trainer, phase, align_loss: str) -> None:
    trainer.fit(phase.trainable)
