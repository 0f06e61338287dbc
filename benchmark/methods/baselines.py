"""Trivial baselines: ``input-mean`` and ``persistence`` (no training), ``train-mean`` and ``linear`` (closed form).

They measure how much of a task a method has to learn at all. ``input-mean`` predicts, per sample and
channel, the spatial mean of the input; ``persistence`` predicts the input itself
(:mod:`xbench.models.baselines`). Example: on Burgers nu=1.0 (PDEBench's diffusion nu/pi) every
Fourier mode but the mean has decayed by t=2, so ``input-mean`` is nearly exact, and a method that
does not beat it has learnt nothing beyond conservation of the mean. Both are refused on tasks whose
input and target are different fields. They have no phases; the runner evaluates them on val and
test like any trained model, so they appear in the leaderboard. ``train-mean`` (the training targets' mean field) and ``linear`` (ridge
regression of the flattened fields, lambda chosen on validation; :mod:`xbench.models.linear`) apply
to every single-step task. ``xbench run`` adds the applicable ones of these four by default, and the
leaderboard marks a learned method that does not beat the best of them.
"""

from xbench.methods import MethodSpec, Phase, register_method

READS = ("n_samples",)  # the data they see; nothing they train with

register_method(MethodSpec(
    name="input-mean",
    version=1,
    description="predict the spatial mean of the input (per sample and channel); no training",
    reference="trivial baseline",
    pretrained=False,
    phases=(),
    model="input-mean",
    reads=READS,
))

register_method(MethodSpec(
    name="persistence",
    version=1,
    description="predict the input field itself; no training",
    reference="trivial baseline",
    pretrained=False,
    phases=(),
    model="persistence",
    reads=READS,
))

register_method(MethodSpec(
    name="train-mean",
    version=1,
    description="predict the training split's mean output field for every sample; closed form",
    reference="trivial baseline",
    pretrained=False,
    phases=(Phase("closed-form"),),
    model="train-mean",
    reads=READS,
))

register_method(MethodSpec(
    name="linear",
    version=1,
    description="ridge regression of the flattened output on the flattened input; lambda chosen on val",
    reference="linear baseline (Hastie et al., Elements of Statistical Learning 3.4.1)",
    pretrained=False,
    phases=(Phase("closed-form"),),
    model="linear",
    reads=READS,
))
