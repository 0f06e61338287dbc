"""Run configuration: profiles, method defaults, task overrides and user overrides, resolved once.

Resolution order (later wins): the profile's defaults -> the task spec's overrides for that profile
-> the method's own settings -> ``--set key=value`` from the user. The resolved
:class:`TrainConfig` is part of the run key, so any change to it is a different run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from xbench.errors import ConfigError, unknown_name


@dataclass(frozen=True)
class TrainConfig:
    """Every hyper-parameter of a run. See README "Configuration" for their meaning."""

    n_samples: int | None = 320  # first n samples of the data file (None = all), before splitting
    epochs: int = 6  # fitting epochs
    batch_size: int = 16
    eval_batch_size: int = 64
    optimizer: str = "adamw"  # adam | adamw | sgd
    lr: float = 3e-4
    weight_decay: float = 1e-5
    momentum: float = 0.9  # sgd only
    schedule: str = "warmup-linear"  # warmup-linear (ORCA's WarmupLR) | step (PDEBench's StepLR)
    warmup_epochs: float = 1.0  # ORCA's WarmupLR: linear warm-up, then linear decay to 0 at decay_epochs
    decay_epochs: float | None = None  # None: decay to 0 at the last epoch
    step_epochs: float = 100.0  # schedule=step: multiply the lr by step_gamma every step_epochs (PDEBench: 100)
    step_gamma: float = 0.5  # schedule=step: PDEBench's scheduler_gamma
    clip: float | None = 1.0  # gradient-norm clip (None = off)
    loss_space: str = "raw"  # raw: the task loss on de-normalised outputs (ORCA, PDEBench) | normalised
    # the embedder's LayerNorm: orca (on the patch projection, before the positions; ORCA's embedder),
    # bert (on projection + positions, as the body's own embedding layer), none (issue 11: orca's LN
    # maps c * patch to sign(c) * LN(patch), so the body never sees a patch's amplitude)
    embed_norm: str = "orca"
    dense_head: str = "linear"  # 1D head: linear (Linear(d, C k) per token) | pool (ORCA's parameter-free pooling)
    channels_1d: str = "stack"  # 1D channels: stack (together per patch) | flatten (one C * L sequence: ORCA's CFD)
    # 2D embedder and head: patch (xbench's small patches, from target_seq_len) | orca (ORCA's wrapper:
    # resize to 224, patch 4, 3136 tokens for a Swin body, Swin's masked-image-modelling decoder)
    embed_2d: str = "patch"
    target_seq_len: int = 32  # embedder tokens at most (ORCA's stack_num rule picks the patch size)
    align_steps: int = 12  # alignment optimizer steps (ORCA: 60, one per "embedder epoch")
    align_maxsamples: int = 64  # target points per class and step (ORCA: 128)
    align_lr_mult: float = 10.0  # ORCA: embedder lr = 10 x lr when lr <= 1e-3
    n_classes: int = 10  # k-means pseudo-classes of the targets (ORCA: 10)
    n_source: int = 1000  # source reference points (ORCA: about 2000 text, 5000 images)
    source_window: int = 32  # tokens per source text window (ORCA's text features: 32)
    # the source reference: text (xbench's offline corpus) | orca-text (ORCA's text features) | cifar10
    # | auto (the reference's where its files are on disk, else text); see xbench.source_files
    source: str = "text"
    # bound terms (xbench.theory), logged every epoch and alignment step; RECRAFT's source head
    track_bound: bool = True  # log the bound terms to curves.csv (crossmodal models with a text body)
    bound_points: int = 128  # fixed subsets of source and validation points the bound terms use
    bound_fit_points: int = 32  # fixed subset of training points for the bound's target-fit term
    source_tau: float = 0.4  # RECRAFT's tau-hinge: gradient-norm target of the source head's loss
    source_rho: float = 100.0  # RECRAFT's tau-hinge weight
    source_head_epochs: int = 20  # source head training (first half CE, second half CE + tau-hinge)
    source_hinge: bool = True  # the tau-hinge in the second half (RECRAFT's 2D code); false: CE only (its 1D code)
    # RECRAFT's label-free alignment loss per step: one (xbench) | loader (x chunk size / batches per epoch)
    align_chunk_weight: str = "one"
    fld_epochs: int = 2  # RECRAFT's FLD minimisation epochs (label_epochs)
    fld_maxsamples: int = 16  # target points per FLD chunk (label_maxsamples)
    fld_lr: float = 1e-4  # RECRAFT forces lr 1e-4 for FLD minimisation
    # what FLD reads: features (the mean-pooled embedder features, the bound's space) | body (RECRAFT's
    # 1D code: the frozen body's output per token through a head trained on the body's pooled source)
    fld_reads: str = "features"
    joint_lambda: float = 1.0  # joint: weight of the alignment loss added to the target loss
    lora_rank: int = 8  # lora: rank of the adapters (alpha = rank)
    pare_begin: float = 0.32  # PaRe: replaced fraction of target tokens at the first epoch
    pare_end: float = 0.16  # PaRe: decrease of that fraction over the epochs
    pare_gumbel_epochs: int = 10  # PaRe: Gumbel top-k sampling before this epoch, deterministic top-k after
    pare_tokens: int = 0  # PaRe's 1D rule when > 0: k = int(pare_tokens (1 - epoch/epochs)) (its 1D code: 32)
    pare_mix_weight: float = 0.3  # PaRe: weight of the mixed-sequence terms (dense 2D code 0.3, 1D code 0.1)
    # which target tokens PaRe replaces: lowest (the lowest-gated, in both phases) | reference (PaRe's
    # code: the Gumbel phase keeps the highest-gated N - k, the deterministic phase replaces the k highest)
    pare_replace: str = "lowest"
    adaptive_patience: int = 2  # xbench-adaptive: alignment steps without bound improvement before handover
    adaptive_fld_tol: float = 0.01  # xbench-adaptive: FLD rise (nats) that halves the alignment weight
    # fine-tuning options of any recipe (0 = off)
    unfreeze_epochs: int = 0  # gradual unfreezing: body layers unfreeze top-down over this many fit epochs
    l2sp_alpha: float = 0.0  # L2-SP: alpha * |theta_body - theta_body_at_fit_start|^2 added to the loss

    @property
    def lr_decay_epochs(self) -> float:
        return self.epochs if self.decay_epochs is None else self.decay_epochs

    def __post_init__(self) -> None:
        checks = {
            "epochs": self.epochs >= 1,
            "batch_size": self.batch_size >= 1,
            "eval_batch_size": self.eval_batch_size >= 1,
            "lr": self.lr > 0,
            "weight_decay": self.weight_decay >= 0,
            "warmup_epochs": self.warmup_epochs >= 0,
            "decay_epochs": self.lr_decay_epochs >= self.warmup_epochs,
            "schedule": self.schedule in ("warmup-linear", "step"),
            "step_epochs": self.step_epochs > 0,
            "step_gamma": 0 < self.step_gamma <= 1,
            "target_seq_len": self.target_seq_len >= 1,
            "align_steps": self.align_steps >= 0,
            "align_maxsamples": self.align_maxsamples >= 2,
            "align_lr_mult": self.align_lr_mult > 0,
            "n_classes": self.n_classes >= 1,
            "n_source": self.n_source >= 10,
            "source_window": self.source_window >= 2,
            "bound_points": self.bound_points >= 4,
            "bound_fit_points": self.bound_fit_points >= 1,
            "source_tau": self.source_tau > 0,
            "source_rho": self.source_rho >= 0,
            "source_head_epochs": self.source_head_epochs >= 1,
            "fld_epochs": self.fld_epochs >= 0,
            "fld_maxsamples": self.fld_maxsamples >= 2,
            "fld_lr": self.fld_lr > 0,
            "joint_lambda": self.joint_lambda >= 0,
            "lora_rank": self.lora_rank >= 1,
            "pare_begin": 0 <= self.pare_begin <= 1,
            "pare_end": 0 <= self.pare_end <= self.pare_begin,
            "pare_gumbel_epochs": self.pare_gumbel_epochs >= 0,
            "pare_tokens": self.pare_tokens >= 0,
            "pare_mix_weight": self.pare_mix_weight >= 0,
            "pare_replace": self.pare_replace in ("lowest", "reference"),
            "adaptive_patience": self.adaptive_patience >= 1,
            "adaptive_fld_tol": self.adaptive_fld_tol >= 0,
            "unfreeze_epochs": self.unfreeze_epochs >= 0,
            "l2sp_alpha": self.l2sp_alpha >= 0,
            "optimizer": self.optimizer in ("adam", "adamw", "sgd"),
            "n_samples": self.n_samples is None or self.n_samples >= 10,
            "clip": self.clip is None or self.clip > 0,
            "loss_space": self.loss_space in ("raw", "normalised"),
            "embed_norm": self.embed_norm in ("orca", "bert", "none"),
            "dense_head": self.dense_head in ("linear", "pool"),
            "channels_1d": self.channels_1d in ("stack", "flatten"),
            "embed_2d": self.embed_2d in ("patch", "orca"),
            "source": self.source in ("text", "orca-text", "cifar10", "auto"),
            "align_chunk_weight": self.align_chunk_weight in ("one", "loader"),
            "fld_reads": self.fld_reads in ("features", "body"),
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            k = bad[0]
            raise ConfigError(
                f"bad value {k}={getattr(self, k)!r}"
                + (" (decay_epochs, default epochs, must be at least warmup_epochs)" if k == "decay_epochs" else "")
                + (" (choose adam, adamw or sgd)" if k == "optimizer" else "")
                + (" (choose warmup-linear or step)" if k == "schedule" else "")
                + (" (choose raw or normalised)" if k == "loss_space" else "")
                + (" (choose orca, bert or none)" if k == "embed_norm" else "")
                + (" (choose lowest or reference)" if k == "pare_replace" else "")
                + (" (choose linear or pool)" if k == "dense_head" else "")
                + (" (choose stack or flatten)" if k == "channels_1d" else "")
                + (" (choose patch or orca)" if k == "embed_2d" else "")
                + (" (choose text, orca-text, cifar10 or auto)" if k == "source" else "")
                + (" (choose one or loader)" if k == "align_chunk_weight" else "")
                + (" (choose features or body)" if k == "fld_reads" else "")
                + ". Fix it in --set or the profile."
            )


PROFILES: dict[str, dict[str, Any]] = {
    # Small budgets that finish on a 2-core CPU in minutes; numbers are labelled "quick".
    "quick": {},
    # Trains to a meaningful level on a 2-core CPU: each run within about 5 minutes and 4 GB. Differs
    # from ORCA's protocol in scale (samples, epochs, tokens) and in one architectural setting: the
    # embedder has no LayerNorm (embed_norm=none), since ORCA's LN erases each patch's amplitude and
    # the transformer then learns only the mean field (issue 11's ablation, reports/underfit/).
    "cpu": {"n_samples": 600, "epochs": 10, "batch_size": 16, "lr": 3e-4, "embed_norm": "none",
            "target_seq_len": 32, "align_steps": 12},
    # The published protocol (ORCA's hyper-parameters; tasks override per task). Needs a GPU. RECRAFT's
    # PDE configs: FLD 4 epochs of 28-point chunks, alignment chunks weighted by their share of the
    # loader, a 1D source head of 30 epochs of plain cross-entropy (2D tasks: 10 + 10 with the hinge);
    # PaRe's 1D code: k = 32 (1 - epoch/epochs), mixing
    # weight 0.1, Gumbel sampling before epoch 5 (2D tasks take its dense constants instead). Every
    # value with its source: docs/parity.md.
    "paper": {"n_samples": None, "epochs": 200, "batch_size": 4, "eval_batch_size": 256, "lr": 1e-4,
              "warmup_epochs": 5, "target_seq_len": 512, "align_steps": 60,
              "align_maxsamples": 128, "n_source": 5000, "fld_epochs": 4, "fld_maxsamples": 28,
              "pare_tokens": 32, "pare_mix_weight": 0.1, "pare_gumbel_epochs": 5, "pare_replace": "reference",
              "dense_head": "pool", "source": "auto", "source_head_epochs": 30, "source_hinge": False,
              "align_chunk_weight": "loader", "fld_reads": "body"},
}

FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}

# Settings that cannot change a run's numbers; they enter neither the run key nor the settings hash.
COSMETIC = frozenset({"eval_batch_size"})

# Settings added after run keys were first issued, each with the value that reproduces the behaviour
# from before it existed. A run whose value equals it hashes as it did then, so adding a setting whose
# default keeps the old behaviour never invalidates finished runs (resumed sweeps do not redo them).
ADDED_SETTINGS: dict[str, Any] = {
    "loss_space": "normalised", "embed_norm": "orca", "dense_head": "linear", "channels_1d": "stack",
    "embed_2d": "patch", "source": "text", "source_hinge": True, "align_chunk_weight": "one", "pare_tokens": 0,
    "pare_mix_weight": 0.3, "pare_replace": "lowest", "fld_reads": "features",
}


def key_settings(cfg: Any, reads: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The settings of ``cfg`` (a config dataclass) that define a run's numbers, as the keys hash them:
    without :data:`COSMETIC` settings and without added settings at their behaviour-preserving value
    (and, given ``reads``, only the settings a method reads)."""
    return {k: v for k, v in dataclasses.asdict(cfg).items()
            if k not in COSMETIC and not (k in ADDED_SETTINGS and v == ADDED_SETTINGS[k])
            and (reads is None or k in reads)}


def settings_hash(method_version: int, cfg: Any, reads: tuple[str, ...] | None = None) -> str:
    """A short hash of a method version and its result-changing settings: rows that share it (and task,
    data, profile, backbone, alignment loss) are seeds of one experiment; others are never pooled."""
    import hashlib
    import json

    blob = json.dumps({"method_version": method_version, "settings": key_settings(cfg, reads)}, sort_keys=True,
                      default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:10]


def settings_diff(cfg: Any, defaults: Any, reads: tuple[str, ...] | None = None) -> str:
    """``key=value`` for each result-changing setting of ``cfg`` that differs from ``defaults`` (the
    profile's, task's and method's own), ``;``-separated; "" when the run uses the defaults."""
    a, b = key_settings(cfg, reads), dataclasses.asdict(defaults)
    return ";".join(f"{k}={a[k]}" for k in sorted(a) if a[k] != b.get(k))


def parse_value(key: str, text: str) -> Any:
    """Parse ``text`` for field ``key`` of :class:`TrainConfig` (``none`` means None where allowed)."""
    if key not in FIELDS:
        raise unknown_name("setting", key, FIELDS, "See README 'Configuration'.")
    typ = str(FIELDS[key].type)
    if text.lower() in ("none", "null") and "None" in typ:
        return None
    if typ == "bool":
        if text.lower() in ("true", "1", "yes", "on"):
            return True
        if text.lower() in ("false", "0", "no", "off"):
            return False
        raise ConfigError(f"--set {key}={text}: expected true or false.")
    try:
        if typ.startswith("int"):
            return int(text)
        if typ.startswith("float"):
            return float(text)
    except ValueError:
        raise ConfigError(f"--set {key}={text}: expected a number ({typ}).") from None
    return text


def parse_overrides(items: list[str]) -> dict[str, Any]:
    out = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set takes key=value, got {item!r} (example: --set epochs=10).")
        k, v = item.split("=", 1)
        out[k.strip()] = parse_value(k.strip(), v.strip())
    return out


def resolve(profile: str, task_overrides: dict[str, Any], method_overrides: dict[str, Any],
            user: dict[str, Any]) -> TrainConfig:
    if profile not in PROFILES:
        raise unknown_name("profile", profile, PROFILES)
    merged: dict[str, Any] = {}
    for layer in (PROFILES[profile], task_overrides, method_overrides, user):
        for k, v in layer.items():
            if k not in FIELDS:
                raise unknown_name("setting", k, FIELDS)
            merged[k] = v
    return TrainConfig(**merged)


@dataclass(frozen=True)
class RunSpec:
    """One run: what the run key hashes (everything that changes its numbers, the data included)."""

    task: str
    task_version: int
    method: str
    method_version: int
    backbone: str
    align_loss: str
    profile: str
    seed: int
    data_sha256: str  # the data file's checksum: a new file (real instead of generated) is a new run
    config: TrainConfig = field(default_factory=TrainConfig)
    source_sha256: str = ""  # the source files' checksum (source orca-text, cifar10); "" for xbench's text

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def key_dict(self) -> dict[str, Any]:
        """What the run key hashes: :meth:`as_dict` with the config reduced to :func:`key_settings`."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "config"}
        if not out["source_sha256"]:  # added later: runs on xbench's own text source keep their keys
            del out["source_sha256"]
        return {**out, "config": key_settings(self.config)}
