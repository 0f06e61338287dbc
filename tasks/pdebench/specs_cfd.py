"""PDEBench compressible Navier-Stokes tasks under ORCA's single-step protocol (docs/pdebench.md §3, §6).

ORCA's choices (``src/data_loaders.py::load_pde``, ``src/task_configs.py``, ``src/configs/PDE*CFD.yaml``):

- PDE-1DCFD ("Navier-Stokes"): ``1D_CFD_Rand_Eta0.1_Zeta0.1_periodic_Train.hdf5``, ``reduced_resolution``
  1, ``reduced_resolution_t`` 5 and ``t_train`` 100, which its loader clips to the 21 strided frames:
  the target is strided frame 20 = file frame 100 = t 1.0; input [rho, p, v_x](t=0). ORCA reshapes the
  (3, 1024) channels of a sample to one (1, 3072) sequence (density, pressure, velocity blocks);
  xbench keeps them as 3 channels of 1024 cells. ORCA's metric, the per-sample ||p - y|| / ||y|| of
  the flattened output, is the same number on either shape (``nrmse`` flattens channels first).
  Single file: test = first 10 %. Loss RMSE; AdamW 1e-4 (wd 1e-3), batch 4, clip 1, 200 epochs,
  60 embedder epochs with text alignment, ``target_seq_len`` 128.
- PDE-2DCFD: ``2D_CFD_Rand_M1.0_Eta0.1_Zeta0.1_periodic_128_Train.hdf5``, ``reduced_resolution`` 2
  (128^2 -> 64^2), ``t_train`` 21: (rho, p, v_x, v_y)(t=0) -> (t=1), frame 20. ORCA reads this file
  with ``UNetDatasetSingleLarge``, whose test set is the LAST 10 % of the samples (not PDEBench's
  first 10 % of single files); xbench follows ORCA. Loss nRMSE; AdamW 1e-3 (wd 1e-3), batch 4, clip 1,
  200 epochs, CIFAR-10-aligned vision body, ``target_seq_len`` 64.

ORCA normalises both tasks per position (UnitGaussianNormalizer on the training inputs, applied to the
targets too) and scores in that normalised space; xbench scores de-normalised fields (README,
Metrics), so its numbers are not directly comparable with ORCA's published 1D-CFD nRMSE (6.6e-2).
Generated data: :mod:`xbench.tasks.pdebench.generate.cfd` (PDEBench's viscous model and initial
conditions; figures in ``benchmarks/generator_cfd.py``).
"""

from __future__ import annotations

from xbench.tasks.pdebench.generate.cfd import generate_cfd1d, generate_cfd2d
from xbench.tasks.pdebench.loaders import load_single_step
from xbench.tasks.pdebench.specs import DARUS, GENERATION_COST, METRICS_1D
from xbench.tasks.pdebench.specs_2d import PARE_2D_PAPER
from xbench.tasks.pdebench.verify import manifest_md5
from xbench.tasks.registry import DataFile, TaskSpec, register_task

REFERENCE = "Takamoto et al., PDEBench (NeurIPS 2022 D&B); protocol of Shen et al., ORCA (ICML 2023)"
ORCA_PAPER = {"n_samples": None, "epochs": 200, "batch_size": 4, "clip": 1.0, "warmup_epochs": 5,
              "decay_epochs": 200, "align_steps": 60, "optimizer": "adamw", "weight_decay": 1e-3}
CFD1D_PATH = "1D/CFD/Train/1D_CFD_Rand_Eta0.1_Zeta0.1_periodic_Train.hdf5"
CFD2D_PATH = "2D/CFD/2D_Train_Rand/2D_CFD_Rand_M1.0_Eta0.1_Zeta0.1_periodic_128_Train.hdf5"

register_task(TaskSpec(
    name="pdebench-cfd1d", version=1, family="pdebench",
    description="1D compressible Navier-Stokes, eta=zeta=0.1, periodic: (rho, p, v)(t=0) -> (t=1), 1024 cells, "
                "3 channels (ORCA's PDE-1DCFD, which it calls Navier-Stokes)",
    modality="1d", kind="dense-regression", input_shape=(3, 1024), output_shape=(3, 1024), loss="rmse",
    metrics=METRICS_1D, main_metric="nrmse",
    protocol={"name": "orca-single-step", "input_frame": 0, "target_frame": 100, "target_time": 1.0,
              "spatial_stride": 1},
    data=DataFile(path=CFD1D_PATH, layout="pdebench-cfd", url=DARUS + "164668", md5=manifest_md5(CFD1D_PATH),
                  n_samples=10000),
    loader=load_single_step, generator=generate_cfd1d,
    generator_params={"eta": 0.1, "zeta": 0.1, "nx": 1024, "n_frames": 101, "t_final": 1.0, "seed": 0},
    split={"test_fraction": 0.1, "test_position": "first", "val_fraction": 0.1},
    profiles={"quick": {"n_samples": 48}, "cpu": {"n_samples": 300},  # generation: about 1 sample/s
              "paper": {**ORCA_PAPER, "lr": 1e-4, "target_seq_len": 128, "channels_1d": "flatten"}},
    reference=REFERENCE, generation_cost=GENERATION_COST[CFD1D_PATH],
))

register_task(TaskSpec(
    name="pdebench-cfd2d", version=1, family="pdebench",
    description="2D compressible Navier-Stokes, M=1.0, eta=zeta=0.1, periodic: (rho, p, vx, vy)(t=0) -> (t=1), "
                "128^2 strided to 64^2; test = last 10 % (ORCA's PDE-2DCFD)",
    modality="2d", kind="dense-regression", input_shape=(4, 64, 64), output_shape=(4, 64, 64), loss="nrmse",
    metrics=METRICS_1D, main_metric="nrmse",
    protocol={"name": "orca-single-step", "input_frame": 0, "target_frame": 20, "target_time": 1.0,
              "spatial_stride": 2},
    data=DataFile(path=CFD2D_PATH, layout="pdebench-cfd", url=DARUS + "164691", md5=manifest_md5(CFD2D_PATH),
                  n_samples=10000),
    loader=load_single_step, generator=generate_cfd2d,
    generator_params={"mach": 1.0, "eta": 0.1, "zeta": 0.1, "nx": 128, "n_frames": 21, "t_final": 1.0, "seed": 0},
    split={"test_fraction": 0.1, "test_position": "last", "val_fraction": 0.1},
    profiles={"quick": {"n_samples": 20}, "cpu": {"n_samples": 120},  # generation: about 0.1 sample/s
              "paper": {**ORCA_PAPER, "lr": 1e-3, "target_seq_len": 64, **PARE_2D_PAPER}},
    reference=REFERENCE, generation_cost=GENERATION_COST[CFD2D_PATH],
))
