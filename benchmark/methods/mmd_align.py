"""``mmd-align``: ORCA's recipe with multi-kernel MMD instead of OTDD as the alignment distance.

ORCA's ``objective: MMD`` option and UPS's alignment loss (docs/methods.md §5-6): align the embedder to
the source features by MMD^2 (5 RBF kernels, bandwidth ratio 2), then fine-tune everything. UPS adds
the task loss of its FNO embedder to the alignment stage; this recipe isolates the distance.
"""

from xbench.methods import MethodSpec, Phase, register_method

register_method(MethodSpec(
    name="mmd-align",
    version=1,
    description="MMD alignment of the embedder, then full fine-tuning",
    reference="Shen et al., ORCA (ICML 2023) objective MMD; Shen et al., UPS (arXiv 2403.07187)",
    pretrained=True,
    phases=(Phase("align", trainable=("embedder",), uses_alignment=True), Phase("fit")),
    align_loss="mmd",
))
