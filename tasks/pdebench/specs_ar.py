"""Autoregressive variants ``<task>-ar`` of the PDEBench tasks: PDEBench's own protocol (spec §6).

ORCA's protocol (the default task) maps u(t=0) to one later frame. PDEBench scores FNO and U-Net
differently: the model sees ``initial_step`` frames and predicts the next one, it is trained by
rolling out to frame ``t_train`` and scored by rolling out to the last frame (see
:mod:`xbench.autoregressive`). Each variant reads the same file as its parent task, strided as
PDEBench's ``config_*.yaml`` (``reduced_resolution``, ``reduced_resolution_t``), and is a task of
its own so that its numbers are never ranked with single-step ones. ``xbench run TASK --protocol
autoregressive`` runs it. Darcy has no autoregressive form (PDEBench scores it a -> u, "single").
The quick profile of the 2D variants uses 20 samples and 2 epochs (a 2D roll-out trains slowly on a
CPU: about 3 minutes for shallow water at that size).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from xbench.data import TaskData, split_indices
from xbench.tasks.registry import TASKS, TaskSpec, register_task

# parent task: (initial_step, t_train, spatial stride, time stride, channels) from PDEBench's
# models/config/args/config_*.yaml (docs/pdebench.md §5); batch sizes there go into the paper profile.
PDEBENCH_AR = {
    "pdebench-advection": (10, 200, 4, 5, 1, 50),
    "pdebench-burgers": (10, 200, 4, 5, 1, 50),
    "pdebench-burgers-nu0.001": (10, 200, 4, 5, 1, 50),
    "pdebench-diff-react": (5, 30, 4, 1, 1, 50),
    "pdebench-diff-sorp": (10, 101, 1, 1, 1, 50),
    "pdebench-cfd1d": (10, 100, 8, 5, 3, 100),
    "pdebench-cfd2d": (10, 21, 2, 1, 4, 20),
    "pdebench-diff-react-2d": (10, 101, 1, 1, 2, 5),
    "pdebench-shallow-water": (10, 101, 1, 1, 1, 5),
}
AR_METRICS = ("pdebench_nrmse", "pdebench_rmse", "pdebench_crmse", "pdebench_brmse", "pdebench_max",
              "pdebench_frmse_low", "pdebench_frmse_mid", "pdebench_frmse_high", "nrmse")


def load_trajectories(spec: TaskSpec, path: Path, n_samples: int | None, *, source: str,
                      sha256: str, allow_pickle: bool = False) -> TaskData:
    """Whole trajectories (N, C, *X, T), every ``time_stride``-th frame, strided in space (HDF5:
    ``allow_pickle`` changes nothing)."""
    from xbench.tasks.pdebench.layouts import inspect, read_frames

    p = spec.protocol
    meta = inspect(path, spec.data.layout)
    frames = list(range(0, meta.n_frames, p["time_stride"]))
    arr = read_frames(meta, frames, n_samples)  # (n, T, C, *X)
    s = p["spatial_stride"]
    arr = arr[(Ellipsis,) + tuple(slice(None, None, s) for _ in range(arr.ndim - 3))]
    traj = torch.from_numpy(np.ascontiguousarray(np.moveaxis(arr, 1, -1)))
    idx = split_indices(len(traj), **spec.split)
    x = {k: traj[i].clone() for k, i in idx.items()}
    return TaskData(spec.name, x, dict(x), source, str(path), sha256, meta.n_samples)


def register_autoregressive(parent: TaskSpec, initial_step: int, t_train: int, spatial_stride: int,
                            time_stride: int, channels: int, batch: int) -> TaskSpec:
    """Register ``<parent>-ar``: same file, generator and split; PDEBench's protocol and metrics."""
    full = [n * parent.protocol.get("spatial_stride", 1) for n in parent.input_shape[1:]]
    spatial = tuple(n // spatial_stride for n in full)
    quick = dict(parent.profiles.get("quick", {}))
    if len(spatial) == 2:  # a 2D roll-out of up to 91 steps costs ~0.06 s per sample and step on a 2-core CPU
        quick.update(n_samples=min(quick.get("n_samples") or 20, 20), epochs=2)
    paper = {"n_samples": None, "epochs": 500, "batch_size": batch, "optimizer": "adam", "lr": 1e-3,
             "weight_decay": 1e-4, "schedule": "step", "step_epochs": 100, "step_gamma": 0.5, "clip": None}
    return register_task(dataclasses.replace(
        parent, name=f"{parent.name}-ar", version=2,  # v2: the paper profile uses PDEBench's StepLR(100, 0.5)
        description=f"{parent.description.split(':')[0]}: PDEBench's autoregressive protocol "
                    f"({initial_step} frames in, roll-out to the last frame)",
        input_shape=(channels * initial_step, *spatial), output_shape=(channels, *spatial), loss="mse",
        metrics=AR_METRICS, main_metric="pdebench_nrmse",
        protocol={"name": "autoregressive", "initial_step": initial_step, "t_train": t_train,
                  "spatial_stride": spatial_stride, "time_stride": time_stride},
        loader=load_trajectories,
        profiles={"quick": quick, "paper": paper},
        reference="Takamoto et al., PDEBench (NeurIPS 2022 D&B), models/config/args (autoregressive training)",
    ))


for _name, _cfg in PDEBENCH_AR.items():
    if TASKS.peek(_name) is not None:
        register_autoregressive(TASKS.peek(_name), *_cfg)
