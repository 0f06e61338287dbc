"""PDEBench 2D task specs under ORCA's single-step protocol (docs/pdebench.md §3, §6).

ORCA's choices (``src/data_loaders.py::load_pde``, ``src/task_configs.py``, ``src/configs/PDE*.yaml``):

- PDE-Darcy: ``2D_DarcyFlow_beta0.1_Train.hdf5``, a -> u, ``reduced_resolution`` 2 (128^2 -> 64^2),
  single file: test = first 10 %; loss nRMSE; AdamW 1e-4, wd 1e-5, 100 epochs, no clipping.
- PDE-SW: ``2D_rdb_NA_NA.h5``, h(t=0) -> h(t=1) (``t_train`` 101: frame 100), 128^2, groups: test =
  last 10 % of the sorted keys; loss nRMSE; AdamW 1e-4, wd 0, 200 epochs, clip 1, warm-up 10.
- PDE-RD2D: ``2D_diff-react_NA_NA.h5``, frame 0 -> frame 100 (t=5), 128^2, last 10 % of keys; loss
  nRMSE; Adam 1e-4, wd 1e-3, 200 epochs, clip 1. ORCA's ``UNetDatasetMult.__getitem__`` takes
  channel 0 (u) of the input frame and channel 1 (v) of the target frame for two-channel data, so
  its task is u(0) -> v(5). ``pdebench-diff-react-2d`` keeps that quirk (comparable with ORCA's
  numbers); ``pdebench-diff-react-2d-uv`` is the corrected task (u, v)(0) -> (u, v)(5).
All use the CIFAR-10-aligned vision body in ORCA (``embedder_dataset: CIFAR10``, ``weight: base``),
60 embedder epochs, batch 4, ``target_seq_len`` 64.
"""

from __future__ import annotations

from xbench.tasks.pdebench.generate.darcy import generate_darcy
from xbench.tasks.pdebench.generate.diffreact2d import generate_diffreact2d
from xbench.tasks.pdebench.generate.swe import generate_swe
from xbench.tasks.pdebench.loaders import load_single_step
from xbench.tasks.pdebench.specs import DARUS, GENERATION_COST, METRICS_1D
from xbench.tasks.registry import DataFile, TaskSpec, register_task

METRICS_2D = METRICS_1D  # the PDEBench suite (tasks/pdebench/metrics.py handles (B, C, H, W)) + ORCA's nrmse
REFERENCE = "Takamoto et al., PDEBench (NeurIPS 2022 D&B); protocol of Shen et al., ORCA (ICML 2023)"
# PaRe's dense 2D constants (src/main_PaRe_dense.py, configs/darcy_PaRe.yaml: 1000 - 500 epoch/epochs of
# 3136 tokens, mixing weight 0.3, Gumbel before epoch 10); PaRe ships no PDE config
PARE_2D_PAPER = {"pare_tokens": 0, "pare_begin": 1000 / 3136, "pare_end": 500 / 3136, "pare_mix_weight": 0.3,
                 "pare_gumbel_epochs": 10, "embed_2d": "orca",
                 # RECRAFT's 2D source head: 10 CE + 10 hinge; its 2D FLD (Swin's pooled output) is not built
                 "source_head_epochs": 20, "source_hinge": True, "fld_reads": "features"}
ORCA_2D = {"n_samples": None, "batch_size": 4, "warmup_epochs": 5, "decay_epochs": 200, "align_steps": 60,
           "target_seq_len": 64, "lr": 1e-4, "embed_2d": "orca", **PARE_2D_PAPER}


def orca_2d_task(name: str, description: str, channels: tuple[int, int], cells: int, protocol: dict,
                 data: DataFile, generator, generator_params: dict, test_position: str, quick_samples: int,
                 paper: dict, grouped: bool = False) -> TaskSpec:
    """A PDEBench 2D task under ORCA's single-step protocol, (C, H, W) channels first. ``grouped``:
    split by distinct input field (:func:`xbench.data.split_indices`), so no test sample has a training twin."""
    return register_task(TaskSpec(
        name=name, version=1, family="pdebench", description=description, modality="2d",
        kind="dense-regression", input_shape=(channels[0], cells, cells), output_shape=(channels[1], cells, cells),
        loss="nrmse", metrics=METRICS_2D, main_metric="nrmse", protocol={"name": "orca-single-step", **protocol},
        data=data, loader=load_single_step, generator=generator, generator_params=generator_params,
        split={"test_fraction": 0.1, "test_position": test_position, "val_fraction": 0.1,
               **({"grouped": True} if grouped else {})},
        profiles={"quick": {"n_samples": quick_samples}, "paper": {**ORCA_2D, **paper},
                  # 128^2 fields: with 600 samples U-Net took 557 s and FNO 243 s (shallow water, 2-core CPU),
                  # past the cpu profile's 5 minutes per run; 300 samples halve that
                  **({"cpu": {"n_samples": 300}} if cells >= 128 else {})}, reference=REFERENCE,
        generation_cost=GENERATION_COST[data.path],
    ))


orca_2d_task(
    "pdebench-darcy", "2D Darcy flow, beta=0.1: coefficient a -> steady u, 128^2 strided to 64^2 (ORCA's PDE-Darcy)",
    (1, 1), 64, {"input_frame": 0, "target_frame": 1, "spatial_stride": 2, "input_fields": "a",
                "target_fields": "u"},
    DataFile(path="2D/DarcyFlow/2D_DarcyFlow_beta0.1_Train.hdf5", layout="pdebench-darcy", url=DARUS + "133218",
             n_samples=10000),
    generate_darcy, {"beta": 0.1, "nx": 128, "seed": 0}, "first", 200,
    {"optimizer": "adamw", "weight_decay": 1e-5, "epochs": 100, "clip": None})

# ORCA's split, and the same file with a split that has no train/test twins (issue 11's data card: in
# the published split most test samples have an identical initial field in training).
for name, description, grouped in (
        ("pdebench-shallow-water", "2D shallow water, radial dam break: h(t=0) -> h(t=1), 128^2 (ORCA's PDE-SW)",
         False),
        ("pdebench-shallow-water-grouped", "2D shallow water, radial dam break, split without leakage: whole groups "
         "of equal initial fields go to one split (PDEBench's file repeats initial conditions; xbench data card "
         "shows the twins)", True)):
    orca_2d_task(
        name, description,
        (1, 1), 128, {"input_frame": 0, "target_frame": 100, "target_time": 1.0, "spatial_stride": 1},
        DataFile(path="2D/shallow-water/2D_rdb_NA_NA.h5", layout="pdebench-groups", url=DARUS + "133021",
                 n_samples=1000),
        generate_swe, {"nx": 128, "n_frames": 101, "t_final": 1.0, "seed": 0}, "last", 100,
        {"optimizer": "adamw", "weight_decay": 0.0, "epochs": 200, "clip": 1.0, "warmup_epochs": 10}, grouped=grouped)

RD2D_FILE = DataFile(path="2D/diffusion-reaction/2D_diff-react_NA_NA.h5", layout="pdebench-groups",
                     url=DARUS + "133017", n_samples=1000)
RD2D_GEN = {"nx": 128, "n_frames": 101, "t_final": 5.0, "seed": 0}
RD2D_PAPER = {"optimizer": "adam", "weight_decay": 1e-3, "epochs": 200, "clip": 1.0}

# ORCA's quirk, kept for comparability: the input is channel 0 (u) at t=0, the target channel 1 (v) at t=5.
orca_2d_task(
    "pdebench-diff-react-2d",
    "2D diffusion-reaction (FitzHugh-Nagumo): u(t=0) -> v(t=5), 128^2 (ORCA's PDE-RD2D, keeping its quirk of "
    "predicting the other channel v from u; see pdebench-diff-react-2d-uv)",
    (1, 1), 128, {"input_frame": 0, "target_frame": 100, "target_time": 5.0, "spatial_stride": 1,
                  "input_channels": [0], "target_channels": [1]},
    RD2D_FILE, generate_diffreact2d, RD2D_GEN, "last", 100, RD2D_PAPER)

orca_2d_task(
    "pdebench-diff-react-2d-uv",
    "2D diffusion-reaction (FitzHugh-Nagumo): (u, v)(t=0) -> (u, v)(t=5), 128^2 (ORCA's PDE-RD2D with both "
    "channels in and out, the corrected form of its u -> v mapping)",
    (2, 2), 128, {"input_frame": 0, "target_frame": 100, "target_time": 5.0, "spatial_stride": 1},
    RD2D_FILE, generate_diffreact2d, RD2D_GEN, "last", 100, RD2D_PAPER)
