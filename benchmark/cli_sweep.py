"""``xbench sweep``: tasks x methods x seeds x a settings grid, from a suite file or flags (the CLI prints)."""

from __future__ import annotations

import sys
import time

EPILOG = """\
examples:
  xbench sweep --list                                         # the suites that ship with xbench
  xbench sweep pdebench-1d --jobs 2                           # a suite by name, two worker processes
  xbench sweep my-suite.toml --dry-run                        # what would run (and what is finished)
  xbench sweep --tasks pdebench-diff-react --methods orca --seeds 0 1 2 --profile cpu --grid align_steps=0,15,60
  xbench sweep pdebench-1d --launcher submitit --launcher-option slurm_partition=gpu --launcher-option gpus_per_node=1
  xbench sweep pdebench-1d --launcher ray --launcher-option address=auto      # an existing Ray cluster

A suite file (TOML or YAML): name, tasks, methods, seeds, profile, backbone, align_loss, [set] (fixed
settings) and [grid] (lists; every combination runs). Finished runs are skipped, so a killed sweep
resumes where it stopped; sweeps sharing a results folder never run a key twice. Exit status: 0 all
ok, 1 a run failed (listed at the end with its reason), 2 bad input (checked before anything runs).
"""


def add_parser(sub, fmt) -> None:
    sw = sub.add_parser("sweep", help="run a suite: tasks x methods x seeds x settings grid, on worker processes",
                        epilog=EPILOG, formatter_class=fmt)
    sw.add_argument("suite", nargs="?", default=None, help="a suite name (--list) or a .toml/.yaml file")
    sw.add_argument("--list", action="store_true", help="list the suites that ship with xbench")
    sw.add_argument("--tasks", nargs="+", default=None, metavar="TASK", help="tasks (instead of a suite)")
    sw.add_argument("--methods", nargs="+", default=None, metavar="M", help="methods (default: the tasks' defaults)")
    sw.add_argument("--seeds", nargs="+", type=int, default=None, metavar="S", help="seeds (default: the suite's, or 0)")
    sw.add_argument("--profile", default=None, help="profile (default: the suite's, or quick)")
    sw.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a fixed setting")
    sw.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                    help="a setting swept over values (every combination of the grid runs)")
    sw.add_argument("--jobs", type=int, default=1, help="worker processes (default: 1)")
    sw.add_argument("--launcher", default="local", choices=["local", "submitit", "ray"],
                    help="where runs execute: local worker processes (default), submitit (Slurm; "
                         "--launcher-option cluster=local on one machine) or Ray (a local cluster, or "
                         "--launcher-option address=auto)")
    sw.add_argument("--launcher-option", action="append", default=[], metavar="KEY=VALUE",
                    help="passed to the launcher (submitit: cluster, slurm_partition, gpus_per_node, "
                         "timeout_min, ...; ray: address, num_cpus, cpus_per_run)")
    sw.add_argument("--results", default="results", help="results folder (default: ./results)")
    sw.add_argument("--data-root", default=None, help="data folder (default: $XBENCH_DATA or the user cache)")
    sw.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N (default: auto)")
    sw.add_argument("--allow-unverified-data", action="store_true", help="use real files whose MD5 does not match")
    sw.add_argument("--allow-pickle", action="store_true", help="trust the tasks' pickled data files")
    sw.add_argument("--save-predictions", action="store_true", help="keep each run's test predictions")
    sw.add_argument("--dry-run", action="store_true", help="plan (and generate data), print, run nothing")


def cmd_sweep(args) -> int:
    from xbench import checks
    from xbench.config import parse_overrides
    from xbench.errors import ConfigError
    from xbench.results import ResultStore, check_results_folder
    from xbench.sweep import SUITES, Suite, load_suite, plan_suite, run_sweep
    from xbench.tasks.datafiles import data_root, located_sha256

    if args.list:
        for path in sorted(SUITES.glob("*.toml")):
            s = load_suite(str(path))
            print(f"{s.name:22s} {s.profile:6s} {len(s.tasks)} task(s) x {len(s.methods or ['defaults'])} method(s) x "
                  f"{len(s.seeds)} seed(s) x {len(s.overrides())} setting(s)")
        return 0
    if args.suite is None and not args.tasks:
        raise ConfigError("give a suite (`xbench sweep --list`) or --tasks; see `xbench sweep --help`.")
    suite = load_suite(args.suite) if args.suite else Suite(name="flags", tasks=args.tasks)
    suite.tasks = args.tasks or suite.tasks
    suite.methods = args.methods or suite.methods
    suite.seeds = checks.seeds(args.seeds) if args.seeds else suite.seeds
    suite.profile = args.profile or suite.profile
    suite.set = {**suite.set, **parse_overrides(args.set)}
    for item in args.grid:
        key, _, values = item.partition("=")
        if not values:
            raise ConfigError(f"--grid takes KEY=V1,V2,..., got {item!r} (example: --grid align_steps=0,15,60).")
        suite.grid[key.strip()] = [v.strip() for v in values.split(",")]
    if args.jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, not {args.jobs}.")
    device = checks.device(args.device)
    root = checks.folder_or_absent(data_root(args.data_root), "--data-root")
    results = checks.writable_dir(args.results, "--results")
    from xbench.tasks.registry import get_task

    check_results_folder(results, sorted({get_task(t).family for t in suite.tasks}))
    files: dict = {}

    def data_sha256(spec, n):
        if (spec.name, n) not in files:
            files[spec.name, n] = located_sha256(spec, root, n, not args.dry_run, args.allow_unverified_data)
        return files[spec.name, n]

    runs = plan_suite(suite, data_sha256, root)
    finished = sum(ResultStore(results / p.spec.family).finished(p.key) for p, _ in runs)
    print(f"xbench sweep {suite.name}: {len(runs)} run(s) ({finished} finished, {len(runs) - finished} to run), "
          f"profile {suite.profile}, {args.jobs} job(s), device {device}, results {results}")
    if args.dry_run:
        for p, _ in runs:
            done = ResultStore(results / p.spec.family).finished(p.key)
            print(f"  {p.spec.name} {p.run.method} seed {p.run.seed} {p.settings or '-'} ({p.key})"
                  + (": finished" if done else ""))
        return 0

    def report(out, counts, elapsed):
        rate = elapsed / max(1, counts["done"] + counts["failed"])
        line = (f"[{counts['done'] + counts['failed']}/{counts['done'] + counts['failed'] + counts['remaining']}] "
                f"{out['task']} {out['method']} seed {out['seed']}: {out['status']}"
                + (f" ({out.get('wall_s', 0):.0f} s)" if out["status"] == "ok" else f" ({out.get('error', '')})")
                + f"; failed {counts['failed']}, remaining {counts['remaining']}, elapsed {elapsed:.0f} s, "
                  f"about {rate * counts['remaining'] / max(1, args.jobs):.0f} s left")
        print(line, flush=True)

    t0 = time.time()
    options = {}
    for item in args.launcher_option:
        key, _, value = item.partition("=")
        if not value:
            raise ConfigError(f"--launcher-option takes KEY=VALUE, got {item!r} (example: cluster=local).")
        options[key.strip()] = int(value) if value.strip().isdigit() else value.strip()
    outcomes = run_sweep(runs, results, root, str(device), args.jobs, args.allow_unverified_data,
                         args.save_predictions, report, args.launcher, options, allow_pickle=args.allow_pickle)
    failed = [o for o in outcomes if o["status"] == "failed"]
    print(f"sweep {suite.name}: {len(outcomes) - len(failed)} ok, {len(failed)} failed, {time.time() - t0:.0f} s")
    for o in failed:
        print(f"  FAILED {o['task']} {o['method']} seed {o['seed']} ({o['key']}): {o.get('error', '')}", file=sys.stderr)
    print(f"`xbench report --results {results}` writes the tables and figures.")
    return 1 if failed else 0
