"""Method recipes and their phases: registry, PaRe's mixing, fine-tuning options, LoRA, joint, FLD, the
adaptive rule, and every method end to end with the bound terms in curves.csv."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from torch import nn

from test_theory import make_trainer
from xbench.methods import get_method, list_methods
from xbench.theory import BoundTerms


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny problems of many small ops: fastest on one thread (see test_theory)
    yield
    torch.set_num_threads(before)


NEW = ("recraft", "pare", "joint", "lora", "xbench-adaptive")


def test_recipes_registered_with_implemented_phases():
    from xbench.phasekinds import get_phase

    for m in list_methods():
        assert m.reference and all(callable(get_phase(p.kind)) for p in m.phases), m.name
    with pytest.raises(ValueError, match="unknown phase kind"):
        get_phase("alignn")
    assert [p.kind for p in get_method("recraft").phases] == ["source-head", "align", "fld", "fit"]
    assert get_method("recraft").align_loss == "sinkhorn" and get_method("recraft").phases[1].options == {"by_class": False}
    assert all(get_method(m).needs_source for m in ("recraft", "pare", "joint", "xbench-adaptive"))
    assert not get_method("lora").needs_source and not get_method("finetune").needs_source


def test_subset_mask_and_straight_through_gradient():
    from xbench.phasekinds.pare import subset_mask

    scores = torch.tensor([[0.1, 0.9, 0.5, 0.3], [0.8, 0.2, 0.7, 0.1]], requires_grad=True)
    hard = subset_mask(scores, 2, gumbel=False)
    assert hard.tolist() == [[0, 1, 1, 0], [1, 0, 1, 0]]
    g = torch.Generator().manual_seed(0)
    m = subset_mask(scores, 3, gumbel=True, generator=g)
    assert m.sum(dim=1).tolist() == pytest.approx([3.0, 3.0]) and set(m.detach().flatten().tolist()) <= {0.0, 1.0}
    (m * torch.arange(4.0)).sum().backward()
    assert scores.grad is not None and scores.grad.abs().sum() > 0
    assert subset_mask(scores, 0, gumbel=True).sum() == 0


def test_mix_tokens_replaces_the_lowest_gated_target_tokens():
    from xbench.phasekinds.pare import mix_tokens

    gate = nn.Linear(2, 1)
    with torch.no_grad():
        gate.weight.copy_(torch.tensor([[1.0, 0.0]]))
        gate.bias.zero_()
    tgt = torch.tensor([[[3.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.0, 0.0]]])  # gate score = first coordinate
    src = torch.tensor([[[-5.0, 1.0], [9.0, 2.0], [7.0, 3.0]]])
    out = mix_tokens(tgt, src, gate, k=2, gumbel=False)
    # target keeps its top-2 (positions 0, 2); positions 1 and 3 get the source's top-2 (rows 1, 2) in order
    assert out.tolist() == [[[3.0, 0.0], [9.0, 2.0], [2.0, 0.0], [7.0, 3.0]]]
    g = torch.Generator().manual_seed(0)
    mixed = mix_tokens(tgt, src, gate, k=1, gumbel=True, generator=g)
    mixed.sum().backward()
    assert gate.weight.grad is not None and torch.isfinite(gate.weight.grad).all()


def test_pare_schedule(tiny_backbone):
    from xbench.phasekinds.pare import PaReTerm

    trainer = make_trainer(tiny_backbone, epochs=4, pare_begin=0.5, pare_end=0.25)
    term = PaReTerm(trainer)
    # k(ep) = int(N (begin - end ep / epochs)), N = 16 tokens: 8, 7, 6, 5; capped by the source window
    assert [term.n_replaced(16, 32, e) for e in range(4)] == [8, 7, 6, 5]
    assert term.n_replaced(16, 4, 0) == 4
    x, y = trainer._norm["train"]
    loss, parts = term.loss(x[:4], y[:4], torch.arange(4), 0)
    loss.backward()
    assert parts["pare_replaced"] == 8 and torch.isfinite(loss)
    assert term.gate.weight.grad.abs().sum() > 0 and term.src_head.weight.grad.abs().sum() > 0


def test_gradual_unfreezing_and_l2sp(tiny_backbone):
    from xbench.tuning import FitOptions, body_layers

    trainer = make_trainer(tiny_backbone, unfreeze_epochs=2, l2sp_alpha=0.5)
    model = trainer.model
    layers = body_layers(model.body)
    assert len(layers) == 2  # the tiny BERT's encoder.layer
    trainer._set_trainable(("embedder", "body", "head"))
    opts = FitOptions(model, trainer.cfg)
    trainable = lambda layer: all(p.requires_grad for p in layer.parameters())  # noqa: E731
    opts.start_epoch(0)
    assert [trainable(x) for x in layers] == [False, False] and model.embedder.conv.weight.requires_grad
    opts.start_epoch(1)
    assert [trainable(x) for x in layers] == [False, True]  # top-down
    opts.start_epoch(2)
    assert [trainable(x) for x in layers] == [True, True]
    assert opts.penalty().item() == 0.0
    p = next(layers[0].parameters())
    with torch.no_grad():
        p.add_(0.1)
    assert opts.penalty().item() == pytest.approx(0.5 * 0.01 * p.numel(), rel=1e-4)


def test_l2sp_keeps_the_body_near_its_start(tiny_backbone):
    drift = {}
    for alpha in (0.0, 1e3):
        trainer = make_trainer(tiny_backbone, l2sp_alpha=alpha, lr=3e-3, track_bound=False)
        start = [p.detach().clone() for p in trainer.model.body.parameters()]
        trainer.fit()
        drift[alpha] = sum((p - s).pow(2).sum().item() for p, s in zip(trainer.model.body.parameters(), start))
    assert drift[1e3] < 0.2 * drift[0.0]


def test_lora_trains_adapters_not_the_body(tiny_backbone):
    from xbench.phasekinds import get_phase

    trainer = make_trainer(tiny_backbone, lora_rank=2, track_bound=False)
    get_phase("lora")(trainer, get_method("lora").phases[0], "none")
    body = dict(trainer.model.body.named_parameters())
    lora_names = [n for n in body if ".lora_" in n]
    assert len(lora_names) == 2 * 2 * 2  # 2 layers x (query, value) x (A, B)
    assert body[lora_names[0]].shape[0] == 2 or body[lora_names[0]].shape[1] == 2
    base = {n: p.detach().clone() for n, p in body.items() if ".lora_" not in n}
    lora_b = {n: p.detach().clone() for n, p in body.items() if ".lora_B" in n}
    assert all(v.abs().sum() == 0 for v in lora_b.values())  # B = 0: the body starts unchanged
    trainer.fit(("embedder", "adapters", "head"))
    after = dict(trainer.model.body.named_parameters())
    assert all(torch.equal(after[n], v) for n, v in base.items())
    assert any(after[n].abs().sum() > 0 for n in lora_b)


def test_joint_with_lambda_zero_is_finetuning(tiny_backbone):
    from xbench.phasekinds.terms import JointTerm

    a = make_trainer(tiny_backbone, joint_lambda=0.0, track_bound=False)
    a.fit(term=JointTerm(a, "sinkhorn"), name="joint")
    b = make_trainer(tiny_backbone, track_bound=False)
    b.fit()
    for k, v in a.model.state_dict().items():
        assert torch.allclose(v, b.model.state_dict()[k], atol=1e-6), k
    logged = set(pd.DataFrame(a.curves)["quantity"])
    assert {"loss_rmse", "align_sinkhorn", "loss_total"} <= logged


def test_fld_phase_lowers_the_distortion_it_minimises(tiny_backbone):
    import torch.nn.functional as F

    from xbench.methods import Phase
    from xbench.theory import feature_label_distortion
    from xbench.phasekinds import get_phase

    trainer = make_trainer(tiny_backbone, fld_lr=3e-2, fld_epochs=3, fld_maxsamples=8, track_bound=False)
    head = trainer.source_model().head
    x = trainer._norm["train"][0]
    labels = trainer.data.pseudo_labels(3)

    def fld() -> float:
        with torch.no_grad():
            return feature_label_distortion(F.softmax(head(trainer.features(x)), dim=1), labels).item()

    before = fld()
    get_phase("fld")(trainer, Phase("fld", trainable=("embedder",), uses_source=True), "none")
    assert fld() < before
    assert len([c for c in trainer.curves if c["quantity"] == "fld_loss"]) == 3


class ScriptedTracker:
    """Stands in for the bound tracker: returns scripted (W, FLD) pairs, tau = 1."""

    def __init__(self, script, model):
        self.script, self.model, self.states = list(script), model, []

    def terms(self, val=None):
        self.states.append({k: v.clone() for k, v in self.model.embedder.state_dict().items()})
        w2, fld = self.script.pop(0)
        return BoundTerms(source_loss=0, source_error=0, tau_max=1.0, tau_mean=1.0, tau_lip=1.0, w=w2**2 / 2, fld=fld, fit=0, val=0)


@pytest.mark.parametrize("script,steps,reason,lr_scale", [
    ([(5, 1.0), (4, 1.0), (3, 1.0), (2, 1.0)], 3, "budget", 1.0),  # A falls every step: use the whole budget
    ([(5, 1.0), (4, 1.0), (4.5, 1.0), (4.6, 1.0)], 3, "no improvement", 1.0),  # two steps without a lower A
    ([(5, 1.0), (4, 1.2), (3.5, 1.4), (3.0, 1.6)], 3, "fld rose", 0.125),  # FLD rises three times: scale 1/8
])
def test_adaptive_rule(tiny_backbone, script, steps, reason, lr_scale):
    from xbench.methods import Phase
    from xbench.phasekinds import get_phase

    trainer = make_trainer(tiny_backbone, align_steps=3, adaptive_patience=2, track_bound=False)
    trainer._tracker = {"select": (tracker := ScriptedTracker(script, trainer.model))}
    get_phase("adaptive-align")(trainer, Phase("adaptive-align", trainable=("embedder",), uses_alignment=True), "sinkhorn")
    assert trainer.summary["adaptive_steps"] == steps and trainer.summary["adaptive_stop"] == reason
    scales = [c["value"] for c in trainer.curves if c["quantity"] == "adaptive_lr_scale"]
    assert len(scales) == steps and scales[0] == 1.0
    a = [w + f for w, f in script[:steps + 1]]
    assert trainer.summary["adaptive_best_cost"] == pytest.approx(min(a))
    best = tracker.states[a.index(min(a))]  # the embedder with the lowest tau * W + FLD is restored
    assert all(torch.equal(v, best[k]) for k, v in trainer.model.embedder.state_dict().items())
    assert not all(torch.equal(v, tracker.states[0][k]) for k, v in best.items())
    final_scale = scales[-1] / 2 if reason == "fld rose" else scales[-1]  # the last halving follows the last step
    assert final_scale == lr_scale


def test_every_method_end_to_end_with_bound_terms(burgers_root, tiny_backbone, tmp_path, capsys):
    from test_cli import TINY
    from xbench.cli import main

    res = tmp_path / "res"
    methods = ["finetune", "orca", "mmd-align", "linear-probe", "scratch", *NEW]
    code = main(["run", "pdebench-burgers", "--data-root", str(burgers_root), "--results", str(res),
                 "--backbone", tiny_backbone, "--method", *methods, *TINY, "--set", "bound_points=8",
                 "--set", "source_head_epochs=4", "--set", "fld_epochs=1", "--set", "lora_rank=2"])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    scores = pd.read_csv(res / "pdebench/scores.csv")
    assert set(scores["status"]) == {"ok"} and set(scores["method"]) == set(methods)
    curves = pd.read_csv(res / "pdebench/curves.csv").merge(scores[["run_key", "method"]].drop_duplicates(), on="run_key")
    bound = curves[curves.quantity == "bound"]
    for m in methods:
        phases = bound[bound.method == m]["phase"].tolist()
        assert phases[0] == "init" and phases[-1] == "final", m
        fit_phase = {"pare": "pare", "joint": "joint"}.get(m, "fit")
        assert phases.count(fit_phase) == 2, (m, phases)  # one per epoch
    recraft = bound[bound.method == "recraft"]["phase"].tolist()
    assert recraft.count("align") == 2 and recraft.count("fld") == 1
    assert (curves[curves.method == "recraft"]["quantity"] == "source_head_train_acc").sum() == 4
    assert "bound-vs" not in out.err
    code = main(["report", "--results", str(res), "--out", str(tmp_path / "rep")])
    assert code == 0 and "partial_A" in (tmp_path / "rep" / "bound.md").read_text()


def test_fld_reading_the_body_lowers_recraft_s_per_token_distortion(tiny_backbone):
    """fld_reads=body (RECRAFT's 1D FLD): a head on the body's pooled source output, applied to every
    token of the body's output; the chunk-mean entropy summed over tokens falls; the body stays frozen."""
    import torch.nn.functional as F

    from xbench.methods import Phase
    from xbench.phasekinds.terms import body_source_head
    from xbench.phasekinds import get_phase

    trainer = make_trainer(tiny_backbone, fld_lr=3e-2, fld_epochs=3, fld_maxsamples=8, track_bound=False,
                           fld_reads="body")
    head = body_source_head(trainer)
    assert head is body_source_head(trainer) and not any(p.requires_grad for p in head.parameters())
    x = trainer._norm["train"][0]
    model = trainer.model
    body_before = {k: v.clone() for k, v in model.body.state_dict().items()}

    def per_token() -> float:
        with torch.no_grad():
            mean = F.softmax(head(model._backbone.encode(model.embedder(x))), dim=-1).mean(dim=0)
            return -(mean * mean.clamp_min(1e-12).log()).sum().item()

    before = per_token()
    get_phase("fld")(trainer, Phase("fld", trainable=("embedder",), uses_source=True), "none")
    assert per_token() < before
    assert all(torch.equal(v, body_before[k]) for k, v in model.body.state_dict().items())
