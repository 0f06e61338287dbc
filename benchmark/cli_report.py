"""``xbench report``: the leaderboard, the summary tables, the bound report and the figures (the CLI prints)."""

from __future__ import annotations

import sys
from pathlib import Path

from xbench.errors import XbenchError

EPILOG = """\
examples:
  xbench report                                   # ./results -> leaderboard, summaries, bound report, figures
  xbench report --results reports/sweep-cpu/results --out reports/sweep-cpu --published reports/published.csv
  xbench report --check --results results         # is the folder sound? writes nothing
"""


def add_parser(sub, fmt) -> None:
    rep = sub.add_parser("report", help="print and write the leaderboard (and bound-vs-test table) from result CSVs",
                         epilog=EPILOG, formatter_class=fmt)
    rep.add_argument("--results", default="results", help="results folder (default: ./results)")
    rep.add_argument("--out", default=None,
                     help="where to write leaderboard.{md,csv}, summary-PROFILE.{md,tex,csv} and bound.md "
                          "(default: the results folder)")
    rep.add_argument("--no-figures", action="store_true", help="skip the figures (PNG and PDF)")
    rep.add_argument("--check", action="store_true",
                     help="only check the results folder (files, schema versions, rows written twice, records, "
                          "mixed commits, unfinished runs); writes nothing; exit 1 on an error")
    rep.add_argument("--published", default=None, metavar="CSV",
                     help="published numbers to show beside the summary tables, never ranked (columns task, "
                          "method, value, source, note; e.g. reports/published.csv)")


def cmd_report(args) -> int:
    import pandas as pd

    from xbench import checks
    from xbench.report.bound import bound_report
    from xbench.report.leaderboard import COLUMNS, NOTE, format_table, leaderboard
    from xbench.results import ResultStore

    results = Path(args.results)
    if args.check:
        from xbench.report.check import check_results

        findings = check_results(results)
        for f in findings:
            print(f"{f.level}: {f.message}", file=sys.stderr if f.level == "error" else sys.stdout)
        errors = sum(f.level == "error" for f in findings)
        print(f"{results}: {errors} error(s), {sum(f.level == 'warning' for f in findings)} warning(s)")
        return 1 if errors else 0
    families = sorted(p.parent.name for p in results.glob("*/scores.csv"))
    if not families:
        raise XbenchError(f"no results under {results} (expected {results}/<family>/scores.csv). Run `xbench run` "
                          "first, or pass --results FOLDER.")
    out = checks.writable_dir(args.out or results, "--out")
    tables, sections, warnings = [], [], []
    for fam in families:  # everything is read and checked before anything is written
        store = ResultStore(results / fam)
        scores, curves = store.load_scores(), store.load_curves()
        t = leaderboard(scores)
        t.insert(0, "family", fam)
        tables.append((fam, t))
        text = bound_report(scores, curves) if not curves.empty else ""  # does the bound track the test error?
        if text:
            sections.append(f"## {fam}\n\n{text}\n")
        for m in store.unfinished():
            warnings.append(f"warning: {fam} run {m.get('run_key')} ({m.get('task')}, {m.get('method')}, seed "
                            f"{m.get('seed')}) started {m.get('started_at')} on {m.get('host')} (pid {m.get('pid')}) "
                            "and has no record: still running, or killed (out of memory? time limit?). Run the "
                            "same command again to retry it.")
    if all(t.empty for _, t in tables):
        raise XbenchError(f"the result files under {results} hold no rows yet. Run `xbench run` first.")
    allt = pd.concat([t for _, t in tables], ignore_index=True)
    allt.to_csv(out / "leaderboard.csv", index=False)
    (out / "leaderboard.md").write_text(format_table(allt, ["family", *COLUMNS]) + f"\n\n{NOTE}\n")
    written = [out / "leaderboard.md", out / "leaderboard.csv"]
    from xbench.report.summary import write_summaries

    if args.published and not Path(args.published).is_file():
        raise XbenchError(f"--published {args.published}: no such file (columns task, method, value, source, note).")
    written += write_summaries(results, families, out, args.published)
    if not args.no_figures:
        from xbench.report.figures import write_figures

        for fam in families:
            store = ResultStore(results / fam)
            fig_dir = out if len(families) == 1 else out / fam
            fig_dir.mkdir(parents=True, exist_ok=True)
            written += write_figures(store.load_scores(), store.load_curves(), fig_dir, folder=results / fam)
    if sections:
        (out / "bound.md").write_text("\n".join(sections))
        written.append(out / "bound.md")
    for w in warnings:
        print(w, file=sys.stderr)
    for fam, t in tables:
        print(f"{fam}\n{format_table(t)}\n")
    print(NOTE + "\n")
    if sections:
        print("\n".join(sections))
    print("wrote " + ", ".join(map(str, written)))
    return 0


