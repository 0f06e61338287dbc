"""The ``xbench`` command line. The library logs; this module prints."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from xbench.errors import ConfigError, XbenchError

EPILOG_MAIN = """\
examples:
  xbench run pdebench-burgers                      # baselines + default methods, quick profile on CPU
  xbench run pdebench-burgers --method orca --seeds 0 1 2
  xbench run pdebench-burgers --set epochs=20 --set lr=1e-4
  xbench ls tasks
  xbench data generate pdebench-burgers --n-samples 1000
  xbench data verify pdebench-burgers --data-root /data/pdebench   # MD5 + data generation of a real file
  xbench data card pdebench-shallow-water          # distinct inputs, train/test twins, baselines' scores
  xbench config pdebench-darcy --method orca --profile paper   # resolved settings, fidelity to ORCA's code
  xbench sweep pdebench-1d --jobs 2                # a suite (xbench sweep --list), resumable
  xbench report                                    # tables (md, tex, csv), bound report, figures
"""

EPILOG_RUN = """\
examples:
  xbench run pdebench-burgers
  xbench run pdebench-burgers --method finetune orca --seeds 0 1 2
  xbench run pdebench-burgers --profile paper --backbone /models/roberta-base --device cuda
  xbench run pdebench-burgers --method orca --align-loss otdd --set align_steps=30
  xbench run pdebench-advection --protocol autoregressive --method fno unet   # PDEBench's roll-out protocol
  XBENCH_DATA=/data/pdebench xbench run pdebench-burgers   # uses a real PDEBench file when present

Finished runs (same run key) are skipped, so re-running a command resumes it; runs that another
live process holds (a parallel job on the same results folder) are left to it. Results go to
RESULTS/<family>/{scores.csv,curves.csv,runs/<key>.json}. Exit status: 0 all ok, 1 a run failed,
2 bad input (checked before anything runs).
"""


EPILOG_VERIFY = """\
examples:
  xbench data verify pdebench-advection --data-root /data/pdebench
  XBENCH_DATA=/data/pdebench xbench data verify pdebench-burgers

Checks <root>/<task's path> (the layout of PDEBench's download script) against the MD5 in PDEBench's
download manifest and says which generation it is (Advection/Burgers: before or after the 2023 flux
fix). The MD5 is cached in <file>.md5.json. Exit status: 0 match, 1 mismatch (re-download), 3 nothing
to check (file missing, xbench-generated, or not in the manifest), 2 bad input.
"""


EPILOG_CONFIG = """\
examples:
  xbench config pdebench-darcy --method orca --profile paper
  xbench config pdebench-burgers --method recraft --profile paper --backbone /models/roberta-base
  xbench config pdebench-advection --method pare --profile cpu --set epochs=20 --json

Prints the settings a run would use (profile -> task -> method -> --set), the protocol they imply
(body, tokens, frames, split, loss), and its fidelity to the reference code: each setting that
differs from ORCA's / RECRAFT's / PaRe's, with the file and line the reference value comes from
(docs/parity.md has the whole table). Runs nothing and reads no data.
"""


def _parser() -> argparse.ArgumentParser:
    from xbench.config import FIELDS, PROFILES
    from xbench.methods import DEFAULT_METHODS
    from xbench.models import DEFAULT_BACKBONE
    from xbench.models.baselines import CHEAP

    import xbench

    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(prog="xbench", description="Benchmark cross-modal fine-tuning methods.",
                                epilog=EPILOG_MAIN, formatter_class=fmt)
    p.add_argument("-v", "--verbose", action="count", default=0, help="log more (-v info, -vv debug)")
    p.add_argument("--version", action="version", version=f"xbench {xbench.__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="run methods on tasks and print the ranked comparison",
                       epilog=EPILOG_RUN, formatter_class=fmt)
    r.add_argument("tasks", nargs="+", metavar="TASK", help="task name(s), see `xbench ls tasks`")
    r.add_argument("--method", nargs="+", default=None, metavar="M",
                   help=f"method(s), see `xbench ls methods` (default: the cheap baselines that apply to the task, "
                        f"{', '.join(CHEAP)}, then {' '.join(DEFAULT_METHODS)})")
    r.add_argument("--protocol", choices=["single-step", "autoregressive"], default="single-step",
                   help="single-step: the task's own (ORCA's) protocol; autoregressive: PDEBench's roll-out "
                        "protocol, i.e. the task's '-ar' variant (default: single-step)")
    r.add_argument("--seeds", nargs="+", type=int, default=[0], metavar="S", help="seeds (default: 0)")
    r.add_argument("--profile", choices=sorted(PROFILES), default=None,
                   help="hyper-parameter profile (default: quick on CPU, paper on a GPU)")
    r.add_argument("--backbone", default=None,
                   help=f"'{DEFAULT_BACKBONE}' (the offline default; in the paper profile the default is the "
                        "reference's body, roberta-base for 1D and swin-base-patch4-window7-224-in22k for 2D tasks, "
                        "from the local Hugging Face cache), a local Hugging Face folder, a cached model id, "
                        "or 'random[:NAME]' for the same architecture with random weights")
    r.add_argument("--align-loss", default=None, metavar="NAME",
                   help="alignment loss for methods that align (default: the method's own)")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting; keys: " + ", ".join(FIELDS))
    r.add_argument("--data-root", default=None, help="data folder (default: $XBENCH_DATA or the user cache)")
    r.add_argument("--allow-unverified-data", action="store_true",
                   help="use a real file whose MD5 does not match PDEBench's manifest (rows record "
                        "data_source=pdebench-file-unverified)")
    r.add_argument("--allow-pickle", action="store_true", help="trust the task's pickled data files (NAS-Bench-360's ECG, Satellite, "
                   "Spherical, CIFAR-100, PSICOV, Cosmic lists): a pickle can run code when loaded; `xbench data convert "
                   "TASK` converts them once instead")
    r.add_argument("--results", default="results", help="results folder (default: ./results)")
    r.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N | mps (default: auto)")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")
    r.add_argument("--log-to", default=None, choices=["tensorboard", "wandb"],
                   help="mirror each run's curves live to TensorBoard or Weights & Biases (their own packages; "
                        "curves.csv stays the record)")
    r.add_argument("--log-dir", default=None, help="where --log-to writes (default: RESULTS/live)")
    r.add_argument("--save-predictions", action="store_true",
                   help="keep each run's test predictions (runs/<key>.pred.npz, compressed) to re-score or plot them "
                        "without retraining; not part of the run key")

    ls = sub.add_parser("ls", help="list tasks, methods, metrics, alignment losses or profiles")
    ls.add_argument("what", choices=["tasks", "methods", "metrics", "align-losses", "profiles"])

    d = sub.add_parser("data", help="generate or inspect task data")
    dsub = d.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    g = dsub.add_parser("generate", help="generate a task's data with xbench's solvers (real layout)")
    g.add_argument("task")
    g.add_argument("--n-samples", type=int, default=None, help="samples (default: the quick profile's)")
    g.add_argument("--data-root", default=None)
    i = dsub.add_parser("info", help="where a task's data is and what it holds")
    i.add_argument("task")
    i.add_argument("--data-root", default=None)
    c = dsub.add_parser("card", help="how hard a task is: distinct inputs, train/test twins, baselines' scores",
                        epilog="examples:\n  xbench data card pdebench-shallow-water\n"
                               "  xbench data card pdebench-darcy --profile cpu --json card.json",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("task")
    c.add_argument("--profile", default="quick", help="whose n_samples to use (default quick)")
    c.add_argument("--n-samples", type=int, default=None, help="samples (default: the profile's)")
    c.add_argument("--data-root", default=None)
    c.add_argument("--allow-unverified-data", action="store_true", help="use a real file whose MD5 does not match")
    c.add_argument("--allow-pickle", action="store_true", help="trust the task's pickled data files")
    c.add_argument("--json", default=None, metavar="FILE", help="also write the card as JSON")
    v = dsub.add_parser("verify", help="check a real file against PDEBench's MD5 and name its data generation",
                        epilog=EPILOG_VERIFY, formatter_class=argparse.RawDescriptionHelpFormatter)
    v.add_argument("task")
    v.add_argument("--data-root", default=None)
    v.add_argument("--no-progress", action="store_true", help="no progress bar while hashing")
    cv = dsub.add_parser("convert", help="convert a task's pickled files once to safe .npz files that runs read "
                         "without unpickling (loads each pickle once: run it only on files you trust)",
                         epilog="example:\n  xbench data convert nb360-ecg --data-root /data/nb360",
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    cv.add_argument("task")
    cv.add_argument("--data-root", default=None)

    cf = sub.add_parser("config", help="print a run's resolved settings and its fidelity to the reference code",
                        epilog=EPILOG_CONFIG, formatter_class=fmt)
    cf.add_argument("task", metavar="TASK")
    cf.add_argument("--method", default="orca", metavar="M", help="method (default: orca)")
    cf.add_argument("--profile", choices=sorted(PROFILES), default="quick", help="profile (default: quick)")
    cf.add_argument("--backbone", default=None,
                    help=f"body (default: the profile's, {DEFAULT_BACKBONE} or in the paper profile the reference's)")
    cf.add_argument("--align-loss", default=None, metavar="NAME", help="alignment loss (default: the method's own)")
    cf.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a setting")
    cf.add_argument("--data-root", default=None, help="where source=auto looks for the reference's source files "
                    "(default: $XBENCH_DATA or the user cache)")
    cf.add_argument("--json", action="store_true", help="print JSON instead of text")

    from xbench import cli_report, cli_sweep

    cli_report.add_parser(sub, fmt)
    cli_sweep.add_parser(sub, fmt)
    return p


def _autoregressive_variant(task: str) -> str:
    from xbench.tasks.registry import get_task, list_tasks

    name = task if task.endswith("-ar") else f"{task}-ar"
    if name not in {t.name for t in list_tasks()}:
        get_task(task)  # an unknown task name gets the registry's suggestion
        raise ConfigError(f"task {task} has no autoregressive variant (PDEBench scores it in one step); run it "
                          "without --protocol autoregressive. Variants: `xbench ls tasks` lists the '-ar' tasks.")
    return name


def _cmd_run(args) -> int:
    from xbench import checks
    from xbench.config import parse_overrides, resolve
    from xbench.methods import get_method
    from xbench.report.leaderboard import NOTE, format_table, leaderboard
    from xbench.results import ResultStore, check_results_folder
    from xbench.runner import execute_run, plan
    from xbench.tasks.datafiles import data_root, load_task_data, located_sha256
    from xbench.tasks.registry import get_task

    # every input is checked before any data is generated or any run starts
    device = checks.device(args.device)
    seeds = checks.seeds(args.seeds)
    profile = args.profile or ("paper" if device.type == "cuda" else "quick")
    overrides = parse_overrides(args.set)
    if args.align_loss is not None:
        from xbench.align import ALIGNMENT_LOSSES

        ALIGNMENT_LOSSES.get(args.align_loss)
    if args.protocol == "autoregressive":
        args.tasks = [_autoregressive_variant(t) for t in args.tasks]
    specs = [get_task(t) for t in args.tasks]
    for spec in specs:
        resolve(profile, spec.profile_overrides(profile), {}, overrides)
    from xbench.runner import default_methods

    names = args.method or sorted({m for spec in specs for m in default_methods(spec)})
    methods = [get_method(m) for m in names]
    from xbench.models.baselines import baseline_problem

    for spec in specs:
        for m in methods:
            problem = "" if m.model == "crossmodal" or args.method is None else baseline_problem(m.model, spec)
            if problem:
                raise ConfigError(f"{problem}. Leave {m.name} out for this task.")
    if any(m.model == "crossmodal" for m in methods):
        from xbench.fidelity import default_backbone
        from xbench.preflight import check_bodies

        for body in sorted({args.backbone or default_backbone(spec, profile) for spec in specs}):
            checks.backbone(body, reference=args.backbone is None and profile == "paper")
        check_bodies(specs, methods, profile, overrides, args.backbone)
    root = checks.folder_or_absent(data_root(args.data_root), "--data-root")
    results = checks.writable_dir(args.results, "--results")
    check_results_folder(results, sorted({s.family for s in specs}))
    progress = not args.no_progress
    files: dict = {}

    def data_sha256(spec, n_samples):
        if (spec.name, n_samples) not in files:
            files[spec.name, n_samples] = located_sha256(spec, root, n_samples, progress, args.allow_unverified_data)
        return files[spec.name, n_samples]

    if profile == "paper" and device.type != "cuda":
        from xbench.preflight import paper_plan

        for line in paper_plan(specs, overrides, root):
            print(line, flush=True)
    runs = plan(args.tasks, args.method, seeds, profile, args.backbone, args.align_loss, overrides, data_sha256, root)
    print(f"xbench: {len(runs)} run(s), profile {profile}, device {device}, data root {root}, results {results}")
    if profile == "paper":
        from xbench.fidelity import summary

        seen = set()
        for p in runs:
            if p.fidelity and p.fidelity.status == "deviating" and (p.spec.name, p.run.method) not in seen:
                seen.add((p.spec.name, p.run.method))
                print(f"fidelity: {p.spec.name} {p.run.method} is not ORCA's/the paper's protocol here, "
                      f"{summary(p.fidelity)}. Its rows say fidelity=deviating and rank apart from faithful ones; "
                      f"`xbench config {p.spec.name} --method {p.run.method} --profile paper` lists every difference.")
    data_cache: dict = {}
    failed = busy = 0
    for n, p in enumerate(runs, 1):
        store = ResultStore(results / p.spec.family)
        head = f"[{n}/{len(runs)}] {p.spec.name} {p.run.method} seed {p.run.seed} ({p.key})"
        if store.finished(p.key):
            print(f"{head}: already finished, skipped")
            continue
        dkey = (p.spec.name, p.run.config.n_samples)
        if dkey not in data_cache:
            t0 = time.time()
            data_cache[dkey] = load_task_data(p.spec, root, p.run.config.n_samples, progress,
                                              args.allow_unverified_data, args.allow_pickle)
            d = data_cache[dkey]
            print(f"data: {p.spec.name} from {d.data_source} file {d.data_path} "
                  f"(splits {d.sizes()}, {time.time() - t0:.1f} s)")
        print(f"{head} ...", flush=True)
        out = execute_run(p, data_cache[dkey], store, device, root / "cache" / "source", progress=progress,
                          data_root=root, save_predictions=args.save_predictions,
                          live=(args.log_to, Path(args.log_dir or results / "live")) if args.log_to else None)
        if out.status == "ok":
            print(f"{head}: ok, test {p.spec.main_metric} = {out.main_value:.4g} ({out.wall_s:.0f} s)")
        elif out.status == "skipped":
            print(f"{head}: finished by another process meanwhile, skipped")
        elif out.status == "busy":
            busy += 1
            print(f"{head}: in progress in another live process, left to it")
        else:
            failed += 1
            print(f"{head}: FAILED ({out.error}); recorded with status=failed")
    for family in sorted({p.spec.family for p in runs}):
        scores = ResultStore(results / family).load_scores()
        keys = {p.key for p in runs}
        table = leaderboard(scores[scores["run_key"].isin(keys)])
        print(f"\n{family} ({profile} profile, test split, main metric; lower rank is better)\n" + format_table(table))
    print(f"\n{NOTE}")
    if busy:
        print(f"\n{busy} run(s) were in progress in other processes; run the command again after they end to "
              "include them in this table.", file=sys.stderr)
    if failed:
        print(f"\n{failed} run(s) failed; see the 'error' field in the run records under {results}.", file=sys.stderr)
        return 1
    return 0


def _cmd_ls(args) -> int:
    if args.what == "tasks":
        from xbench.tasks.registry import list_tasks

        for s in list_tasks():
            print(f"{s.name:32s} v{s.version}  {s.modality}  {s.kind:16s} {s.description}")
    elif args.what == "methods":
        from xbench.methods import list_methods

        for m in list_methods():
            phases = " -> ".join(p.kind + (f"({m.align_loss})" if p.uses_alignment else "") for p in m.phases) or "none"
            print(f"{m.name:16s} v{m.version}  {phases:24s} {m.description}")
    elif args.what == "metrics":
        from xbench.metrics import METRICS

        for m in METRICS.values():
            print(f"{m.name:18s} {'higher' if m.higher_is_better else 'lower'} is better  {m.description}")
    elif args.what == "align-losses":
        from xbench.align import ALIGNMENT_LOSSES

        for name, cls in ALIGNMENT_LOSSES.items():
            print(f"{name:12s} {(cls.__doc__ or '').strip().splitlines()[0]}")
    else:
        from xbench.config import PROFILES, resolve

        for name in PROFILES:
            print(f"{name}: {json.dumps(resolve(name, {}, {}, {}).__dict__)}")
    return 0


def _cmd_data(args) -> int:
    from xbench import checks
    from xbench.config import resolve
    from xbench.errors import ConfigError
    from xbench.tasks.datafiles import data_root, ensure_generated
    from xbench.tasks.registry import FAMILIES, get_task

    spec = get_task(args.task)
    family = FAMILIES[spec.family]
    root = checks.folder_or_absent(data_root(args.data_root), "--data-root")
    if args.data_command == "verify":
        code, message = family.verify(spec, root, progress=not args.no_progress)
        print(message)
        return code
    if args.data_command == "convert":
        if family.convert is None:
            print(f"{spec.name}: the {spec.family} family's files need no conversion.")
            return 0
        for path in family.convert(spec, root):
            print(f"{spec.name}: wrote {path}")
        return 0
    if args.data_command == "card":
        from xbench.report.datacard import data_card, format_card
        from xbench.tasks.datafiles import load_task_data

        cfg = resolve(args.profile, spec.profile_overrides(args.profile), {},
                      {} if args.n_samples is None else {"n_samples": args.n_samples})
        data = load_task_data(spec, root, cfg.n_samples, True, args.allow_unverified_data, args.allow_pickle)
        card = data_card(spec, data, cfg)
        print(format_card(card))
        if args.json:
            Path(args.json).write_text(json.dumps(card, indent=2) + "\n")
        return 0
    if args.data_command == "generate":
        if args.n_samples is not None and args.n_samples < 1:
            raise ConfigError(f"--n-samples must be a positive number, not {args.n_samples}.")
        n = args.n_samples or resolve("quick", spec.profile_overrides("quick"), {}, {}).n_samples
        t0 = time.time()
        path = ensure_generated(spec, root, n)
        print(f"{spec.name}: {path} ({n} samples, {time.time() - t0:.1f} s)")
        return 0
    print(f"task {spec.name} v{spec.version}: {spec.description}")
    print(family.info(spec, root))
    return 0


def _cmd_config(args) -> int:
    from xbench.config import parse_overrides
    from xbench.preflight import config_view, format_config
    from xbench.methods import get_method

    if get_method(args.method).model == "crossmodal" and args.backbone:
        from xbench import checks

        checks.backbone(args.backbone)
    from xbench.tasks.datafiles import data_root

    view = config_view(args.task, args.method, args.profile, args.backbone, args.align_loss, parse_overrides(args.set),
                       data_root(args.data_root))
    print(json.dumps(view, indent=2, default=str) if args.json else format_config(view))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        from xbench import cli_report, cli_sweep

        return {"run": _cmd_run, "ls": _cmd_ls, "data": _cmd_data, "report": cli_report.cmd_report,
                "config": _cmd_config, "sweep": cli_sweep.cmd_sweep}[args.command](args)
    except XbenchError as e:
        print(f"xbench: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xbench: interrupted; finished runs are recorded, re-run the command to resume.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `xbench report | head`: the files are written; stop printing quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
