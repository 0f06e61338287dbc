"""``finetune``: pretrained body, new embedder and head, no alignment; fit everything.

ORCA with zero alignment steps, the ablation that isolates what alignment adds.
"""

from xbench.methods import MethodSpec, Phase, register_method

register_method(MethodSpec(
    name="finetune",
    version=1,
    description="pretrained body, no alignment, full fine-tuning",
    reference="ORCA ablation (Shen et al., ICML 2023); arXiv 2403.13537",
    pretrained=True,
    phases=(Phase("fit"),),
))
