"""Saved test predictions (``xbench run --save-predictions``): re-score runs with any metric, and draw
predicted against true fields, without retraining.

``runs/<key>.pred.npz`` holds the de-normalised ``prediction``, the ``target`` and the ``input`` of the
test split, in the task's (N, C, *spatial) layout. :func:`rescore` computes a registered metric on
them for every run that saved some (one row per run: the attempt's metadata from scores.csv);
:func:`prediction_figure` plots a few test samples of each method's seed-0 run.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from xbench.results import ResultStore, latest_attempts


def _runs_with_predictions(store: ResultStore, scores: pd.DataFrame) -> pd.DataFrame:
    s = latest_attempts(scores)
    s = s[(s["status"] == "ok") & (s["split"] == "test") & (s["is_main"].astype(str) == "True")]
    return s[[(store.runs_dir / f"{k}.pred.npz").exists() for k in s["run_key"]]].drop_duplicates("run_key")


def rescore(folder: str | Path, metric: str) -> pd.DataFrame:
    """``metric`` (a name from ``xbench ls metrics``) on the saved test predictions of every run."""
    from xbench.metrics import get_metric
    from xbench.tasks.registry import load_families

    load_families()
    store = ResultStore(folder)
    runs = _runs_with_predictions(store, store.load_scores())
    fn = get_metric(metric)
    rows = []
    for _, r in runs.iterrows():
        arrays = store.load_predictions(r["run_key"])
        value = float(fn.fn(torch.as_tensor(arrays["prediction"]), torch.as_tensor(arrays["target"])))
        rows.append({**{c: r[c] for c in ("run_key", "task", "method", "profile", "seed", "settings_hash")},
                     "metric": metric, "value": value})
    return pd.DataFrame(rows)


def prediction_figure(folder: str | Path, profile: str, task: str, stem: Path, samples: int = 3) -> list[Path]:
    from xbench.report.figures import _plt, _save

    store = ResultStore(folder)
    runs = _runs_with_predictions(store, store.load_scores())
    runs = runs[(runs["profile"] == profile) & (runs["task"] == task) & (runs["seed"] == 0)]
    if runs.empty:
        return []
    plt = _plt()
    preds = {r["method"]: store.load_predictions(r["run_key"]) for _, r in runs.iterrows()}
    target = next(iter(preds.values()))["target"]
    n = min(samples, len(target))
    if target.ndim == 3:  # 1D: (N, C, L), channel 0
        fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.2), squeeze=False, layout="constrained")
        for i, ax in enumerate(axes.flat):
            ax.plot(target[i, 0], color="black", lw=2, label="true")
            for method, a in preds.items():
                ax.plot(a["prediction"][i, 0], lw=1, label=method)
            ax.set_title(f"test sample {i}", fontsize=9)
            ax.set_xlabel("cell")
        axes.flat[0].set_ylabel("field (channel 0)")
        axes.flat[0].legend(fontsize=7)
    else:  # 2D: (N, C, H, W), channel 0; one column per method
        cols = 1 + len(preds)
        fig, axes = plt.subplots(n, cols, figsize=(2.4 * cols, 2.3 * n), squeeze=False, layout="constrained")
        lo, hi = float(target[:n, 0].min()), float(target[:n, 0].max())
        for i in range(n):
            fields = [("true", target[i, 0])] + [(m, a["prediction"][i, 0]) for m, a in preds.items()]
            for j, (name, f) in enumerate(fields):
                im = axes[i, j].imshow(f, vmin=lo, vmax=hi, cmap="viridis")
                axes[i, j].set_xticks([])
                axes[i, j].set_yticks([])
                if i == 0:
                    axes[i, j].set_title(name, fontsize=9)
        fig.colorbar(im, ax=axes, shrink=0.8, label="field (channel 0)")
    fig.suptitle(f"{task}, {profile} profile: predicted vs true test fields (seed 0)", fontsize=11)
    return _save(fig, stem)
