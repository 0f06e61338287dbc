"""The ten NAS-Bench-360 tasks, one declarative spec each (docs/nasbench360.md).

Shapes, losses and metrics are ORCA's (its ``get_config``/``get_metric``); splits and metric
definitions are NAS-Bench-360's own (a validation split held out of the training pool; whole-split
AUROC and F1; ECG scored per record; PSICOV with each protein's own length). ORCA's variants are
extra metrics named ``*_orca`` so its numbers can be reproduced beside the correct ones. The
``paper`` profile is ORCA's per-task config (``src/configs/<task>.yaml`` at 19b8c1c), registered
setting by setting with :func:`xbench.fidelity.register_reference`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xbench.fidelity import Ref, register_reference
from xbench.tasks.nasbench360.generate.darcy import generate_piececonst
from xbench.tasks.nasbench360.loader import load_nb360
from xbench.tasks.registry import DataFile, TaskSpec, register_task

REFERENCE = "Tu et al., NAS-Bench-360 (NeurIPS 2022 D&B); protocol of Shen et al., ORCA (ICML 2023)"
CLASSIFY = ("zero_one_error", "ece")


@dataclass(frozen=True)
class Nb360Task:
    """What differs between the ten tasks; :func:`register` turns it into a :class:`TaskSpec`."""

    short: str
    description: str
    kind: str
    modality: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    loss: str
    metrics: tuple[str, ...]  # the main metric first
    orca: dict[str, tuple[Any, int]]  # ORCA's config: setting -> (value, line in src/configs/<config>)
    config: str
    loss_options: dict[str, Any] = field(default_factory=dict)
    protocol: dict[str, Any] = field(default_factory=dict)
    quick: dict[str, Any] = field(default_factory=dict)
    cpu: dict[str, Any] = field(default_factory=dict)


def _orca(epochs, align, maxs, batch, accum, clip, opt, lr, wd, warm, decay, first=14, **more) -> dict:
    """ORCA's config values with their lines (the files share one layout; ``first`` = the epochs line)."""
    o = first - 14
    out = {"epochs": (epochs, 14 + o), "align_steps": (align, 15 + o), "align_maxsamples": (maxs, 10),
           "batch_size": (batch, 20 + o), "accum": (accum, 22 + o), "clip": (clip, 23 + o),
           "optimizer": (opt, 27 + o), "lr": (lr, 29 + o), "weight_decay": (wd, 31 + o),
           "warmup_epochs": (warm, 37 + o), "decay_epochs": (decay, 38 + o), "selection": ("test split", 52 + o)}
    return {**out, **more}


def _sgd(line: int, value: float) -> dict:
    return {"momentum": (value, line)}


TASKS = [
    Nb360Task("cifar100", "CIFAR-100 image classification, 3x32x32 -> 100 classes", "classification", "2d",
              (3, 32, 32), (100,), "ce", CLASSIFY, _orca(60, 60, 128, 32, 32, None, "sgd", 1e-4, 1e-3, 5, 200,
                                                         **_sgd(32, 0.9)), "cifar100.yaml"),
    Nb360Task("spherical", "Spherical CIFAR-100: images projected onto the sphere, 3x60x60 -> 100 classes",
              "classification", "2d", (3, 60, 60), (100,), "ce", CLASSIFY,
              _orca(60, 60, 128, 32, 4, None, "adamw", 1e-4, 0.1, 5, 60), "spherical.yaml"),
    Nb360Task("ninapro", "NinaPro DB5 hand gestures from sEMG: 16 channels x 52 steps -> 18 classes",
              "classification", "2d", (1, 16, 52), (18,), "ce", CLASSIFY,
              _orca(60, 100, 128, 32, 1, 1.0, "adam", 1e-4, 1e-5, 5, 60), "ninapro.yaml"),
    Nb360Task("fsd50k", "FSD50K sound events: 1 s log-mel chunks 96x102 -> 200 labels, scored per clip",
              "multi-label", "2d", (1, 96, 102), (200,), "bce", ("inv_map",),
              _orca(100, 60, 128, 32, 1, None, "adam", 1e-4, 5e-5, 5, 100), "fsd.yaml",
              loss_options={"pos_weight": 10.0}),
    Nb360Task("darcy", "Darcy flow (FNO's piececonst): coefficient a and grid, 3x85x85 -> solution u 85x85",
              "dense-regression", "2d", (3, 85, 85), (1, 85, 85), "rel_l2_sum", ("rel_l2", "nrmse"),
              _orca(100, 60, 128, 4, 1, None, "adamw", 1e-3, 5e-3, 5, 100), "darcy.yaml",
              protocol={"input_fields": "a,gridx,gridy", "target_fields": "u"},
              quick={"n_samples": 110}, cpu={"n_samples": 550}),
    Nb360Task("psicov", "PSICOV protein distance maps: 57 pair features LxL -> Cb distances (trained on 128x128 "
              "windows; val and test on the 512 canvas, window by window)", "dense-regression", "2d", (57, 128, 128),
              (1, 128, 128), "mse", ("mae8", "mae8_orca"),
              _orca(10, 60, 64, 1, 32, None, "adam", 5e-6, 1e-5, 5, 100), "psicov.yaml",
              protocol={"variable_spatial": True, "input_fields": "features", "target_fields": "distance"},
              quick={"n_samples": 40, "batch_size": 2, "eval_batch_size": 1}, cpu={"n_samples": 200, "batch_size": 4}),
    Nb360Task("cosmic", "Cosmic-ray detection in Hubble ACS/WFC images: 1x128x128 -> per-pixel mask",
              "pixel-binary", "2d", (1, 128, 128), (1, 128, 128), "bce",
              ("inv_auroc_pixel", "inv_auroc_pixel_orca", "fnr_pixel"),
              _orca(60, 60, 128, 4, 1, None, "adamw", 1e-3, 0.0, 5, 60), "cosmic.yaml",
              protocol={"input_fields": "image", "target_fields": "cosmic-ray mask"}),
    Nb360Task("ecg", "ECG rhythm (PhysioNet/CinC 2017): 1000-sample windows -> 4 classes, F1 per record",
              "classification", "1d", (1, 1000), (4,), "ce",
              ("inv_macro_f1_record", "inv_macro_f1", "inv_macro_f1_orca", "zero_one_error", "ece"),
              _orca(15, 60, 128, 4, 16, None, "sgd", 1e-6, 0.1, 5, 200, first=14,
                    **_sgd(33, 0.99), target_seq_len=(64, 19)), "ecg.yaml"),
    Nb360Task("satellite", "Satellite image time series: 46 steps -> 24 land-cover classes", "classification", "1d",
              (1, 46), (24,), "ce", CLASSIFY, _orca(60, 60, 128, 16, 4, None, "adamw", 3e-5, 3e-6, 5, 60),
              "satellite.yaml"),
    Nb360Task("deepsea", "DeepSEA chromatin profiles: one-hot DNA 4x1000 -> 36 labels", "multi-label", "1d",
              (4, 1000), (36,), "bce", ("inv_auroc", "inv_auroc_orca"),
              _orca(13, 60, 64, 16, 1, 1.0, "adam", 1e-5, 0.0, 10, 25, first=15, target_seq_len=(512, 11)),
              "deepsea.yaml", loss_options={"pos_weight": 4.0}),
]

# lines where a file departs from the shared layout: CIFAR-100's scheduler block starts one line
# lower; ECG's file has target_seq_len on line 19, so everything after it is one line lower
_SHIFTED = {"cifar100": {"warmup_epochs": 38, "decay_epochs": 39, "selection": 53},
            "ecg": {"batch_size": 21, "accum": 23, "clip": 24, "optimizer": 28, "lr": 30, "weight_decay": 32,
                    "warmup_epochs": 38, "decay_epochs": 39, "selection": 53}}


def register(t: Nb360Task) -> TaskSpec:
    from xbench.tasks.nasbench360.readers import READERS

    reader = READERS[t.short]
    paper = {k: v for k, (v, _) in t.orca.items() if k not in ("accum", "selection")}
    paper.update(n_samples=None, eval_batch_size=1 if t.short == "psicov" else 256,
                 n_classes=10, **({"embed_2d": "orca", "target_seq_len": 3136} if t.modality == "2d" else {}))
    spec = register_task(TaskSpec(
        name=f"nb360-{t.short}", version=1, family="nasbench360", description=t.description, modality=t.modality,
        kind=t.kind, input_shape=t.input_shape, output_shape=t.output_shape, loss=t.loss, metrics=t.metrics,
        main_metric=t.metrics[0], protocol={"name": "nasbench360", "reader": t.short, **t.protocol},
        data=DataFile(path=reader.FILES[0].path, layout=f"nb360-{t.short}", url=reader.FILES[0].url,
                      n_samples=sum(reader.SIZES.values())),
        loader=load_nb360,
        generator=generate_piececonst if t.short == "darcy" else None,
        generator_params={"resolution": 421, "seed": 0} if t.short == "darcy" else {},
        split={"source": "NAS-Bench-360's files and split sizes", **{f"n_{k}": v for k, v in reader.SIZES.items()}},
        profiles={"quick": {"n_samples": 200, **t.quick}, "cpu": dict(t.cpu), "paper": paper},
        reference=REFERENCE, generation_cost=(1.4, 1.2) if t.short == "darcy" else (0.0, 0.0),
        loss_options=dict(t.loss_options),
    ))
    lines = {**{k: line for k, (_, line) in t.orca.items()}, **_SHIFTED.get(t.short, {})}
    register_reference(spec.name, "*", {k: Ref(v, f"ORCA src/configs/{t.config}:{lines[k]}")
                                        for k, (v, _) in t.orca.items()})
    return spec


for _t in TASKS:
    register(_t)
