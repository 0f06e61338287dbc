"""``joint``: fine-tuning loss + lambda * alignment loss in the same step, no separate alignment stage.

The combination RECRAFT analyses (Tran et al., AISTATS 2026, docs/methods.md §7: "uncalibrated
combinations can exacerbate misalignment") and the shape of UPS's stage 1 (task loss + MMD in one
objective, Shen et al., arXiv 2403.07187, docs/methods.md §5): every fitting step minimises
``L_T(batch) + joint_lambda * D(source, mean-pooled features of the batch)``, everything training.
``D`` is the label-free Sinkhorn divergence by default (``--align-loss`` swaps it; ``otdd`` gets the
batch's pseudo-labels). Sweep lambda with ``--set joint_lambda=...``.
"""

from xbench.methods import MethodSpec, Phase, register_method

register_method(MethodSpec(
    name="joint",
    version=1,
    description="target loss + joint_lambda * alignment loss in every fine-tuning step",
    reference="RECRAFT's analysis (Tran et al., AISTATS 2026); UPS stage 1 (Shen et al., arXiv 2403.07187)",
    pretrained=True,
    phases=(Phase("joint", uses_alignment=True),),
    align_loss="sinkhorn",
))
