r"""``xbench-adaptive``: alignment calibrated online by the bound's terms, then fine-tuning.

A recipe designed from the bound xbench tracks (:mod:`xbench.theory`,
:math:`B = L_S + \tau W + \mathrm{FLD} + F_T`). Alignment moves two of its terms in opposite
directions: it lowers the transport term :math:`\tau W` and can raise the feature-label distortion
FLD when it pulls target classes onto the wrong source structure (RECRAFT's "uncalibrated
combinations", docs/methods.md §7). The source terms do not depend on the target embedder, and the fit
term is what the fitting phase minimises afterwards. So alignment is worth continuing exactly while
:math:`A = \tau W + \mathrm{FLD}` keeps falling. The rule, after every alignment step (OTDD, per
pseudo-class, ORCA's optimizer), with W and FLD measured on a fixed subset of the validation split
(the ``select`` subset of :class:`xbench.theory.BoundTracker`, disjoint from the ``report`` subset whose
bound is logged and reported, so the reported bound is not the one the stopping point was chosen on):

1. if FLD rose by more than ``adaptive_fld_tol`` nats over the previous step, halve the alignment
   learning rate (the distance keeps aligning, more gently, since the last step distorted labels);
2. keep the embedder with the lowest A seen so far (step 0 = before any alignment);
3. stop after ``adaptive_patience`` steps without a new lowest A, at the third halving (scale 1/8:
   alignment keeps distorting the labels), or after ``align_steps`` steps;
4. restore the lowest-A embedder and hand over to full fine-tuning.

So the method never aligns past the point the bound says is useful (unlike a fixed 60 steps), and
can take zero steps when alignment only hurts (A rises at once). Decisions use the validation split:
its inputs (W, FLD) and its targets (FLD's pseudo-classes are the nearest training-target k-means
centroids of the validation targets); test is never seen. Version 2: the exact Lipschitz constant
as tau, and the separate selection subset. Curves: ``adaptive_lr_scale`` per step, and the summary records the steps
taken and the reason alignment stopped.
"""

from xbench.methods import MethodSpec, Phase, register_method

register_method(MethodSpec(
    name="xbench-adaptive",
    version=2,
    description="OTDD alignment early-stopped and slowed by the bound's tau*W + FLD, then full fine-tuning",
    reference="xbench (this suite); bound terms after RECRAFT (Tran et al., AISTATS 2026)",
    pretrained=True,
    phases=(Phase("adaptive-align", trainable=("embedder",), uses_alignment=True), Phase("fit")),
    align_loss="otdd",
))
