"""``recraft``: source head with the tau-hinge -> label-free Sinkhorn alignment -> FLD minimisation -> fine-tuning.

Tran et al., "Rethinking Cross-Modal Fine-Tuning: Optimizing the Interaction between Feature
Alignment and Target Fitting", AISTATS 2026 (arXiv 2601.18231; official code ``khiembk/RECRAFT``,
docs/methods.md §7). Stage 1 learns the feature map: (1) a source head on the source reference, trained
with the gradient-norm hinge (tau 0.4, rho 100) so the source loss is tau-Lipschitz in feature space;
(2) feature alignment: ``align_steps`` steps of the label-free debiased Sinkhorn divergence between
the source features and one random chunk of embedded target points per step; (3) feature-label
distortion minimisation: the entropy of the frozen source head's mean prediction per target
pseudo-class, ``fld_epochs`` epochs. Stage 2 fits the target (full fine-tuning). The three alignment
terms run in sequence, with no weight between them, as in RECRAFT's code. Deviation: the source head
reads mean-pooled features, not the body's output (see :func:`xbench.phasekinds.terms.fld`).
"""

from xbench.methods import MethodSpec, Phase, register_method

register_method(MethodSpec(
    name="recraft",
    version=1,
    description="tau-hinge source head, Sinkhorn feature alignment, FLD minimisation, then full fine-tuning",
    reference="Tran et al., RECRAFT, AISTATS 2026 (arXiv 2601.18231)",
    pretrained=True,
    phases=(
        Phase("source-head", trainable=(), uses_source=True),
        Phase("align", trainable=("embedder",), uses_alignment=True, options={"by_class": False}),
        Phase("fld", trainable=("embedder",), uses_source=True),
        Phase("fit"),
    ),
    align_loss="sinkhorn",
))
