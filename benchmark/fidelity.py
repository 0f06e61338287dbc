"""Fidelity: how a run's protocol compares with the reference code it claims to follow.

A task family registers, per task, the settings of the reference protocols (ORCA's configs and data
code, RECRAFT's and PaRe's additions), each with the file and line it was read from
(:func:`register_reference`). :func:`assess` compares a run's resolved settings with them: a run is
``faithful`` when every reference setting that applies to its method has the reference's value, and
``deviating`` otherwise, with the list of what differs. Settings where xbench deliberately keeps its
own choice (checkpoints selected on a validation split, the trained frame scored) are listed as
``choices``, not deviations. Methods without a published reference of their own (``finetune``,
``lora``, ...) are compared on the shared protocol (ORCA's fine-tuning and data settings), target-only
baselines are ``n/a``. The parity table in ``docs/parity.md`` is :func:`parity_rows` for every task.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# which reference scopes apply to a method: "*" (the shared protocol), "align" (ORCA's alignment
# stage), and the method's own ("recraft", "pare")
SCOPES: dict[str, tuple[str, ...]] = {
    "orca": ("*", "align"), "mmd-align": ("*", "align"), "recraft": ("*", "align", "recraft"), "pare": ("*", "pare"),
}
DELIBERATE = {  # xbench's choices where the reference's behaviour is a known flaw
    "selection": "xbench never selects checkpoints on the test split",
    "train_share": "the validation split is carved out of the reference's training split",
    "test_frame": "xbench scores the frame it trains on",
    "metric_space": "xbench scores de-normalised outputs, in the task's own units",
}


@dataclass(frozen=True)
class Ref:
    """One setting of a reference protocol: its value and where it was read."""

    value: Any
    source: str  # "ORCA src/configs/PDEBG.yaml:30"
    note: str = ""


@dataclass
class Fidelity:
    status: str  # "faithful", "deviating" or "n/a"
    deviations: list[dict[str, Any]] = field(default_factory=list)
    choices: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_REFS: dict[str, dict[str, dict[str, Ref]]] = {}


def register_reference(task: str, scope: str, refs: dict[str, Ref]) -> None:
    _REFS.setdefault(task, {}).setdefault(scope, {}).update(refs)


def references(task: str, method: str) -> dict[str, Ref]:
    """The reference settings that apply to ``method`` on ``task`` (later scopes win)."""
    from xbench.tasks.registry import load_families

    load_families()
    out: dict[str, Ref] = {}
    for scope in SCOPES.get(method, ("*",)):
        out.update(_REFS.get(task, {}).get(scope, {}))
    return out


# the bodies of the reference code (ORCA, RECRAFT, PaRe) by input rank: the paper profile's default
REFERENCE_BODIES = {"1d": "roberta-base", "2d": "microsoft/swin-base-patch4-window7-224-in22k"}


def default_backbone(spec, profile: str) -> str:
    """The body a run uses without ``--backbone``: the reference's in the paper profile (read from a
    local folder or the Hugging Face cache, never downloaded), the offline MiniLM elsewhere."""
    from xbench.models.backbone import DEFAULT_BACKBONE

    return REFERENCE_BODIES[spec.modality] if profile == "paper" else DEFAULT_BACKBONE


def _body_name(backbone: str) -> str:
    """The body a ``--backbone`` value names (``random[:NAME]``: NAME, or the offline default)."""
    from xbench.models.backbone import DEFAULT_BACKBONE

    return (backbone.partition(":")[2] or DEFAULT_BACKBONE) if backbone.startswith("random") else backbone


def body_config(backbone: str) -> dict[str, Any]:
    """The Hugging Face config of a body, from its folder or the local Hugging Face cache (``{}`` when
    there is none to read), without loading weights."""
    from xbench.models.backbone import resolve_path

    name = _body_name(backbone)
    path = Path(resolve_path(name)) / "config.json"
    if not path.exists():
        try:
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(repo_id=name, filename="config.json")
            path = Path(cached) if isinstance(cached, str) else path
        except Exception:  # noqa: BLE001 - not a hub id, no cache: nothing to read
            return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def body_identity(backbone: str, pretrained: bool) -> str:
    """What a body is, read from its config without loading weights: a reference name where the
    architecture is one (RoBERTa-base, Swin-base in22k), else the name the user gave."""
    name = _body_name(backbone)
    c = body_config(backbone)
    if not c:  # a reference id that is not on this machine is still named as the reference (a run checks it)
        return name.rpartition("/")[2] if name in REFERENCE_BODIES.values() else backbone
    ident = backbone
    if c.get("model_type") == "roberta" and c.get("hidden_size") == 768 and c.get("num_hidden_layers") == 12:
        ident = "roberta-base"
    elif (c.get("model_type") == "swin" and c.get("embed_dim") == 128 and c.get("depths") == [2, 2, 18, 2]
          and c.get("patch_size") == 4 and c.get("window_size") == 7 and len(c.get("id2label", {})) == 21841):
        ident = "swin-base-patch4-window7-224-in22k"
    elif name == "minilm":
        ident = "minilm (all-MiniLM-L6-v2)"
    return ident + ("" if pretrained and not backbone.startswith("random") else " (random weights)")


def xbench_values(spec, method, cfg, backbone: str, align_loss: str) -> dict[str, Any]:
    """xbench's value of every setting a reference may name, for a run of ``method`` on ``spec``."""
    from xbench.models.embedders import stack_num
    from xbench.models.embedders2d import ORCA_PATCH, ORCA_SIZE, patch_size_2d

    values: dict[str, Any] = dict(dataclasses.asdict(cfg))
    split = spec.split
    values.update({
        "body": body_identity(backbone, method.pretrained),
        "source": {"orca-text": "ORCA text features (text_xs_32.npy, text_ys_32.npy)",
                   "cifar10": f"CIFAR-10 training images ({cfg.n_source}), Swin patch features"}.get(
            cfg.source, "offline text corpus (CPython documentation), k-means labels"),
        "align_loss": align_loss,
        "loss": f"{spec.loss} on {cfg.loss_space} targets",
        "train_frame": spec.protocol.get("target_frame"), "test_frame": spec.protocol.get("target_frame"),
        "selection": (f"validation split ({split['n_val']} samples of the reference split)" if "n_val" in split
                      else f"validation split ({split.get('val_fraction', 0.1):.0%} of training)"),
        "train_share": round((1 - split.get("test_fraction", 0.1)) * (1 - split.get("val_fraction", 0.1)), 4),
        "accum": 1, "dropout": 0.0, "finetune": "all", "metric_space": "raw fields (the task's units)",
        "align_steps": cfg.align_steps if method.aligns else 0,
        "data_file": Path(spec.data.path).name, "spatial_stride": spec.protocol.get("spatial_stride", 1),
        "split": f"{split.get('test_position', 'first')} {split.get('test_fraction', 0.1):.0%}".replace("%", " %")
                 + (", grouped by input field" if split.get("grouped") else ""),
        "channels": (f"input channel {','.join(map(str, spec.protocol['input_channels']))} -> target channel "
                     f"{','.join(map(str, spec.protocol['target_channels']))}" if "input_channels" in spec.protocol
                     else "all -> all"),
    })
    if spec.modality == "1d":
        c, length = spec.input_shape
        if cfg.channels_1d == "flatten":
            c, length = 1, c * length
        k = stack_num(length, cfg.target_seq_len)
        values.update({"tokens": length // k, "patch": f"{c} x {k}", "resize": "none",
                       "head": ("parameter-free average pooling over the hidden dimension" if cfg.dense_head == "pool"
                                else "Linear(d, C k) per token")})
    else:
        c, h, w = spec.input_shape
        if cfg.embed_2d == "orca":
            values.update({"tokens": (ORCA_SIZE // ORCA_PATCH) ** 2, "patch": f"{c} x {ORCA_PATCH} x {ORCA_PATCH}",
                           "resize": f"{ORCA_SIZE} x {ORCA_SIZE}",
                           "head": "Swin masked-image-modelling decoder (random init), channel mean, adaptive pooling"})
        else:
            p = patch_size_2d(h, w, cfg.target_seq_len)
            values.update({"tokens": math.ceil(h / p) * math.ceil(w / p), "patch": f"{c} x {p} x {p}",
                           "resize": "none", "head": "Linear(d, C p^2) per token, pixel shuffle"})
    n = values["tokens"]
    half = cfg.source_head_epochs // 2
    values.update({"fld_reads": ("the frozen body's output per token" if cfg.fld_reads == "body"
                                 else "mean-pooled embedder features"),
                   "fa_weight": "chunk size / loader length" if cfg.align_chunk_weight == "loader" else 1.0,
                   "source_head": (f"{half} epochs CE, then {cfg.source_head_epochs - half} with the tau-hinge"
                                   if cfg.source_hinge else f"{cfg.source_head_epochs} epochs of cross-entropy"),
                   "pare_k": (f"{cfg.pare_tokens} (1 - epoch/epochs) tokens" if cfg.pare_tokens > 0 else
                              f"{round(cfg.pare_begin * n)} - {round(cfg.pare_end * n)} epoch/epochs of {n} tokens"),
                   "pare_replace": ("highest-gated target tokens (deterministic phase)"
                                    if cfg.pare_replace == "reference" else "lowest-gated target tokens")})
    return values


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9)
    return a == b


def assess(spec, method, cfg, backbone: str, align_loss: str) -> Fidelity:
    """The fidelity of a run (module docstring)."""
    if method.model != "crossmodal":
        return Fidelity("n/a")
    refs = references(spec.name, method.name)
    if not refs:
        return Fidelity("n/a")
    mine = xbench_values(spec, method, cfg, backbone, align_loss)
    fid = Fidelity("faithful")
    for setting, ref in sorted(refs.items()):
        if _same(mine.get(setting), ref.value):
            continue
        row = {"setting": setting, "reference": ref.value, "xbench": mine.get(setting), "source": ref.source}
        if setting in DELIBERATE:
            fid.choices.append({**row, "why": DELIBERATE[setting]})
        else:
            fid.deviations.append(row)
    if fid.deviations:
        fid.status = "deviating"
    return fid


def summary(fid: Fidelity, limit: int = 6) -> str:
    """One line: the status and what deviates (``xbench run`` prints it before a paper-profile run)."""
    if fid.status != "deviating":
        return fid.status
    items = [f"{d['setting']} {d['xbench']!s} (reference {d['reference']!s})" for d in fid.deviations]
    more = f"; and {len(items) - limit} more" if len(items) > limit else ""
    return f"deviating: {'; '.join(items[:limit])}{more}"


def parity_rows(profile: str = "paper") -> list[dict[str, Any]]:
    """Every reference setting of every task x {orca, recraft, pare}: reference, source, xbench's value."""
    from xbench.config import resolve
    from xbench.methods import get_method
    from xbench.tasks.registry import list_tasks

    rows = []
    for spec in list_tasks():
        for name in ("orca", "recraft", "pare"):
            refs = references(spec.name, name)
            if not refs:
                continue
            method = get_method(name)
            cfg = resolve(profile, spec.profile_overrides(profile), method.overrides, {})
            cfg = dataclasses.replace(cfg, source="text" if cfg.source == "auto" else cfg.source)  # no files here
            mine = xbench_values(spec, method, cfg, default_backbone(spec, profile), method.align_loss)
            for setting, ref in sorted(refs.items()):
                same = _same(mine.get(setting), ref.value)
                rows.append({"task": spec.name, "method": name, "setting": setting, "reference": ref.value,
                             "source": ref.source, "xbench": mine.get(setting),
                             "status": "same" if same else ("choice" if setting in DELIBERATE else "deviates"),
                             "note": ref.note})
    return rows


def parity_markdown(profile: str = "paper") -> str:
    """``docs/parity.md``: :func:`parity_rows` as one table per task (``benchmarks/parity_table.py``)."""
    rows = parity_rows(profile)
    lines = [
        "# Parity: the paper profile beside the reference code",
        "",
        f"Every setting of the reference protocols that xbench's `{profile}` profile resolves, for each task and",
        "for `orca`, `recraft` and `pare`: the reference value, the file and line it comes from (ORCA",
        "`sjunhongshen/ORCA` at 19b8c1c, RECRAFT `khiembk/RECRAFT` at abc2a04, PaRe `BIT-DA/PaRe` at",
        "7d5362c), and xbench's value with the profile's default body (the reference's, from a local folder",
        "or the Hugging Face cache) and source (xbench's text, where ORCA's files are not on disk: see",
        "`source`). `deviates`: a run with these settings is",
        "recorded as `fidelity=deviating`; `choice`: xbench's deliberate choice, recorded but not a",
        "deviation. Written by `python benchmarks/parity_table.py`; a test checks that it matches the",
        "code. `xbench config TASK --method M --profile paper` shows the same for any setup. The `-ar`",
        "tasks follow PDEBench's own protocol, which no cross-modal paper ran: they have no reference here.",
        "",
    ]
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    lines.append("Totals: " + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("same", "choice", "deviates")) + ".")
    for task in dict.fromkeys(r["task"] for r in rows):
        lines += ["", f"## {task}", "", "| method | setting | reference | source | xbench | status |",
                  "|---|---|---|---|---|---|"]
        for r in (r for r in rows if r["task"] == task):
            ref = f"{r['reference']}" + (f" ({r['note']})" if r["note"] else "")
            lines.append(f"| {r['method']} | {r['setting']} | {ref} | {r['source']} | {r['xbench']} | {r['status']} |")
    return "\n".join(lines) + "\n"
