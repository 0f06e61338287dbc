"""PDEBench tasks: reader of the real file layouts, xbench's own generators, metrics and specs."""

from xbench.tasks.pdebench import family, metrics, specs  # noqa: F401  (registration)
from xbench.tasks.pdebench import specs_2d  # noqa: F401, E402  (2D tasks: Darcy, shallow water, 2D diff-react)
from xbench.tasks.pdebench import specs_cfd  # noqa: F401, E402  (1D and 2D compressible Navier-Stokes)
from xbench.tasks.pdebench import specs_ar  # noqa: F401, E402  (last: derives '-ar' variants of the tasks above)
from xbench.tasks.pdebench import reference  # noqa: F401, E402  (the reference protocols, for xbench.fidelity)
