"""``pare``: PaRe's gated patch replacement with source tokens during fine-tuning, no alignment stage.

Cai et al., "Enhancing Cross-Modal Fine-Tuning with Gradually Intermediate Modality Generation",
ICML 2024 (arXiv 2406.09003; official code ``BIT-DA/PaRe``, docs/methods.md §3). The embedder starts from
the body's own embedding layer (ORCA's ``srcinit``, no alignment steps); every fitting step also
trains on an intermediate-modality sequence in which a gate picks ``k`` source-text tokens to replace
``k`` target tokens, ``k`` shrinking over the epochs (``pare_begin``, ``pare_end``; Gumbel top-k for
the first ``pare_gumbel_epochs`` epochs), with a source head on the mixed sequences.
Implementation: :mod:`xbench.phasekinds.pare`.
"""

from xbench.methods import MethodSpec, Phase, register_method

register_method(MethodSpec(
    name="pare",
    version=1,
    description="PaRe: fine-tuning with gated, scheduled replacement of target tokens by source tokens",
    reference="Cai et al., PaRe, ICML 2024 (arXiv 2406.09003)",
    pretrained=True,
    phases=(Phase("pare", uses_source=True),),
))
