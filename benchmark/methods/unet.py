"""``unet``: a U-Net trained on the target only, in PDEBench's configuration.

Ronneberger et al., MICCAI 2015, in PDEBench's variant (Takamoto et al., NeurIPS 2022 D&B): 32 initial
features, four levels, conv-BatchNorm-tanh blocks (:mod:`xbench.models.unet`). PDEBench's optimiser
(Adam, lr 1e-3, weight decay 1e-4); loss, schedule, epochs, batch size and checkpoint selection on
val are the harness's (PDEBench's own StepLR(100, 0.5) over 500 epochs: ``--set schedule=step
--set epochs=500``). This is PDEBench's one-step U-Net on the single-step protocol; its
autoregressive variants belong to the autoregressive tasks.
"""

from xbench.methods import MethodSpec, Phase, register_method

register_method(MethodSpec(
    name="unet",
    version=1,
    description="U-Net (PDEBench's config) trained on the target only",
    reference="Ronneberger et al., U-Net (MICCAI 2015); Takamoto et al., PDEBench (NeurIPS 2022 D&B)",
    pretrained=False,
    phases=(Phase("fit"),),
    overrides={"optimizer": "adam", "lr": 1e-3, "weight_decay": 1e-4},
    model="unet",
))
