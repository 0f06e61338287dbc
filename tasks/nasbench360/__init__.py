"""NAS-Bench-360's ten tasks: readers of the released file layouts, the Darcy generator, metrics and
specs (docs/nasbench360.md)."""

from xbench.tasks.nasbench360 import family, metrics, specs  # noqa: F401  (registration)
