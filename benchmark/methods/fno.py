"""``fno``: a Fourier neural operator trained on the target only, in PDEBench's configuration.

Li et al., ICLR 2021, as PDEBench trains it (Takamoto et al., NeurIPS 2022 D&B; docs/pdebench.md §5):
4 Fourier layers, 12 modes, width 20, GELU, padding 2, fc 128, grid coordinates appended to the input
(:mod:`xbench.models.fno`). PDEBench's optimiser (Adam, lr 1e-3, weight decay 1e-4); the loss,
schedule, epochs, batch size and checkpoint selection on val are the harness's, as for every method
(PDEBench's own StepLR(100, 0.5) over 500 epochs: ``--set schedule=step --set epochs=500``).
"""

from xbench.methods import MethodSpec, Phase, register_method

register_method(MethodSpec(
    name="fno",
    version=1,
    description="FNO (PDEBench's config) trained on the target only",
    reference="Li et al., FNO (ICLR 2021); Takamoto et al., PDEBench (NeurIPS 2022 D&B)",
    pretrained=False,
    phases=(Phase("fit"),),
    overrides={"optimizer": "adam", "lr": 1e-3, "weight_decay": 1e-4},
    model="fno",
))
