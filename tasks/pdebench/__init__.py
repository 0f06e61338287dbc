"""PDEBench tasks: reader of the real file layouts, xbench's own generators, metrics and specs."""

from xbench.tasks.pdebench import metrics, specs  # noqa: F401  (registration)
