"""Trivial baselines, no training: ``input-mean`` and ``persistence``.

They measure how much of a task a method has to learn at all. ``input-mean`` predicts, per sample and
channel, the spatial mean of the input; ``persistence`` predicts the input itself
(:mod:`xbench.models.baselines`). Example: on Burgers nu=1.0 (PDEBench's diffusion nu/pi) every
Fourier mode but the mean has decayed by t=2, so ``input-mean`` is nearly exact, and a method that
does not beat it has learnt nothing beyond conservation of the mean. Both are refused on tasks whose
input and target are different fields. They have no phases; the runner evaluates them on val and
test like any trained model, so they appear in the leaderboard.
"""

from xbench.methods import MethodSpec, register_method

register_method(MethodSpec(
    name="input-mean",
    version=1,
    description="predict the spatial mean of the input (per sample and channel); no training",
    reference="trivial baseline",
    pretrained=False,
    phases=(),
    model="input-mean",
))

register_method(MethodSpec(
    name="persistence",
    version=1,
    description="predict the input field itself; no training",
    reference="trivial baseline",
    pretrained=False,
    phases=(),
    model="persistence",
))
