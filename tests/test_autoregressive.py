"""PDEBench's autoregressive protocol: window stacking, roll-out, training and frame-averaged metrics."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from xbench.autoregressive import AutoregressiveTrainer, frame_metrics, rollout, stack_window
from xbench.config import TrainConfig
from xbench.data import TaskData
from xbench.tasks.registry import DataFile, TaskSpec


class ShiftNet(nn.Module):
    """A periodic linear stencil on the last input frame: can represent a one-cell shift exactly."""

    def __init__(self, k: int):
        super().__init__()
        self.k = k
        self.head = nn.Conv1d(k, 1, kernel_size=3, padding=1, padding_mode="circular", bias=False)
        nn.init.zeros_(self.head.weight)

    def forward(self, batch):
        return {"y": self.head(batch["x"])}


def spec(initial_step: int, t_train: int) -> TaskSpec:
    return TaskSpec(
        name="toy-ar", version=1, family="test", description="toy", modality="1d", kind="dense-regression",
        input_shape=(initial_step, 32), output_shape=(1, 32), loss="mse",
        metrics=("pdebench_nrmse", "pdebench_rmse", "pdebench_max"), main_metric="pdebench_nrmse",
        protocol={"name": "autoregressive", "initial_step": initial_step, "t_train": t_train,
                  "spatial_stride": 1, "time_stride": 1},
        data=DataFile(path="toy.h5", layout="pdebench-1d"), loader=lambda *a, **k: None)


def shifting_waves(n: int, nx: int = 32, nt: int = 12, seed: int = 0) -> torch.Tensor:
    """u(x, t) = a sin(2 pi (x - t dx) + phi) + b on nx cells: a one-cell shift per frame, (n, 1, nx, nt)."""
    g = torch.Generator().manual_seed(seed)
    a, phi, b = torch.rand(n, generator=g) + 0.5, torch.rand(n, generator=g) * 6.28, torch.rand(n, generator=g)
    x = torch.arange(nx) / nx
    t = torch.arange(nt)
    u = a[:, None, None] * torch.sin(2 * math.pi * (x[None, :, None] - t[None, None, :] / nx) + phi[:, None, None])
    return (u + 1.5 + b[:, None, None]).unsqueeze(1).float()


def toy_data(n: int = 40) -> TaskData:
    traj = shifting_waves(n)
    idx = {"train": slice(8, 36), "val": slice(36, 40), "test": slice(0, 8)}
    x = {k: traj[i].clone() for k, i in idx.items()}
    return TaskData("toy-ar", x, dict(x), "generated", "toy.h5", "0" * 64, n)


def test_stack_window_is_channel_major():
    w = torch.arange(2 * 3 * 4).reshape(1, 2, 4, 3).float()  # (B, C=2, X=4, k=3)
    s = stack_window(w)
    assert s.shape == (1, 6, 4)
    for c in range(2):
        for j in range(3):
            assert torch.equal(s[0, c * 3 + j], w[0, c, :, j])


def test_rollout_keeps_context_and_feeds_predictions_back():
    traj = torch.randn(2, 1, 8, 6)

    class AddOne(nn.Module):
        def forward(self, batch):
            return {"y": batch["x"][:, -1:] + 1}  # last frame + 1

    out = rollout(AddOne(), traj, initial_step=2, n_frames=6)
    assert out.shape == (2, 1, 8, 6)
    assert torch.equal(out[..., :2], traj[..., :2])
    for t in range(2, 6):  # each prediction is built on the previous prediction, not on the truth
        assert torch.allclose(out[..., t], traj[..., 1] + (t - 1))


def test_recomputed_rollout_has_the_same_values_and_gradients():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.GELU(), nn.Conv2d(8, 1, 3, padding=1))
    model = lambda batch: {"y": net(batch["x"])}  # noqa: E731
    traj = torch.randn(2, 1, 6, 6, 9)
    grads, losses = [], []
    for recompute in (False, True):
        net.zero_grad()
        loss = rollout(model, traj, 3, 9, recompute=recompute).square().mean()
        loss.backward()
        losses.append(loss.detach())
        grads.append(torch.cat([p.grad.flatten() for p in net.parameters()]))
    assert torch.equal(losses[0], losses[1]) and torch.allclose(grads[0], grads[1], rtol=1e-5, atol=1e-7)
    assert grads[0].abs().sum() > 0


def test_frame_metrics_average_over_frames():
    y = torch.rand(4, 1, 16, 3) + 1
    p = y.clone()
    p[..., 1] *= 1.1  # only frame 1 is wrong, by 10 %
    m = frame_metrics(("pdebench_nrmse",), p, y)
    assert m["pdebench_nrmse"] == pytest.approx(0.1 / 3, rel=1e-6)


def test_autoregressive_training_learns_the_shift_and_scores_only_predicted_frames():
    torch.manual_seed(0)
    data = toy_data()
    cfg = TrainConfig(epochs=30, batch_size=8, lr=3e-2, warmup_epochs=0, eval_batch_size=16)
    trainer = AutoregressiveTrainer(ShiftNet(2), data, spec(2, 6), cfg, torch.device("cpu"), seed=0)
    before = trainer.evaluate("test")["pdebench_nrmse"]
    trainer.fit(("head",))
    after = trainer.evaluate("test")
    assert after["pdebench_nrmse"] < 0.2 * before
    pred = trainer.predict("test")
    assert pred.shape == data.y["test"].shape
    assert torch.allclose(pred[..., :2], data.y["test"][..., :2], atol=1e-5)  # context is the truth, unscored


def test_initial_step_must_leave_frames_to_predict():
    with pytest.raises(ValueError, match="initial_step"):
        AutoregressiveTrainer(ShiftNet(12), toy_data(), spec(12, 12), TrainConfig(), torch.device("cpu"), seed=0)
