"""What a run would do, before it runs: its resolved settings and fidelity (``xbench config``), the
cost of a paper-profile run on a machine without a GPU (printed by ``xbench run`` before it starts),
and the model settings a body cannot run (checked before anything is written)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from xbench.errors import ConfigError

PROTOCOL = ("body", "source", "align_loss", "loss", "data_file", "spatial_stride", "channels", "train_frame",
            "test_frame", "split", "train_share", "selection", "tokens", "patch", "resize", "head")


def config_view(task: str, method_name: str, profile: str, backbone: str, align_loss: str | None,
                user: dict[str, Any], data_root: Path | None = None) -> dict[str, Any]:
    """The settings a run of ``method_name`` on ``task`` would use (``source=auto`` resolved against
    ``data_root``), the protocol they imply, and its fidelity."""
    from dataclasses import replace

    from xbench.config import key_settings, resolve, settings_diff, settings_hash
    from xbench.fidelity import assess, xbench_values
    from xbench.methods import get_method
    from xbench.source_files import resolve_source
    from xbench.tasks.registry import get_task

    from xbench.fidelity import body_config, default_backbone

    spec, method = get_task(task), get_method(method_name)
    backbone = backbone or default_backbone(spec, profile)
    root = Path(data_root) if data_root is not None else Path("/nonexistent")
    cfg, defaults = (replace(c, source=resolve_source(c.source, spec.modality, root)) for c in (
        resolve(profile, spec.profile_overrides(profile), method.overrides, user),
        resolve(profile, spec.profile_overrides(profile), method.overrides, {})))
    loss = (align_loss or method.align_loss) if method.aligns else "none"
    values = xbench_values(spec, method, cfg, backbone, loss) if method.model == "crossmodal" else {}
    return {"task": spec.name, "task_version": spec.version, "method": method.name, "method_version": method.version,
            "profile": profile, "settings_hash": settings_hash(method.version, cfg, method.reads),
            "changed": settings_diff(cfg, defaults, method.reads), "settings": key_settings(cfg, method.reads),
            "protocol": {k: values[k] for k in PROTOCOL if k in values},
            "backbone": backbone, "backbone_on_disk": bool(body_config(backbone)),
            "fidelity": assess(spec, method, cfg, backbone, loss).as_dict()}


def format_config(view: dict[str, Any]) -> str:
    fid = view["fidelity"]
    lines = [f"{view['task']} v{view['task_version']} / {view['method']} v{view['method_version']}, profile "
             f"{view['profile']}, settings hash {view['settings_hash']}"
             + (f", changed: {view['changed']}" if view["changed"] else ""), "settings:"]
    lines += [f"  {k:22s} {v}" for k, v in view["settings"].items()]
    if view["protocol"]:
        lines += ["protocol:"] + [f"  {k:22s} {v}" for k, v in view["protocol"].items()]
        if not view["backbone_on_disk"]:
            lines.append(f"  (the body {view['backbone']} is not on this machine: a run needs it in a local folder or "
                         "the Hugging Face cache)")
    n = len(fid["deviations"])
    lines.append(f"fidelity: {fid['status']}" + (f" ({n} setting(s) differ from the reference code)" if n else ""))
    lines += [f"  {d['setting']:22s} xbench {d['xbench']}; reference {d['reference']} ({d['source']})"
              for d in fid["deviations"]]
    if fid["choices"]:
        lines.append("xbench's choices (kept on purpose):")
        lines += [f"  {d['setting']:22s} xbench {d['xbench']}; reference {d['reference']} ({d['source']}): {d['why']}"
                  for d in fid["choices"]]
    return "\n".join(lines)


def paper_plan(specs, overrides: dict[str, Any], root: Path) -> list[str]:
    """What a paper-profile run on a machine without CUDA is about to do: the full-size files it will
    generate (samples, gigabytes, time at the generator's measured rate) and the training budget.
    Raises :class:`ConfigError` when the files it would generate do not fit on the disk."""
    from xbench.config import resolve
    from xbench.tasks.datafiles import generated_path, real_path, samples_needed

    lines, need_gb = [], 0.0
    for spec in specs:
        cfg = resolve("paper", spec.profile_overrides("paper"), {}, overrides)
        n = samples_needed(spec, cfg.n_samples)
        mb, rate = spec.generation_cost
        have = real_path(spec, root).exists() or (spec.can_generate and generated_path(spec, root, n).exists())
        gen = ""
        if not have:
            need_gb += n * mb / 1000
            gen = (f"its {n}-sample file is not under {root}: xbench generates it first"
                   + (f" (about {n * mb / 1000:.1f} GB, about {n / rate / 3600:.1f} h at {rate:g} samples/s on a "
                      "2-core CPU)" if rate else "") + "; then ")
        split = spec.split
        n_train = int(n * (1 - split.get("test_fraction", 0.1)) * (1 - split.get("val_fraction", 0.1)))
        lines.append(f"paper profile without a GPU: {spec.name}: {gen}each run trains {cfg.epochs} epochs over about "
                     f"{n_train} samples (the published protocol, meant for a GPU). Ctrl-C stops here; "
                     "`--profile cpu` trains on a laptop CPU within minutes per run.")
    free_gb = shutil.disk_usage(_existing_parent(root)).free / 1e9
    if need_gb > free_gb:
        raise ConfigError(f"the paper profile would generate about {need_gb:.1f} GB of data under {root}, and only "
                          f"{free_gb:.1f} GB are free there. Free space, point --data-root (or $XBENCH_DATA) at a "
                          "larger disk or at PDEBench's real files, or use --profile cpu. Nothing was written.")
    return lines


def _existing_parent(path: Path) -> Path:
    path = Path(path).expanduser().resolve()
    while not path.exists():
        path = path.parent
    return path


def check_bodies(specs, methods, profile: str, overrides: dict[str, Any], backbone: str | None) -> None:
    """ORCA's 2D wrapper (``embed_2d=orca``, the paper profile on 2D tasks) makes 3136 tokens and needs a
    Swin body; say so before anything runs instead of failing every run."""
    from xbench.config import resolve
    from xbench.fidelity import body_config, default_backbone

    for spec in specs:
        body = backbone or default_backbone(spec, profile)
        for method in methods:
            if method.model != "crossmodal" or spec.modality != "2d":
                continue
            cfg = resolve(profile, spec.profile_overrides(profile), method.overrides, overrides)
            if cfg.embed_2d == "orca" and body_config(body).get("model_type") != "swin":
                raise ConfigError(
                    f"{spec.name} in the {profile} profile uses ORCA's 2D wrapper (inputs resized to 224^2, patches "
                    f"of 4: 3136 tokens), which needs a Swin body, and {body!r} is not one. Pass --backbone "
                    "SWIN_FOLDER (ORCA: swin-base-patch4-window7-224-in22k, saved with save_pretrained), or --set "
                    "embed_2d=patch for xbench's small-patch 2D embedder with this body (its rows then say "
                    "fidelity=deviating).")
