"""``orca``: align the embedder to the source with OTDD, then fine-tune everything.

Shen et al., "Cross-Modal Fine-Tuning: Align then Refine", ICML 2023 (docs/methods.md §2.5-2.6). Stage 2
trains only the embedder: each alignment step visits the target's k-means classes in random order,
adds ``w_c * OTDD(source, embedded class c)`` for each (gradients accumulate), and takes ONE optimizer
step, with the embedder learning rate 10x the task's when that is <= 1e-3 and a 0.2 step decay at
1/3 and 2/3 of the steps. Stage 3 fine-tunes embedder, body and head on the target loss.
"""

from xbench.methods import MethodSpec, Phase, register_method

register_method(MethodSpec(
    name="orca",
    version=1,
    description="OTDD alignment of the embedder, then full fine-tuning",
    reference="Shen et al., ORCA, ICML 2023 (arXiv 2302.05738)",
    pretrained=True,
    phases=(Phase("align", trainable=("embedder",), uses_alignment=True), Phase("fit")),
    align_loss="otdd",
))
