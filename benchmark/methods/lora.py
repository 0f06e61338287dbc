"""``lora``: frozen pretrained body with LoRA adapters on its attention; embedder, head and adapters train.

Hu et al., "LoRA: Low-Rank Adaptation of Large Language Models", ICLR 2022: each attention query
and value projection W gets W + B A (rank ``lora_rank``, alpha = rank, B = 0 at the start), via
``peft``. Between ``linear-probe`` (body frozen) and ``finetune`` (all weights train): how much of
fine-tuning's benefit a low-rank update of the body recovers.
"""

from xbench.methods import MethodSpec, Phase, register_method

register_method(MethodSpec(
    name="lora",
    version=1,
    description="frozen body + LoRA adapters (query, value; rank lora_rank); embedder, head, adapters train",
    reference="Hu et al., LoRA, ICLR 2022 (arXiv 2106.09685)",
    pretrained=True,
    phases=(Phase("lora", trainable=()), Phase("fit", trainable=("embedder", "adapters", "head"))),
))
