"""Models trained on the target only, and the trivial baselines, behind the trainer's model contract.

The trainer drives any ``nn.Module`` that maps ``{"x": x}`` (normalised input) to ``{"y": y}``
(normalised output) and whose trainable parameters are grouped under ``embedder``, ``body`` and
``head``. FNO and U-Net are the whole ``body`` of a :class:`FieldModel`, so a ``fit`` phase trains
them like any other method (same loss, schedule, checkpoint selection on val).

Trivial baselines (no parameters, no training) say how hard a task is:

- ``input-mean``: ``y_hat[b, c, :] = mean over space of x[b, c, :]`` (per sample and channel);
- ``persistence``: ``y_hat = x`` (the target equals the input field, i.e. nothing happens).

``train-mean`` and ``linear`` (ridge regression) are fitted in closed form
(:mod:`xbench.models.linear`); they apply to every single-step task, Darcy included.

Both trivial ones work on de-normalised values: the model decodes its input with the task's input normaliser and
encodes its prediction with the output normaliser, so after the trainer decodes it the prediction is
exactly the mean or the input. They only make sense when input and target are the same physical
fields at two times: tasks whose input and target channels differ (other channels, or the Darcy
coefficient field as input of the pressure) are refused with a :class:`~xbench.errors.ConfigError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from xbench.errors import ConfigError
from xbench.models.fno import FNO
from xbench.models.unet import UNet

if TYPE_CHECKING:
    from xbench.data import TaskData
    from xbench.tasks.registry import TaskSpec

TRIVIAL = ("input-mean", "persistence")
CLOSED_FORM = ("train-mean", "linear")  # fitted in one solve (xbench.models.linear)
BASELINES = ("fno", "unet", *TRIVIAL, *CLOSED_FORM)
# the baselines a learned method must beat to have learned anything (leaderboard mark, xbench run default)
CHEAP = ("train-mean", "linear", "input-mean", "persistence")


class FieldModel(nn.Module):
    """A field-to-field network as the trainer's model: ``{"x": x} -> {"y": body(x)}``."""

    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"y": self.body(batch["x"])}


class TrivialModel(nn.Module):
    """``input-mean`` or ``persistence`` (module docstring), in normalised space."""

    def __init__(self, kind: str, data: TaskData):
        super().__init__()
        self.kind = kind
        for name, norm in (("x", data.x_norm), ("y", data.y_norm)):
            self.register_buffer(f"{name}_mean", norm.mean.clone())
            self.register_buffer(f"{name}_std", norm.std.clone())

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        x = batch["x"] * self.x_std + self.x_mean
        if self.kind == "input-mean":
            x = x.mean(dim=tuple(range(2, x.ndim)), keepdim=True).expand_as(x)
        return {"y": (x - self.y_mean) / self.y_std}


def same_fields_problem(spec: TaskSpec) -> str:
    """Why a task's input is not the same fields as its target ("" when it is)."""
    p = spec.protocol
    if spec.input_shape != spec.output_shape:
        return f"its input {spec.input_shape} and target {spec.output_shape} have different shapes"
    if p.get("input_channels") != p.get("target_channels"):
        return f"its input channels {p.get('input_channels')} differ from its target channels {p.get('target_channels')}"
    if p.get("input_fields") != p.get("target_fields"):
        return f"its input is the field {p.get('input_fields')} and its target the field {p.get('target_fields')}"
    return ""


def baseline_problem(kind: str, spec: TaskSpec) -> str:
    """Why baseline ``kind`` cannot run on task ``spec`` ("" when it can)."""
    spatial = spec.input_shape[1:]
    if kind in ("fno", "unet") and (len(spatial) not in (1, 2) or tuple(spatial) != tuple(spec.output_shape[1:])):
        return (f"{kind} maps 1D or 2D fields to fields on the same grid; task {spec.name} maps "
                f"{spec.input_shape} -> {spec.output_shape}")
    if kind in TRIVIAL and same_fields_problem(spec):
        return (f"the {kind} baseline predicts the target from the input's own values, which needs the same "
                f"fields in input and target; task {spec.name} does not qualify: {same_fields_problem(spec)}")
    if kind == "linear" and spec.protocol.get("variable_spatial"):
        return (f"the linear baseline maps a flattened input of one fixed size; task {spec.name} has samples on "
                "grids of different sizes")
    if kind in CLOSED_FORM and spec.protocol.get("name") == "autoregressive":
        return (f"the {kind} baseline is fitted in one solve on (input, target) pairs; task {spec.name} trains "
                "by rolling out trajectories, which a closed-form fit does not do")
    return ""


def build_baseline(kind: str, spec: TaskSpec, data: TaskData) -> nn.Module:
    """The model of a target-only method: ``fno``, ``unet``, ``input-mean``, ``persistence``,
    ``train-mean`` or ``linear``."""
    from xbench.models.linear import RidgeModel, TrainMeanModel

    if kind not in BASELINES:
        raise ConfigError(f"unknown model kind {kind!r}; known: crossmodal, {', '.join(BASELINES)}.")
    problem = baseline_problem(kind, spec)
    if problem:
        raise ConfigError(f"{problem}. Leave {kind} out for this task.")
    c_in, *spatial = spec.input_shape
    c_out = spec.output_shape[0]
    if kind == "fno":
        return FieldModel(FNO(c_in, c_out, tuple(spatial)))
    if kind == "unet":
        return FieldModel(UNet(c_in, c_out, len(spatial)))
    if kind == "train-mean":
        return TrainMeanModel(spec.output_shape, spec.kind, bool(spec.protocol.get("variable_spatial")))
    if kind == "linear":
        return RidgeModel(spec.input_shape, spec.output_shape, spec.kind)
    return TrivialModel(kind, data)
