"""PDEBench task specs (specs/pdebench.md §3, §7). Protocols follow ORCA unless the name says otherwise.

ORCA's single-step protocol maps the initial condition u(t=0) to one fixed later frame; its splits
are PDEBench's (first 10 % of a single-file dataset is test). xbench adds a validation split carved
from train (last 10 %) and selects checkpoints on it, never on test.
"""

from __future__ import annotations

from xbench.tasks.pdebench import generate
from xbench.tasks.pdebench.loaders import load_single_step
from xbench.tasks.pdebench.verify import manifest_md5
from xbench.tasks.registry import DataFile, TaskSpec, register_task

DARUS = "https://darus.uni-stuttgart.de/api/access/datafile/"
METRICS_1D = ("nrmse", "pdebench_nrmse", "pdebench_rmse", "pdebench_crmse", "pdebench_brmse", "pdebench_max",
              "pdebench_frmse_low", "pdebench_frmse_mid", "pdebench_frmse_high")


def orca_1d_task(name: str, version: int, description: str, path: str, darus_id: str, cells: int, stride: int,
                 loss: str, generator_params: dict, paper: dict) -> TaskSpec:
    """A PDEBench 1D task under ORCA's single-step protocol: u(t=0) -> u(t=2) (frame 200 of 201)."""
    return register_task(TaskSpec(
        name=name, version=version, family="pdebench", description=description, modality="1d",
        kind="dense-regression", input_shape=(1, cells // stride), output_shape=(1, cells // stride), loss=loss,
        metrics=METRICS_1D, main_metric="nrmse",
        protocol={"name": "orca-single-step", "input_frame": 0, "target_frame": 200, "target_time": 2.0,
                  "spatial_stride": stride},
        data=DataFile(path=path, layout="pdebench-1d", url=DARUS + darus_id, md5=manifest_md5(path), n_samples=10000),
        loader=load_single_step, generator=generate.generate_1d,
        generator_params={**generator_params, "nx": cells, "n_frames": 201, "t_final": 2.0, "seed": 0},
        split={"test_fraction": 0.1, "test_position": "first", "val_fraction": 0.1},
        profiles={"quick": {"n_samples": 320},
                  "paper": {"n_samples": None, "epochs": 200, "batch_size": 4, "clip": 1.0, "warmup_epochs": 5,
                            "decay_epochs": 200, "align_steps": 60, **paper}},
        reference="Takamoto et al., PDEBench (NeurIPS 2022 D&B); protocol of Shen et al., ORCA (ICML 2023)",
    ))


# ORCA src/configs/PDEBG.yaml (methods.md §2.6): Adam 1e-5 (wd 1e-5), bs 4, clip 1, 200 epochs, 60 alignment
# steps, target_seq_len 128, warmup 5 / decay 200; loss RMSE. v2: the full PDEBench metric suite is recorded.
orca_1d_task("pdebench-burgers", 2,
             "1D Burgers, nu=1.0 (diffusion nu/pi): u(t=0) -> u(t=2), 1024 cells (ORCA's PDE-Burgers)",
             "1D/Burgers/Train/1D_Burgers_Sols_Nu1.0.hdf5", "281365", cells=1024, stride=1, loss="rmse",
             generator_params={"pde": "burgers", "nu": 1.0},
             paper={"optimizer": "adam", "lr": 1e-5, "weight_decay": 1e-5, "target_seq_len": 128})

# ORCA src/configs/PDEADV.yaml: Adam 1e-4 (wd 1e-5), bs 4, clip 1, 200 epochs, 60 alignment steps,
# target_seq_len 512, warmup 5 / decay 200; loss nRMSE.
orca_1d_task("pdebench-advection", 1,
             "1D Advection, beta=0.4: u(t=0) -> u(t=2), 1024 cells strided to 256 (ORCA's PDE-ADV)",
             "1D/Advection/Train/1D_Advection_Sols_beta0.4.hdf5", "255674", cells=1024, stride=4, loss="nrmse",
             generator_params={"pde": "advection", "beta": 0.4},
             paper={"optimizer": "adam", "lr": 1e-4, "weight_decay": 1e-5, "target_seq_len": 512})
