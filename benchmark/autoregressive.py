r"""PDEBench's autoregressive protocol (docs/pdebench.md §5), for any model of any method.

A trajectory task holds whole trajectories ``(N, C, *X, T)`` (time last, frames strided by the
task's ``time_stride``). With ``k = initial_step``:

- **input** of one step: the last ``k`` frames, channels and time stacked as ``C*k`` channels
  (``(B, C*k, *X)``; channel-major: frame-minor), **output**: the next frame ``(B, C, *X)``;
- **training**: from the first ``k`` true frames, roll out to frame ``t_train`` feeding predictions
  back, loss = the sum over steps of the per-step loss (PDEBench's FNO training, full backpropagation
  through the roll-out);
- **evaluation**: roll out from the first ``k`` true frames to the LAST frame; metrics are computed
  per predicted frame on de-normalised fields and averaged over frames (PDEBench's ``if_mean``,
  context frames excluded as PDEBench does since 2024-10, spec §0.2).

Normalisation is per channel over samples, space and time (train split), the same map for input and
output frames, so a roll-out in normalised space is exact. Checkpoints are selected on the
validation roll-out; test is used once, at the end.

Memory: backpropagating through a roll-out keeps every step's activations; for 2D fields (e.g. 91
steps of an FNO at 128^2, batch 16: over 24 GB) the training roll-out recomputes each step's
activations in the backward pass instead (``torch.utils.checkpoint``; same gradients, one more
forward pass per step, memory of the step inputs plus one step: 3.1 GB there). A BatchNorm layer then updates its running
statistics twice per step, with the same batch statistics.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.checkpoint import checkpoint

from xbench.metrics import compute_metrics
from xbench.train import Trainer


def stack_window(window: torch.Tensor) -> torch.Tensor:
    """(B, C, *X, k) -> (B, C*k, *X), channel-major (channel c, frame j at index c*k + j)."""
    b, c, k = window.shape[0], window.shape[1], window.shape[-1]
    return window.movedim(-1, 2).reshape(b, c * k, *window.shape[2:-1])


def rollout(model: torch.nn.Module, traj: torch.Tensor, initial_step: int, n_frames: int,
            recompute: bool = False) -> torch.Tensor:
    """Predict frames ``initial_step .. n_frames-1`` from the first ``initial_step`` frames of ``traj``.

    ``traj`` (B, C, *X, T) with T >= initial_step; returns (B, C, *X, n_frames) whose first
    ``initial_step`` frames are the true context. ``recompute``: keep only each step's input for the
    backward pass and recompute its activations there (see the module docstring).
    """
    def step(window: torch.Tensor) -> torch.Tensor:
        return model({"x": stack_window(window)})["y"].unsqueeze(-1)

    recompute = recompute and torch.is_grad_enabled()
    window = traj[..., :initial_step]
    frames = [window]
    for _ in range(initial_step, n_frames):
        nxt = checkpoint(step, window, use_reentrant=False) if recompute else step(window)
        frames.append(nxt)
        window = torch.cat([window[..., 1:], nxt], dim=-1)
    return torch.cat(frames, dim=-1)


def frame_metrics(names: tuple[str, ...], pred: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """Every metric per frame of ``(B, C, *X, T')`` fields, averaged over frames."""
    per_frame = [compute_metrics(names, pred[..., t], target[..., t]) for t in range(pred.shape[-1])]
    return {n: float(np.mean([m[n] for m in per_frame])) for n in names}


class AutoregressiveTrainer(Trainer):
    """:class:`~xbench.train.Trainer` whose fitting step and evaluation roll out in time."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        p = self.spec.protocol
        self.initial_step, self.t_train = int(p["initial_step"]), int(p["t_train"])
        n_frames = self.data.x["train"].shape[-1]
        if not self.initial_step < min(self.t_train, n_frames):
            raise ValueError(f"{self.spec.name}: initial_step {self.initial_step} must be below t_train "
                             f"{self.t_train} and the {n_frames} frames of the data")
        self.t_train = min(self.t_train, n_frames)
        self.recompute = self.data.x["train"].ndim > 4  # (N, C, X, Y, T): 2D fields

    def batch_loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        traj = x.to(self.device)
        pred = rollout(self.model, traj, self.initial_step, self.t_train, self.recompute)
        if self.cfg.loss_space == "raw":  # the normaliser's (C, 1, ...) statistics fit whole trajectories
            pred, traj = self.data.y_norm.decode(pred), self.data.y_norm.decode(traj)
        steps = range(self.initial_step, self.t_train)
        return sum(self.loss_fn(pred[..., t], traj[..., t]) for t in steps)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Features of a trajectory's first input window (what alignment and the bound terms compare)."""
        return self.model.features(stack_window(x[..., :self.initial_step]).to(self.device))

    @torch.no_grad()
    def predict(self, split: str) -> torch.Tensor:
        """De-normalised roll-outs of a split, context frames included: (N, C, *X, T)."""
        self.model.eval()
        x = self._norm[split][0]
        out = [rollout(self.model, xb.to(self.device), self.initial_step, xb.shape[-1]).float().cpu()
               for xb in x.split(self.cfg.eval_batch_size)]
        return self.data.y_norm.decode(torch.cat(out))

    def evaluate(self, split: str, metrics: tuple[str, ...] | None = None) -> dict[str, float]:
        k = self.initial_step
        return frame_metrics(metrics or self.spec.metrics, self.predict(split)[..., k:], self.data.y[split][..., k:])
