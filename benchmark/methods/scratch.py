"""``scratch``: the body's architecture with random weights, trained on the target only.

The control that tells whether pretrained weights help at all (docs/methods.md §2.7 item 5).
"""

from xbench.methods import MethodSpec, Phase, register_method

register_method(MethodSpec(
    name="scratch",
    version=1,
    description="random-weights body, no alignment, fit everything on the target",
    reference="control; see García-de-Herreros et al. 2024 (arXiv 2403.13537)",
    pretrained=False,
    phases=(Phase("fit"),),
))
