"""Bound terms (xbench.theory) and the bound report: hand-computed values and properties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from xbench.config import resolve
from xbench.data import TaskData, split_indices
from xbench.report.bound import bound_tables, spearman
from xbench.theory import (BoundTerms, feature_label_distortion, fit_source_model, loss_grad_norms,
                           nearest_centroid)

@pytest.fixture(autouse=True)
def one_thread():
    """Tiny problems of many small ops (Sinkhorn iterations) run fastest on one thread, most of all when
    other processes share the cores (measured: 3 s instead of 55 s for 8 alignment steps under load)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


TINY = {"n_samples": 40, "epochs": 2, "batch_size": 8, "target_seq_len": 16, "align_steps": 2, "n_source": 40,
        "align_maxsamples": 8, "n_classes": 3, "source_head_epochs": 6, "bound_points": 16, "bound_fit_points": 8}


def clusters(n=90, d=32, k=3, seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(k, d, generator=g) * scale / math.sqrt(d) * 3
    labels = torch.arange(n) % k
    return centres[labels] + torch.randn(n, d, generator=g) / math.sqrt(d), labels


def make_trainer(backbone_path: str, **overrides):
    from xbench.models import build_model, load_backbone
    from xbench.tasks.registry import get_task
    from xbench.train import Trainer

    spec = get_task("pdebench-burgers")
    cfg = resolve("quick", {}, {}, {**TINY, **overrides})
    g = torch.Generator().manual_seed(1)
    x = torch.randn(40, 1, 1024, generator=g).cumsum(-1) / 30
    y = 0.5 * x + 0.1 * torch.randn(40, 1, 1024, generator=g)
    idx = split_indices(40)
    data = TaskData(spec.name, {s: x[i] for s, i in idx.items()}, {s: y[i] for s, i in idx.items()}, "generated",
                    "synthetic", "-", 40)
    torch.manual_seed(0)
    model = build_model(load_backbone(backbone_path), spec.input_shape, spec.output_shape, cfg.target_seq_len)
    trainer = Trainer(model, data, spec, cfg, torch.device("cpu"), seed=0)
    trainer.set_source(clusters())
    return trainer


def test_fld_by_hand():
    probs = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    labels = torch.tensor([0, 0, 1, 1])
    # class 0: mean (0.5, 0.5) -> H = log 2; class 1: mean (1, 0) -> H = 0; weights 1/2 each
    assert feature_label_distortion(probs, labels).item() == pytest.approx(0.5 * math.log(2))
    labels3 = torch.tensor([0, 0, 0, 1])  # class 0: mean (2/3, 1/3), weight 3/4
    h = -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3))
    assert feature_label_distortion(probs, labels3).item() == pytest.approx(0.75 * h)


def test_fld_range_and_gradient():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(30, 5, generator=g, requires_grad=True)
    labels = torch.randint(3, (30,), generator=g)
    v = feature_label_distortion(F.softmax(logits, dim=1), labels)
    assert 0 < v.item() <= math.log(5)
    v.backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
    uniform = torch.full((30, 5), 0.2)
    assert feature_label_distortion(uniform, labels).item() == pytest.approx(math.log(5))


def test_grad_norms_match_closed_form():
    g = torch.Generator().manual_seed(0)
    head = torch.nn.Linear(6, 4)
    u, y = torch.randn(10, 6, generator=g), torch.randint(4, (10,), generator=g)
    norms, losses = loss_grad_norms(head, u, y)
    p = F.softmax(head(u), dim=1).detach()
    closed = ((p - F.one_hot(y, 4)) @ head.weight.detach()).norm(dim=1)  # grad_u CE = A^T (p - e_y)
    assert torch.allclose(norms, closed, atol=1e-6)
    assert torch.allclose(losses, F.cross_entropy(head(u), y, reduction="none"))


def test_tau_hinge_bounds_the_gradient_norms():
    x, y = clusters(n=150, scale=1.0)
    g = torch.Generator().manual_seed(1)  # 20 % label noise: misfit points have large loss gradients
    y = torch.where(torch.rand(150, generator=g) < 0.2, torch.randint(3, (150,), generator=g), y)
    state = torch.random.get_rng_state()
    free = fit_source_model(x, y, tau=0.4, rho=0.0, epochs=20, n_hold=30, seed=0, lr=1e-2)
    hinge = fit_source_model(x, y, tau=0.4, rho=100.0, epochs=20, n_hold=30, seed=0, lr=1e-2)
    assert torch.equal(torch.random.get_rng_state(), state)  # no global random state consumed
    assert len(set(hinge.hold_idx.tolist()) & set(hinge.train_idx.tolist())) == 0
    assert len(hinge.hold_idx) == 30 and len(hinge.train_idx) == 120
    tau_free = loss_grad_norms(free.head, x[free.train_idx], y[free.train_idx])[0].max().item()
    tau_hinge = loss_grad_norms(hinge.head, x[hinge.train_idx], y[hinge.train_idx])[0].max().item()
    assert tau_hinge < 0.75 * tau_free and tau_free > 1.0
    assert hinge.history[-1]["train_acc"] > 0.8  # the constrained head still separates the clusters
    assert not any(p.requires_grad for p in hinge.head.parameters())
    again = fit_source_model(x, y, tau=0.4, rho=100.0, epochs=20, n_hold=30, seed=0, lr=1e-2)
    assert torch.equal(again.head.weight, hinge.head.weight)
    plain = fit_source_model(x, y, tau=0.4, rho=100.0, epochs=20, n_hold=30, seed=0, lr=1e-2, use_hinge=False)
    assert all(h["hinge"] == 0 for h in plain.history)  # RECRAFT's 1D schedule: cross-entropy only
    assert torch.equal(plain.head.weight, free.head.weight)  # rho is then never used


def test_nearest_centroid_by_hand():
    train = torch.tensor([[0.0, 0.0], [0.0, 2.0], [10.0, 0.0], [10.0, 2.0]])
    labels = torch.tensor([3, 3, 7, 7])  # centroids (0, 1) and (10, 1)
    other = torch.tensor([[1.0, 1.0], [6.0, 0.0], [4.0, 5.0]])
    assert nearest_centroid(train, labels, other).tolist() == [3, 7, 3]


def test_bound_terms_add_up():
    t = BoundTerms(source_loss=0.5, source_error=0.1, tau_max=0.4, tau_mean=0.2, tau_lip=0.9, w=2.0, fld=0.3,
                   fit=0.25, val=0.7)
    assert t.w2 == pytest.approx(2.0)  # sqrt(2 * 2)
    assert t.bound == pytest.approx(0.5 + 0.9 * 2.0 + 0.3 + 0.25)  # the exact Lipschitz constant enters B
    assert BoundTerms(0, 0, 1, 1, 1, -1e-4, 0, 0, 0).w2 == 0.0
    quantities = {q for _, q, _ in t.rows()}
    assert quantities == {"bound_source_loss", "bound_source_error", "bound_tau_max", "bound_tau_mean",
                          "bound_tau_lip", "bound_w",
                          "bound_w2", "bound_fld", "bound_fit", "bound_val", "bound"}


def test_tracking_logs_every_epoch_and_never_changes_training(tiny_backbone):
    runs = {}
    for track in (True, False):
        trainer = make_trainer(tiny_backbone, track_bound=track)
        trainer.align("sinkhorn", by_class=False)
        trainer.fit()
        runs[track] = trainer
    on, off = runs[True], runs[False]
    for k, v in on.model.state_dict().items():
        assert torch.equal(v, off.model.state_dict()[k]), k
    c = pd.DataFrame(on.curves)
    assert not any(q.startswith("bound") for q in pd.DataFrame(off.curves)["quantity"])
    bound = c[c.quantity == "bound"]
    assert list(zip(bound.phase, bound.epoch)) == [("align", 0), ("align", 1), ("fit", 0), ("fit", 1)]
    for q in ("bound_source_loss", "bound_tau_max", "bound_tau_lip"):  # frozen head, fixed source points: constants of the run
        assert c[c.quantity == q]["value"].nunique() == 1
    fld = c[c.quantity == "bound_fld"]["value"]
    assert ((fld >= 0) & (fld <= math.log(3) + 1e-6)).all()
    val_fit = c[(c.phase == "fit") & (c.quantity == "nrmse")]["value"].to_numpy()
    assert np.allclose(c[(c.phase == "fit") & (c.quantity == "bound_val")]["value"], val_fit)
    terms = on.bound_tracker().terms()
    assert terms.bound == pytest.approx(terms.source_loss + terms.tau_lip * terms.w2 + terms.fld + terms.fit)
    assert terms.tau_lip >= terms.tau_max  # the exact constant bounds every observed gradient norm
    select = on.bound_tracker("select")  # xbench-adaptive's subset: disjoint from the reported one
    assert not set(select.val_idx) & set(on.bound_tracker().val_idx)


def test_alignment_lowers_the_tracked_distance(tiny_backbone):
    trainer = make_trainer(tiny_backbone, align_steps=8, align_maxsamples=32)
    before = trainer.bound_tracker().terms().w
    trainer.align("sinkhorn", by_class=False)
    assert trainer.bound_tracker().terms().w < before


def _fake_results(bounds, tests, higher=False, fits=None):
    scores, curves = [], []
    fits = fits or [0.0] * len(bounds)
    for i, (b, t, fit) in enumerate(zip(bounds, tests, fits)):
        key = f"k{i}"
        scores.append({"run_key": key, "task": "t", "task_version": 1, "profile": "quick", "method": f"m{i % 3}",
                       "seed": i // 3, "split": "test", "metric": "acc" if higher else "nrmse", "value": t,
                       "higher_is_better": higher, "is_main": True, "status": "ok",
                       "created_at": "2026-01-01T00:00:00+00:00"})
        for e in range(4):  # bound and validation error fall together over epochs
            val = t + (3 - e) * 0.1 * (-1 if higher else 1)
            curves += [{"run_key": key, "phase": "fit", "epoch": e, "step": e, "split": "val", "quantity": "bound",
                        "value": b + (3 - e)},
                       {"run_key": key, "phase": "fit", "epoch": e, "step": e, "split": "val", "quantity": "bound_val",
                        "value": val}]
        for q, v in (("bound", b), ("bound_source_loss", 0.5), ("bound_fit", fit)):
            curves.append({"run_key": key, "phase": "final", "epoch": 0, "step": 0, "split": "val", "quantity": q,
                           "value": v})
    return pd.DataFrame(scores), pd.DataFrame(curves)


def test_bound_report_rank_correlations():
    scores, curves = _fake_results([1, 2, 3, 4, 5, 6], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    per_task, per_method = bound_tables(scores, curves)
    row = per_task.iloc[0]
    assert row["runs"] == 6 and row["rho_B"] == pytest.approx(1.0) and row["mean_epoch_rho"] == pytest.approx(1.0)
    assert row["rho_A"] == pytest.approx(1.0) and row["rho_B_ci"] == "[1.00, 1.00]"
    assert row["methods"] == 3 and row["rho_methods"] == pytest.approx(1.0)
    assert list(per_method["method"]) == ["m0", "m1", "m2"] and set(per_method["seeds"]) == {2}
    # accuracy-like metric: a lower bound with a higher accuracy is agreement
    scores, curves = _fake_results([1, 2, 3, 4, 5, 6], [0.9, 0.8, 0.7, 0.6, 0.5, 0.4], higher=True)
    row = bound_tables(scores, curves)[0].iloc[0]
    assert row["rho_B"] == pytest.approx(1.0) and row["mean_epoch_rho"] == pytest.approx(1.0)
    scores, curves = _fake_results([6, 5, 4, 3, 2, 1], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert bound_tables(scores, curves)[0].iloc[0]["rho_B"] == pytest.approx(-1.0)
    assert math.isnan(spearman([1, 2], [1, 2])) and math.isnan(spearman([1, 1, 1], [1, 2, 3]))
    assert bound_tables(scores, curves[curves.phase != "final"])[0].empty
    # rows and curves written twice (duplicated runs of xbench before run claims) change nothing
    twice = bound_tables(pd.concat([scores, scores]), pd.concat([curves, curves]))
    assert twice[0].equals(bound_tables(scores, curves)[0]) and twice[1].equals(bound_tables(scores, curves)[1])


def test_partial_correlation_separates_the_alignment_terms_from_the_fit_term():
    from xbench.report.bound import partial_spearman

    rng = np.random.default_rng(0)
    fit = rng.random(40)
    noise = rng.random(40)
    err = fit + 0.01 * rng.random(40)  # the error is the fit term's
    bound = fit + noise + 0.5  # B = L_S + A + F_T with A unrelated to the error
    scores, curves = _fake_results(list(bound), list(err), fits=list(fit))
    row = bound_tables(scores, curves)[0].iloc[0]
    assert row["rho_B"] > 0.4 and abs(row["partial_A"]) < 0.35  # B agrees, but only through F_T
    lo, hi = (float(v) for v in row["partial_A_ci"].strip("[]").split(","))
    assert lo <= row["partial_A"] <= hi and hi - lo < 1.0
    err2 = fit + noise  # now the alignment terms carry information beyond F_T
    assert partial_spearman(noise, err2, fit) > 0.6


def test_linear_head_lipschitz_constant_bounds_every_gradient_and_is_approached():
    import torch
    from torch import nn

    from xbench.theory import linear_ce_lipschitz, loss_grad_norms

    torch.manual_seed(0)
    head = nn.Linear(6, 4)
    lip = linear_ce_lipschitz(head)
    w = head.weight.detach()
    assert lip == pytest.approx(max((w[i] - w[j]).norm().item() for i in range(4) for j in range(4)))
    u = torch.randn(2000, 6) * 5
    y = torch.randint(4, (2000,))
    norms, _ = loss_grad_norms(head, u, y)
    assert norms.max().item() <= lip + 1e-6
    i, j = max(((i, j) for i in range(4) for j in range(4)), key=lambda p: (w[p[0]] - w[p[1]]).norm().item())
    with torch.no_grad():  # two classes only: the supremum is approached far out on the wrong side
        two = nn.Linear(6, 2)
        two.weight.copy_(w[[i, j]]), two.bias.zero_()
    far = 100.0 * (w[j] - w[i])
    g, _ = loss_grad_norms(two, far[None], torch.tensor([0]))
    assert g.item() == pytest.approx(lip, rel=1e-3) and linear_ce_lipschitz(two) == pytest.approx(lip)
    assert linear_ce_lipschitz(nn.Linear(6, 1)) == 0.0
