"""PDEBench task specs (docs/pdebench.md §3, §6). Protocols follow ORCA unless the name says otherwise.

ORCA's single-step protocol maps the initial condition u(t=0) to one fixed later frame; its splits
are PDEBench's (first 10 % of a single-file dataset is test). xbench adds a validation split carved
from train (last 10 %) and selects checkpoints on it, never on test.
"""

from __future__ import annotations

from xbench.tasks.pdebench import generate
from xbench.tasks.pdebench.generate.diffsorp import generate_diffsorp
from xbench.tasks.pdebench.generate.reacdiff1d import generate_reacdiff
from xbench.tasks.pdebench.loaders import load_single_step
from xbench.tasks.pdebench.verify import manifest_md5
from xbench.tasks.registry import DataFile, TaskSpec, register_task

DARUS = "https://darus.uni-stuttgart.de/api/access/datafile/"
# file path: (MB per sample = frames x cells x channels x 4 bytes, xbench's generator in samples/s on an
# idle 2-core CPU, README "Generated data")
GENERATION_COST = {
    "1D/Burgers/Train/1D_Burgers_Sols_Nu1.0.hdf5": (0.82, 73.0),
    "1D/Burgers/Train/1D_Burgers_Sols_Nu0.001.hdf5": (0.82, 9.6),
    "1D/Advection/Train/1D_Advection_Sols_beta0.4.hdf5": (0.82, 55.0),
    "1D/ReactionDiffusion/Train/ReacDiff_Nu0.5_Rho1.0.hdf5": (0.41, 473.0),
    "1D/diffusion-sorption/1D_diff-sorp_NA_NA.h5": (0.41, 39.0),
    "1D/CFD/Train/1D_CFD_Rand_Eta0.1_Zeta0.1_periodic_Train.hdf5": (1.24, 1.09),
    "2D/DarcyFlow/2D_DarcyFlow_beta0.1_Train.hdf5": (0.13, 39.0),
    "2D/shallow-water/2D_rdb_NA_NA.h5": (6.6, 5.9),
    "2D/diffusion-reaction/2D_diff-react_NA_NA.h5": (13.2, 8.9),
    "2D/CFD/2D_Train_Rand/2D_CFD_Rand_M1.0_Eta0.1_Zeta0.1_periodic_128_Train.hdf5": (5.5, 0.105),
}
METRICS_1D = ("nrmse", "pdebench_nrmse", "pdebench_rmse", "pdebench_crmse", "pdebench_brmse", "pdebench_max",
              "pdebench_frmse_low", "pdebench_frmse_mid", "pdebench_frmse_high")


def orca_1d_task(name: str, version: int, description: str, path: str, darus_id: str, cells: int, stride: int,
                 loss: str, generator_params: dict, paper: dict, *, target_frame: int = 200, t_final: float = 2.0,
                 n_frames: int = 201, generator=generate.generate_1d, layout: str = "pdebench-1d",
                 test_position: str = "first") -> TaskSpec:
    """A PDEBench 1D task under ORCA's single-step protocol: u(t=0) -> u(t=target_frame * t_final / (n_frames - 1)).

    Defaults: Advection and Burgers, u(t=0) -> u(t=2) (frame 200 of 201), layout A, test = first 10 %.
    """
    target_time = round(target_frame * t_final / (n_frames - 1), 10)
    return register_task(TaskSpec(
        name=name, version=version, family="pdebench", description=description, modality="1d",
        kind="dense-regression", input_shape=(1, cells // stride), output_shape=(1, cells // stride), loss=loss,
        metrics=METRICS_1D, main_metric="nrmse",
        protocol={"name": "orca-single-step", "input_frame": 0, "target_frame": target_frame,
                  "target_time": target_time, "spatial_stride": stride},
        data=DataFile(path=path, layout=layout, url=DARUS + darus_id, md5=manifest_md5(path), n_samples=10000),
        loader=load_single_step, generator=generator,
        generator_params={**generator_params, "nx": cells, "n_frames": n_frames, "t_final": t_final, "seed": 0},
        split={"test_fraction": 0.1, "test_position": test_position, "val_fraction": 0.1},
        profiles={"quick": {"n_samples": 320},
                  "paper": {"n_samples": None, "epochs": 200, "batch_size": 4, "clip": 1.0, "warmup_epochs": 5,
                            "decay_epochs": 200, "align_steps": 60, **paper}},
        reference="Takamoto et al., PDEBench (NeurIPS 2022 D&B); protocol of Shen et al., ORCA (ICML 2023)",
        generation_cost=GENERATION_COST[path],
    ))


# ORCA src/configs/PDEBG.yaml (docs/methods.md §2.6): Adam 1e-5 (wd 1e-5), bs 4, clip 1, 200 epochs, 60 alignment
# steps, warmup 5 / decay 200; loss RMSE. v2: the full PDEBench metric suite is recorded. Its target_seq_len
# 128 applies to the 256-point sample shape ORCA declares (patch 2), while the data has 1024 points: ORCA
# runs 512 tokens of 2 points, which target_seq_len 512 reproduces here (docs/parity.md).
orca_1d_task("pdebench-burgers", 2,
             "1D Burgers, nu=1.0 (diffusion nu/pi): u(t=0) -> u(t=2), 1024 cells (ORCA's PDE-Burgers)",
             "1D/Burgers/Train/1D_Burgers_Sols_Nu1.0.hdf5", "281365", cells=1024, stride=1, loss="rmse",
             generator_params={"pde": "burgers", "nu": 1.0},
             paper={"optimizer": "adam", "lr": 1e-5, "weight_decay": 1e-5, "target_seq_len": 512})

# ORCA src/configs/PDEADV.yaml: Adam 1e-4 (wd 1e-5), bs 4, clip 1, 200 epochs, 60 alignment steps,
# target_seq_len 512, warmup 5 / decay 200; loss nRMSE.
orca_1d_task("pdebench-advection", 1,
             "1D Advection, beta=0.4: u(t=0) -> u(t=2), 1024 cells strided to 256 (ORCA's PDE-ADV)",
             "1D/Advection/Train/1D_Advection_Sols_beta0.4.hdf5", "255674", cells=1024, stride=4, loss="nrmse",
             generator_params={"pde": "advection", "beta": 0.4},
             paper={"optimizer": "adam", "lr": 1e-4, "weight_decay": 1e-5, "target_seq_len": 512})

# Not an ORCA task (UPS trains on this file); ORCA's Burgers protocol and config (PDEBG.yaml) applied to it.
orca_1d_task("pdebench-burgers-nu0.001", 1,
             "1D Burgers, nu=0.001 (diffusion nu/pi; shocks): u(t=0) -> u(t=2), 1024 cells (ORCA's Burgers protocol)",
             "1D/Burgers/Train/1D_Burgers_Sols_Nu0.001.hdf5", "268190", cells=1024, stride=1, loss="rmse",
             generator_params={"pde": "burgers", "nu": 0.001},
             paper={"optimizer": "adam", "lr": 1e-5, "weight_decay": 1e-5, "target_seq_len": 512})

# ORCA's PDE-RD (src/data_loaders.py: t_train 30, no time stride -> frame 29; src/configs/PDERD.yaml: SGD 1e-3,
# momentum 0.99, wd 1e-5, bs 4, clip 1, 200 epochs, target_seq_len 256; loss nRMSE). ORCA's released loader
# builds its test set with the default t_train = 100, i.e. scores frame 99 (t=0.99) with a model trained for
# frame 29; the two fields differ by far more than the published nRMSE (3.2e-3), so xbench scores frame 29.
orca_1d_task("pdebench-diff-react", 1,
             "1D diffusion-reaction, nu=0.5 rho=1: u(t=0) -> u(t=0.29), 1024 cells (ORCA's PDE-RD)",
             "1D/ReactionDiffusion/Train/ReacDiff_Nu0.5_Rho1.0.hdf5", "133177", cells=1024, stride=1,
             loss="nrmse", generator_params={"nu": 0.5, "rho": 1.0},
             paper={"optimizer": "sgd", "lr": 1e-3, "momentum": 0.99, "weight_decay": 1e-5, "target_seq_len": 256},
             target_frame=29, t_final=1.0, n_frames=101, generator=generate_reacdiff)

# ORCA's PDE-DS (t_train 101 -> frame 100; src/configs/PDEDS.yaml: AdamW 1e-4, wd 0, bs 4, clip 1, 200 epochs,
# target_seq_len 32; loss nRMSE). PDEBench's initial condition is a constant field, so the input is one number
# per sample: ORCA's task as published. Its released test loader reads frame 99 (t=495; default t_train = 100);
# xbench scores frame 100, the frame it trains on.
orca_1d_task("pdebench-diff-sorp", 1,
             "1D diffusion-sorption: u(t=0) -> u(t=500), 1024 cells; u(t=0) is a constant U(0, 0.2) (ORCA's PDE-DS)",
             "1D/diffusion-sorption/1D_diff-sorp_NA_NA.h5", "133020", cells=1024, stride=1, loss="nrmse",
             generator_params={}, paper={"optimizer": "adamw", "lr": 1e-4, "weight_decay": 0.0, "target_seq_len": 32},
             target_frame=100, t_final=500.0, n_frames=101, generator=generate_diffsorp, layout="pdebench-groups",
             test_position="last")
