"""``linear-probe``: the pretrained body stays frozen; only the embedder and the head train.

The "frozen body" ablation that every cross-modal table needs (docs/methods.md §2.7 item 5): how much of
the result comes from the pretrained body's computation as it is, without fine-tuning it.
"""

from xbench.methods import MethodSpec, Phase, register_method

register_method(MethodSpec(
    name="linear-probe",
    version=1,
    description="frozen pretrained body; train embedder and head only",
    reference="ablation of ORCA (Shen et al., ICML 2023); arXiv 2403.13537",
    pretrained=True,
    phases=(Phase("fit", trainable=("embedder", "head")),),
))
