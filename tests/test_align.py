"""Alignment losses: properties, not stored numbers (zero on identical sets, growth with shift,
symmetry, convergence to exact OT, gradients, determinism, caching, suggestions)."""

from __future__ import annotations

import pytest
import torch

from xbench.align import ALIGNMENT_LOSSES, build_alignment, exact_ot
from xbench.align.sinkhorn import entropic_ot, half_sq
from xbench.errors import ConfigError


def clouds(n=120, d=8, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(k, d, generator=g) * 3
    labels = torch.arange(n) % k
    return centres[labels] + torch.randn(n, d, generator=g), labels


@pytest.mark.parametrize("name", ["otdd", "otdd-gaussian", "sinkhorn", "mmd"])
def test_zero_on_identical_sets(name):
    x, y = clouds()
    loss = build_alignment(name, x, y)
    assert abs(loss(x.clone(), y).item()) < 1e-3 * (1 + abs(loss(x + 2.0, y).item()))


@pytest.mark.parametrize("name", ["otdd", "otdd-gaussian", "sinkhorn", "mmd", "l2"])
def test_positive_and_growing_with_shift(name):
    x, y = clouds()
    loss = build_alignment(name, x, y)
    vals = [loss(x + s, y).item() for s in (0.5, 1.0, 2.0)]
    assert vals[0] > 0 and vals[0] < vals[1] < vals[2]


def test_sinkhorn_symmetric():
    a, _ = clouds(seed=1)
    b, _ = clouds(n=90, seed=2)
    b = b + 1.0
    ab = build_alignment("sinkhorn", a)(b).item()
    ba = build_alignment("sinkhorn", b)(a).item()
    assert ab == pytest.approx(ba, rel=1e-3)


def test_sinkhorn_approaches_exact_ot():
    g = torch.Generator().manual_seed(3)
    a, b = torch.randn(40, 3, generator=g), torch.randn(50, 3, generator=g) + 1.5
    exact = exact_ot(a, b)
    errs = [abs(build_alignment("sinkhorn", a, eps=eps)(b).item() - exact) for eps in (1.0, 0.1, 0.01)]
    assert errs[0] > errs[1] > errs[2] and errs[2] < 0.01 * exact


def test_entropic_ot_envelope_gradient_matches_finite_difference():
    g = torch.Generator().manual_seed(4)
    a, b = torch.randn(20, 2, generator=g), torch.randn(25, 2, generator=g)
    b.requires_grad_(True)
    val = entropic_ot(half_sq(a, b), 0.5)
    (grad,) = torch.autograd.grad(val, b)
    h = 1e-3
    d = torch.zeros_like(b)
    d[3, 1] = h
    fd = (entropic_ot(half_sq(a, b.detach() + d), 0.5) - entropic_ot(half_sq(a, b.detach() - d), 0.5)) / (2 * h)
    assert grad[3, 1].item() == pytest.approx(fd.item(), rel=2e-2, abs=1e-4)


@pytest.mark.parametrize("name", ["otdd", "otdd-gaussian", "sinkhorn", "mmd", "l2"])
def test_gradients_finite_and_descent_reduces_loss(name):
    x, y = clouds()
    loss = build_alignment(name, x, y)
    t = (x[:40] + 1.5).clone().requires_grad_(True)
    v0 = loss(t)
    (g,) = torch.autograd.grad(v0, t)
    assert torch.isfinite(g).all() and g.abs().sum() > 0
    with torch.no_grad():
        step = 0.5 * v0.item() / (g.norm() ** 2)
        v1 = loss(t - step * g)
    assert v1.item() < v0.item()


def test_otdd_labels_matter():
    """Moving a target class onto the matching source class lowers OTDD; a mismatched class does not help as much."""
    x, y = clouds(n=150, k=3, seed=5)
    loss = build_alignment("otdd", x, y)
    tgt = x[y == 0][:30]
    near = loss(tgt + 0.1).item()
    far = loss(x[y == 1][:30] + 4.0).item()
    assert near < far


@pytest.mark.parametrize("name", ["otdd", "otdd-gaussian"])
def test_otdd_reads_target_labels_and_sinkhorn_does_not(name):
    """Shuffling which target points carry which label changes OTDD (its label costs see the class
    clouds) and leaves the label-free Sinkhorn divergence unchanged; renaming the labels changes neither."""
    x, y = clouds(n=150, k=3, seed=6)
    tgt, lab = x[:60] + 0.3, y[:60]
    shuffled = lab[torch.randperm(len(lab), generator=torch.Generator().manual_seed(0))]
    renamed = (lab + 1) % 3
    otdd, sink = build_alignment(name, x, y), build_alignment("sinkhorn", x, y)
    base = otdd(tgt, lab).item()
    assert abs(otdd(tgt, shuffled).item() - base) > 0.05 * abs(base)
    assert otdd(tgt, renamed).item() == pytest.approx(base, rel=1e-4)
    assert sink(tgt, shuffled).item() == sink(tgt, lab).item() == sink(tgt, renamed).item()


def test_deterministic():
    x, y = clouds()
    t = x[:30] + 0.7
    for name in ("otdd", "mmd", "l2"):
        a = build_alignment(name, x, y, seed=7) if name != "otdd" else build_alignment(name, x, y)
        b = build_alignment(name, x, y, seed=7) if name != "otdd" else build_alignment(name, x, y)
        assert a(t).item() == b(t).item()


def test_source_terms_are_cached(monkeypatch):
    import xbench.align.otdd as otdd_mod

    x, y = clouds()
    loss = build_alignment("otdd", x, y)
    calls = []
    real = otdd_mod.entropic_ot
    monkeypatch.setattr(otdd_mod, "entropic_ot", lambda C, *a, **k: calls.append(C.shape) or real(C, *a, **k))
    loss(x[:20] + 1.0)
    # per call: one target self term per target class, src-class x tgt-class label distances, and two outer terms;
    # nothing the size of the source self term (n x n) is recomputed
    assert (len(x), len(x)) not in calls
    assert len(calls) == 1 + 3 + 2


def test_none_and_bad_names():
    x, y = clouds()
    t = x[:5].clone().requires_grad_(True)
    v = build_alignment("none", x, y)(t)
    v.backward()
    assert v.item() == 0 and t.grad is not None
    with pytest.raises(ConfigError, match="'otdd'"):
        build_alignment("otd", x, y)
    with pytest.raises(ConfigError, match="eps"):
        build_alignment("sinkhorn", x, eps=-1.0)
    with pytest.raises(ConfigError, match="bogus"):
        build_alignment("mmd", x, bogus=1)
    assert set(ALIGNMENT_LOSSES) == {"otdd", "otdd-gaussian", "sinkhorn", "mmd", "l2", "none"}


def test_bures_label_distance_of_gaussians():
    """W2^2 between N(m1, S1) and N(m2, S2) with commuting diagonal covariances: |dm|^2 + |sqrt(s1) - sqrt(s2)|^2."""
    from xbench.align.otdd import GaussianOTDD

    g = torch.Generator().manual_seed(0)
    a = torch.randn(4000, 2, generator=g) * torch.tensor([1.0, 2.0])
    b = torch.randn(4000, 2, generator=g) * torch.tensor([3.0, 1.0]) + torch.tensor([1.0, 0.0])
    loss = GaussianOTDD(a, None)
    w = loss._label_distance(loss._summary(a), loss._summary(b)).item()
    assert w == pytest.approx(1.0 + (1 - 3) ** 2 + (2 - 1) ** 2, rel=0.05)
