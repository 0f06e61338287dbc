"""The reference protocols of the PDEBench tasks, setting by setting, with the file and line read.

ORCA (``sjunhongshen/ORCA`` at 19b8c1c): its per-task configs ``src/configs/PDE*.yaml``, its PDEBench
loader ``src/data_loaders.py::load_pde`` and its datasets, the task table ``src/task_configs.py``,
and the model wrappers ``src/embedder.py``. RECRAFT (``khiembk/RECRAFT`` at abc2a04) ships the same
configs with two more keys, ``label_epochs`` and ``label_maxsamples`` (one line lower from line 12 on).
PaRe (``BIT-DA/PaRe`` at 7d5362c) has no PDE code; its 1D (``src/main_PaRe_1d.py``) and dense 2D
(``src/main_PaRe_dense.py``, ``src/configs/darcy_PaRe.yaml``) constants are the reference it gives.
``docs/pdebench.md`` §6 and ``docs/methods.md`` §2-3 describe the protocols; ``docs/parity.md`` is
the table of these values beside xbench's (``python benchmarks/parity_table.py``).
"""

from __future__ import annotations

from xbench.fidelity import Ref, register_reference

CONFIGS = {  # task: (config file, {setting: (value, line)}, RECRAFT's two more keys), src/configs/
    "pdebench-advection": ("PDEADV.yaml",
        {"align_maxsamples": (128, 10), "epochs": (200, 15), "align_steps": (60, 16), "dropout": (0.0, 20),
         "batch_size": (4, 21), "accum": (1, 23), "clip": (1.0, 24), "optimizer": ("adam", 28),
         "lr": (0.0001, 30), "weight_decay": (1e-05, 32), "warmup_epochs": (5.0, 38),
         "decay_epochs": (200.0, 39), "body": ("roberta", 9), "source": ("text", 7), "finetune": ("all", 18),
         "selection": ("test split", 53)},
        {"fld_epochs": (4, 13), "fld_maxsamples": (28, 12)}),
    "pdebench-burgers": ("PDEBG.yaml",
        {"align_maxsamples": (128, 10), "epochs": (200, 15), "align_steps": (60, 16), "dropout": (0.0, 20),
         "batch_size": (4, 21), "accum": (1, 23), "clip": (1.0, 24), "optimizer": ("adam", 28),
         "lr": (1e-05, 30), "weight_decay": (1e-05, 32), "warmup_epochs": (5.0, 38),
         "decay_epochs": (200.0, 39), "body": ("roberta", 9), "source": ("text", 7), "finetune": ("all", 18),
         "selection": ("test split", 53)},
        {"fld_epochs": (4, 13), "fld_maxsamples": (28, 12)}),
    "pdebench-diff-sorp": ("PDEDS.yaml",
        {"align_maxsamples": (128, 10), "epochs": (200, 15), "align_steps": (60, 16), "dropout": (0.0, 20),
         "batch_size": (4, 21), "accum": (1, 23), "clip": (1.0, 24), "optimizer": ("adamw", 28),
         "lr": (0.0001, 30), "weight_decay": (0.0, 32), "warmup_epochs": (5.0, 38),
         "decay_epochs": (200.0, 39), "body": ("roberta", 9), "source": ("text", 7), "finetune": ("all", 18),
         "selection": ("test split", 53)},
        {"fld_epochs": (4, 13), "fld_maxsamples": (28, 12)}),
    "pdebench-diff-react": ("PDERD.yaml",
        {"align_maxsamples": (128, 10), "epochs": (200, 15), "align_steps": (60, 16), "dropout": (0.0, 20),
         "batch_size": (4, 21), "accum": (1, 23), "clip": (1.0, 24), "optimizer": ("sgd", 28),
         "lr": (0.001, 30), "weight_decay": (1e-05, 32), "momentum": (0.99, 33), "warmup_epochs": (5.0, 38),
         "decay_epochs": (200.0, 39), "body": ("roberta", 9), "source": ("text", 7), "finetune": ("all", 18),
         "selection": ("test split", 53)},
        {"fld_epochs": (4, 13), "fld_maxsamples": (28, 12)}),
    "pdebench-cfd1d": ("PDE1DCFD.yaml",
        {"align_maxsamples": (128, 10), "epochs": (200, 15), "align_steps": (60, 16), "dropout": (0.0, 20),
         "batch_size": (4, 21), "accum": (1, 23), "clip": (1.0, 24), "optimizer": ("adamw", 28),
         "lr": (0.0001, 30), "weight_decay": (0.001, 32), "warmup_epochs": (5.0, 38),
         "decay_epochs": (200.0, 39), "body": ("roberta", 9), "source": ("text", 7), "finetune": ("all", 18),
         "selection": ("test split", 53)},
        {"fld_epochs": (4, 13), "fld_maxsamples": (28, 12)}),
    "pdebench-darcy": ("PDEDC.yaml",
        {"align_maxsamples": (128, 10), "epochs": (100, 14), "align_steps": (60, 15), "dropout": (0.0, 20),
         "batch_size": (4, 21), "accum": (1, 23), "clip": (None, 24), "optimizer": ("adamw", 28),
         "lr": (0.0001, 30), "weight_decay": (1e-05, 32), "warmup_epochs": (5.0, 38),
         "decay_epochs": (200.0, 39), "body": ("base", 9), "source": ("CIFAR10", 7), "finetune": ("all", 17),
         "selection": ("test split", 53)},
        {"fld_epochs": (4, 12), "fld_maxsamples": (28, 11)}),
    "pdebench-shallow-water": ("PDESW.yaml",
        {"align_maxsamples": (128, 10), "epochs": (200, 14), "align_steps": (60, 15), "dropout": (0.0, 20),
         "batch_size": (4, 21), "accum": (1, 23), "clip": (1.0, 24), "optimizer": ("adamw", 28),
         "lr": (0.0001, 30), "weight_decay": (0.0, 32), "warmup_epochs": (10.0, 38),
         "decay_epochs": (200.0, 39), "body": ("base", 9), "source": ("CIFAR10", 7), "finetune": ("all", 17),
         "selection": ("test split", 53)},
        {"fld_epochs": (4, 12), "fld_maxsamples": (28, 11)}),
    "pdebench-diff-react-2d": ("PDERD2D.yaml",
        {"align_maxsamples": (128, 10), "epochs": (200, 14), "align_steps": (60, 15), "dropout": (0.0, 20),
         "batch_size": (4, 21), "accum": (1, 23), "clip": (1.0, 24), "optimizer": ("adam", 28),
         "lr": (0.0001, 30), "weight_decay": (0.001, 32), "warmup_epochs": (5.0, 38),
         "decay_epochs": (200.0, 39), "body": ("base", 9), "source": ("CIFAR10", 7), "finetune": ("all", 17),
         "selection": ("test split", 53)},
        {"fld_epochs": (4, 12), "fld_maxsamples": (28, 11)}),
    "pdebench-cfd2d": ("PDE2DCFD.yaml",
        {"align_maxsamples": (128, 10), "epochs": (200, 14), "align_steps": (60, 15), "dropout": (0.0, 20),
         "batch_size": (4, 21), "accum": (1, 23), "clip": (1.0, 24), "optimizer": ("adamw", 28),
         "lr": (0.001, 30), "weight_decay": (0.001, 32), "warmup_epochs": (5.0, 38),
         "decay_epochs": (200.0, 39), "body": ("base", 9), "source": ("CIFAR10", 7), "finetune": ("all", 17),
         "selection": ("test split", 53)},
        {"fld_epochs": (4, 12), "fld_maxsamples": (28, 11)}),
}

BODY = {"roberta": ("roberta-base", "embedder.py:112"),
        "base": ("swin-base-patch4-window7-224-in22k", "embedder.py:47")}
SOURCE = {"text": ("ORCA text features (text_xs_32.npy, text_ys_32.npy)", "data_loaders.py:2209"),
          "CIFAR10": ("CIFAR-10 training images (5000), Swin patch features", "embedder.py:265")}

# load_pde (data_loaders.py): file, spatial stride, frames in raw file indices (trained: t_train - 1
# after the time stride, clipped to the frames there are; scored: the test dataset is built without
# t_train, so with the default 100), split; task_configs.py: declared sample shape and loss.
# task: (file, line, stride, line, train frame, line, test frame, line, split, line, loss, line,
#        tokens, patch, line)
LOADER = {
    "pdebench-advection": ("1D_Advection_Sols_beta0.4.hdf5", 762, 4, 763, 200, 767, 200, 1322, "first 10 %", 1315,
                           "nrmse", 150, 256, "1 x 1", 149),
    "pdebench-burgers": ("1D_Burgers_Sols_Nu1.0.hdf5", 741, 1, 743, 200, 747, 200, 1322, "first 10 %", 1315,
                         "rmse", 140, 512, "1 x 2", 139),
    "pdebench-diff-sorp": ("1D_diff-sorp_NA_NA.h5", 772, 1, 773, 100, 777, 99, 1453, "last 10 %", 1473,
                           "nrmse", 160, 32, "1 x 32", 159),
    "pdebench-diff-react": ("ReacDiff_Nu0.5_Rho1.0.hdf5", 782, 1, 783, 29, 787, 99, 1171, "first 10 %", 1315,
                            "nrmse", 155, 256, "1 x 4", 154),
    "pdebench-cfd1d": ("1D_CFD_Rand_Eta0.1_Zeta0.1_periodic_Train.hdf5", 752, 1, 753, 100, 757, 100, 1322,
                       "first 10 %", 1315, "rmse", 145, 128, "1 x 24", 144),
    "pdebench-darcy": ("2D_DarcyFlow_beta0.1_Train.hdf5", 801, 2, 802, 1, 1322, 1, 1322, "first 10 %", 1315,
                       "nrmse", 175, 3136, "1 x 4 x 4", 179),
    "pdebench-shallow-water": ("2D_rdb_NA_NA.h5", 791, 1, 792, 100, 796, 99, 1453, "last 10 %", 1473,
                               "nrmse", 165, 3136, "1 x 4 x 4", 179),
    "pdebench-diff-react-2d": ("2D_diff-react_NA_NA.h5", 811, 1, 812, 100, 816, 99, 1453, "last 10 %", 1473,
                               "nrmse", 170, 3136, "1 x 4 x 4", 179),
    "pdebench-cfd2d": ("2D_CFD_Rand_M1.0_Eta0.1_Zeta0.1_periodic_128_Train.hdf5", 821, 2, 822, 20, 826, 20, 1383,
                       "last 10 %", 1383, "nrmse", 180, 3136, "4 x 4 x 4", 179),
}
NOTES = {
    ("pdebench-burgers", "tokens"): "config target_seq_len 128 over the declared 256-point sample gives patch 2; "
                                    "the data has 1024 points, so 512 tokens",
    ("pdebench-cfd1d", "patch"): "the three fields are flattened into one 3072-point channel",
    ("pdebench-diff-react", "test_frame"): "the test set is built with the default t_train (100)",
    ("pdebench-darcy", "train_frame"): "a -> u: the loader stacks [nu, u] on the time axis",
}
# variants of ORCA's tasks: ORCA's protocol on another file, another split or other channels
VARIANTS = {"pdebench-burgers-nu0.001": "pdebench-burgers", "pdebench-diff-react-2d-uv": "pdebench-diff-react-2d",
            "pdebench-shallow-water-grouped": "pdebench-shallow-water"}

PARE_1D = {"pare_k": Ref("32 (1 - epoch/epochs) tokens", "PaRe src/main_PaRe_1d.py:190, configs/ecg_PaRe.yaml:17"),
           "pare_mix_weight": Ref(0.1, "PaRe src/main_PaRe_1d.py:309"),
           "pare_gumbel_epochs": Ref(5, "PaRe src/main_PaRe_1d.py:284"),
           "pare_replace": Ref("highest-gated target tokens (deterministic phase)", "PaRe src/main_PaRe_1d.py:232-233")}
PARE_2D = {"pare_k": Ref("1000 - 500 epoch/epochs of 3136 tokens", "PaRe src/main_PaRe_dense.py:192, "
                         "configs/darcy_PaRe.yaml:18-19", "NAS-Bench-360 Darcy's values; PaRe has no PDE config"),
           "pare_mix_weight": Ref(0.3, "PaRe src/main_PaRe_dense.py:316"),
           "pare_gumbel_epochs": Ref(10, "PaRe src/main_PaRe_dense.py:288"),
           "pare_replace": Ref("highest-gated target tokens (deterministic phase)", "PaRe src/main_PaRe_dense.py:234-235")}


def _register(task: str, ref_task: str) -> None:
    config, settings, recraft = CONFIGS[ref_task]
    f = f"ORCA src/configs/{config}"
    refs = {}
    for k, (v, line) in settings.items():
        if k == "body":
            name, where = BODY[v]
            refs[k] = Ref(name, f"{f}:{line}, ORCA src/{where}")
        elif k == "source":
            name, where = SOURCE[v]
            refs[k] = Ref(name, f"{f}:{line}, ORCA src/{where}")
        else:
            refs[k] = Ref(v, f"{f}:{line}")
    (file, fl, stride, sl, train, tl, test, tel, split, spl, loss, ll, tokens, patch, pl) = LOADER[ref_task]
    dl, tc = "ORCA src/data_loaders.py", "ORCA src/task_configs.py"
    two_d = patch.count("x") == 2
    refs.update({
        "n_samples": Ref(None, f"{dl}:{fl}", "every sample of the file"),
        "data_file": Ref(file, f"{dl}:{fl}"), "spatial_stride": Ref(stride, f"{dl}:{sl}"),
        "train_frame": Ref(train, f"{dl}:{tl}"), "test_frame": Ref(test, f"{dl}:{tel}"),
        "split": Ref(split, f"{dl}:{spl}"), "train_share": Ref(0.9, f"{dl}:{spl}", "all but the test split trains"),
        "loss": Ref(f"{loss} on raw targets", f"{tc}:{ll}"),
        "tokens": Ref(tokens, f"{tc}:{pl}, ORCA src/embedder.py:" + ("176-179" if two_d else "228-233")),
        "patch": Ref(patch, f"{tc}:{pl}, ORCA src/embedder.py:" + ("176" if two_d else "224")),
        "resize": Ref("224 x 224" if two_d else "none", "ORCA src/embedder.py:179" if two_d else f"{tc}:{pl}"),
        "head": Ref("Swin masked-image-modelling decoder (random init), channel mean, adaptive pooling" if two_d
                    else "parameter-free average pooling over the hidden dimension",
                    "ORCA src/embedder.py:" + ("56, 71-73" if two_d else "130")),
    })
    # ORCA standardises the CFD fields per point with statistics of training inputs (1D: x's normaliser
    # applied to y too; 2D: fitted on the first 100 trajectories) and returns no decoder for PDE tasks:
    # its loss and its nRMSE are computed on standardised fields, elsewhere on raw ones
    std_lines = {"pdebench-cfd1d": "878-885", "pdebench-cfd2d": "1373-1379, 1441"}.get(ref_task)
    space = ("fields standardised per point with the training inputs' statistics" if std_lines
             else "raw fields (the task's units)")
    refs["metric_space"] = Ref(space, f"{dl}:{std_lines}" if std_lines else f"{dl}:{fl}",
                               "ORCA's published nRMSE is in this space")
    if std_lines:
        refs["loss"] = Ref(f"{loss} on standardised targets", f"{tc}:{ll}, {dl}:{std_lines}")
    if ref_task == "pdebench-diff-react-2d":
        refs["channels"] = Ref("input channel 0 -> target channel 1", f"{dl}:1510", "ORCA's loader quirk: u(0) -> v(5)")
    for (t, k), note in NOTES.items():
        if t == ref_task:
            refs[k] = Ref(refs[k].value, refs[k].source, note)
    register_reference(task, "*", {k: v for k, v in refs.items()
                                   if k not in ("align_maxsamples", "align_steps", "source")})
    register_reference(task, "align", {
        "align_maxsamples": refs["align_maxsamples"], "align_steps": refs["align_steps"], "source": refs["source"],
        "align_loss": Ref("otdd", f"{f}:8", "objective: otdd-exact"),
        "n_classes": Ref(10, "ORCA src/embedder.py:372", "k-means pseudo-labels of the targets"),
        "align_lr_mult": Ref(10.0, "ORCA src/task_configs.py:312-313", "when the lr is at most 1e-3"),
    })
    rf = f"RECRAFT src/configs/{config}"
    register_reference(task, "recraft", {
        "fld_epochs": Ref(recraft["fld_epochs"][0], f"{rf}:{recraft['fld_epochs'][1]}"),
        "fld_maxsamples": Ref(recraft["fld_maxsamples"][0], f"{rf}:{recraft['fld_maxsamples'][1]}"),
        "align_loss": Ref("sinkhorn", "RECRAFT src/newEmbedder.py:20, 1213", "OTDD with every label 0: label-free"),
        "fld_reads": Ref("the frozen body's output per token" if not two_d else "the body's pooled output",
                         "RECRAFT src/newEmbedder.py:" + ("84-92" if two_d else "172") + ", 878-879"),
        "fa_weight": Ref("chunk size / loader length", "RECRAFT src/newEmbedder.py:710"),
        "source_head": Ref("30 epochs of cross-entropy" if not two_d else "10 epochs CE, then 10 with the tau-hinge",
                           "RECRAFT src/newEmbedder.py:384-496" if two_d else "RECRAFT src/test_model.py:89"),
    })
    srcinit = Ref(0, "PaRe src/configs/darcy_PaRe.yaml:17", "srcinit: no alignment")
    register_reference(task, "pare", {**(PARE_2D if two_d else PARE_1D), "align_steps": srcinit})


for _task in LOADER:
    _register(_task, _task)
for _task, _ref in VARIANTS.items():
    _register(_task, _ref)
