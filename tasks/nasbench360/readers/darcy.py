"""Darcy flow: the FNO ``piececonst`` files, read as NAS-Bench-360 does.

Files: ``piececonst_r421_N1024_smooth1.mat`` (training pool) and ``..._smooth2.mat`` (test pool),
MATLAB files with ``coeff`` (the coefficient a) and ``sol`` (the solution u), each (N, R, R) with
R = 421; scipy reads version 5 files, h5py version 7.3 ones (axes reversed there).

Sample: every 5th node ((R - 1) / 84 in general) -> 85 x 85. Input ``x`` = [a, gridx, gridy] (3, 85,
85) with ``gridx, gridy = meshgrid(linspace(0, 1, 85), linspace(0, 1, 85))`` ('xy' indexing: gridx
varies along the last axis), raw a (the harness standardises channels on the training split; ORCA
standardises a pointwise); target ``y`` = u (1, 85, 85). Splits (NAS-Bench-360's): train = the
first 900 samples of smooth1, val = its samples 900-999, test = the first 100 of smooth2. A smaller
(generated) training pool of n < 1000 samples splits 90/10 in the same order.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from xbench.errors import DataError
from xbench.tasks.nasbench360.readers import FileInfo, Split, cap, register_reader

URL = "https://drive.google.com/drive/folders/1OH0ymhG5lQcLRgFJqwtzY-nbJpiaV1ie"
FILES = [FileInfo("piececonst_r421_N1024_smooth1.mat", URL, "1.6 GB",
                  "old link https://pde-xd.s3.amazonaws.com/darcyflow/piececonst_r421_N1024_smooth1.mat; "
                  "or generate it: `xbench data generate nb360-darcy`"),
         FileInfo("piececonst_r421_N1024_smooth2.mat", URL, "1.6 GB",
                  "old link https://pde-xd.s3.amazonaws.com/darcyflow/piececonst_r421_N1024_smooth2.mat")]
SIZES = {"train": 900, "val": 100, "test": 100}
SIDE = 85


def load_mat(path: Path, keys: tuple[str, ...] = ("coeff", "sol")) -> dict[str, np.ndarray]:
    """``keys`` of a MATLAB file as (N, R, R) arrays, by scipy (v5) or h5py (v7.3)."""
    import scipy.io
    from scipy.io.matlab import MatReadError

    try:
        data = scipy.io.loadmat(path, variable_names=list(keys))
    except NotImplementedError:  # v7.3: HDF5, MATLAB's column-major axes come out reversed
        import h5py

        with h5py.File(path, "r") as f:
            data = {k: np.asarray(f[k]).transpose(range(f[k].ndim)[::-1]) for k in keys if k in f}
    except (MatReadError, ValueError, OSError, TypeError) as e:
        raise DataError(f"{path} is not a readable MATLAB file ({e}); it is probably truncated: download it again "
                        "(or delete it and run `xbench data generate nb360-darcy`).") from None
    lost = [k for k in keys if k not in data]
    if lost:
        raise DataError(f"{path} has no variable(s) {lost}; the Darcy files hold 'coeff' and 'sol'. Is this the "
                        "right file?")
    arrays = {k: np.asarray(data[k]) for k in keys}
    shapes = {k: v.shape for k, v in arrays.items()}
    if len(set(shapes.values())) != 1 or arrays[keys[0]].ndim != 3 or (arrays[keys[0]].shape[1] - 1) % (SIDE - 1):
        raise DataError(f"{path}: 'coeff' and 'sol' must both be (N, R, R) with R = 84 k + 1 (421 in the release), "
                        f"found {shapes}. Is this the right file?")
    return arrays


def _fields(path: Path, rows: slice) -> tuple[np.ndarray, np.ndarray]:
    arrays = load_mat(path)
    stride = (arrays["coeff"].shape[1] - 1) // (SIDE - 1)
    a = arrays["coeff"][rows, ::stride, ::stride][:, :SIDE, :SIDE].astype(np.float32)
    u = arrays["sol"][rows, ::stride, ::stride][:, :SIDE, :SIDE].astype(np.float32)
    grid = np.linspace(0, 1, SIDE, dtype=np.float32)
    gx, gy = np.meshgrid(grid, grid)
    x = np.concatenate([a[:, None], np.broadcast_to(gx, a.shape)[:, None], np.broadcast_to(gy, a.shape)[:, None]], 1)
    return np.ascontiguousarray(x), u[:, None]


def pools(n_train_pool: int) -> tuple[slice, slice]:
    """(train, val) rows of a training pool of ``n_train_pool`` samples: 0-899 / 900-999 of the release."""
    n = min(n_train_pool, SIZES["train"] + SIZES["val"])
    n_train = min(SIZES["train"], round(0.9 * n))
    return slice(0, n_train), slice(n_train, n)


def read(root: Path, *, allow_pickle: bool = False, n_samples: int | None = None,
         options: dict | None = None) -> dict[str, Split]:
    if options:
        raise DataError(f"nb360-darcy's reader takes no options, got {sorted(options)}.")
    first, second = (root / f.path for f in FILES)
    import scipy.io
    from scipy.io.matlab import MatReadError

    try:
        n_pool = next(shape[0] for name, shape, _ in scipy.io.whosmat(first) if name == "coeff")
    except (MatReadError, ValueError, OSError, NotImplementedError, StopIteration):  # v7.3, or a damaged file: load_mat says
        n_pool = len(load_mat(first)["coeff"])
    train_rows, val_rows = pools(n_pool)
    x_tr, y_tr = _fields(first, train_rows)
    x_va, y_va = _fields(first, val_rows)
    x_te, y_te = _fields(second, slice(0, SIZES["test"]))
    splits = {"train": Split(x_tr, y_tr), "val": Split(x_va, y_va), "test": Split(x_te, y_te)}
    return cap(splits, n_samples, SIZES)


def write_synthetic(root: Path, sizes: dict[str, int], seed: int) -> list[Path]:
    """Both files at resolution 85 from xbench's generator (real physics, tiny grid)."""
    from xbench.tasks.nasbench360.generate.darcy import generate_piececonst

    total = sizes["train"] + sizes["val"] + sizes["test"]
    path = generate_piececonst(root / FILES[0].path, total, resolution=SIDE, seed=seed)
    return [path, path.with_name(FILES[1].path)]


register_reader("darcy", sys.modules[__name__])
