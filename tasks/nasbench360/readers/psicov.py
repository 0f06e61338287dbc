"""PSICOV (trained on DeepCov): protein inter-residue distance maps on a padded canvas, as NAS-Bench-360 does.

Files (``protein.zip`` unpacked under the root): ``protein/deepcov.lst`` (3456 ids) and
``protein/psicov.lst`` (150 ids), one id first on each line; per id of set ``<set>``:
``protein/<set>/features/<id>.pkl`` (a pickle of ``seq`` (str, length L), ``ss`` (3, L), ``pssm``
(L, 22), ``sa`` (L,), ``entropy`` (L,), ``ccmpred``, ``freecon``, ``potential`` (L, L)) and
``protein/<set>/distance/<id>-cb.npy`` (a pickled tuple ``(L, seq, cb)``, the C-beta distances in
Angstrom (L, L)). ``xbench data convert nb360-psicov`` writes ``protein/<set>/xbench/<id>.npz`` (the
same arrays, numeric only), which ``read`` prefers.

Inputs (57, L, L): for each of the 27 per-residue features f = ss_0..2, pssm_0..21, sa, entropy (in
that order) channel 2k is ``f[col]`` and channel 2k + 1 is ``f[row]``; channels 54-56 are ccmpred,
freecon, potential (NaN -> 0, as the release's loader does). Distances: values < 1 -> 1; then the
diagonal: ``Y[0,0] = Y[0,1]``, ``Y[L-1,L-1] = Y[L-1,L-2]`` and inside the mean of its two
neighbours ``Y[q,q-1], Y[q,q+1]`` (one of them if the other is NaN, 1 if both are; NaN diagonals are
left), NaN -> 0 at the end. Canvas W x W:
the protein at offset 5 on both axes of an (L + 10)-square padding (x 0, y 100; the canvas beyond it
too); if L + 10 > W a W-square crop of it: at independent random row/column offsets in ``[0, L + 10 - W]``
for train (numpy Generator seeded by option ``seed``), the top-left one for val/test. Train targets are
clipped at 16 A; val/test are not. ``x`` (N, 57, W, W) float32, ``y`` (N, 1, W, W) float32,
``meta["length"]`` = L (int64). Options: ``train_window`` (W of train, default 128 as NAS-Bench-360's
WRN), ``test_window`` (W of val and test, default 512), ``seed`` (default 0).
Splits (NAS-Bench-360's): val = deepcov.lst's first 100 ids, train = the rest, test = psicov.lst.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

from xbench.errors import DataError
from xbench.tasks.nasbench360.readers import FileInfo, Split, load_npy, load_pickle, register_reader, split_caps

SHORT = "psicov"
URL = "https://drive.google.com/drive/folders/1OH0ymhG5lQcLRgFJqwtzY-nbJpiaV1ie"
_NOTE = "from protein.zip (old link https://pde-xd.s3.amazonaws.com/protein.zip), unpacked under the data root"
SETS = ("deepcov", "psicov")
_SIZE = "1.1 GB (protein.zip, the whole tree)"
FILES = [FileInfo(f"protein/{s}.lst", URL, _SIZE, _NOTE) for s in SETS] + \
        [FileInfo(f"protein/{s}/{kind}", URL, _SIZE, _NOTE, converted=f"protein/{s}/xbench")
         for s in SETS for kind in ("features", "distance")]
SIZES = {"train": 3356, "val": 100, "test": 150}
N_VAL = 100
PAD, PAD_Y, CLIP, CHANNELS = 5, 100.0, 16.0, 57
KEYS_1D = ("ss", "pssm", "sa", "entropy")
KEYS_2D = ("ccmpred", "freecon", "potential")
DEFAULTS = {"train_window": 128, "test_window": 512, "seed": 0}


def _binary(path: Path) -> Any:
    return open(path, "rb")


def _pickled(root: Path, subset: str, pid: str, allow_pickle: bool) -> dict[str, np.ndarray]:
    feats = load_pickle(root / f"protein/{subset}/features/{pid}.pkl", allow_pickle=allow_pickle, short=SHORT,
                        opener=_binary)
    dist = load_npy(root / f"protein/{subset}/distance/{pid}-cb.npy", allow_pickle=allow_pickle, short=SHORT)
    if not isinstance(feats, dict) or not {"seq", *KEYS_1D, *KEYS_2D} <= set(feats) or len(dist) != 3:
        raise DataError(f"protein {pid} ({subset}): the feature pickle must hold seq, {', '.join(KEYS_1D + KEYS_2D)} "
                        "and the distance file a tuple (L, seq, map). Unpack protein.zip again.")
    out = {k: np.asarray(feats[k]) for k in KEYS_1D + KEYS_2D}
    out["cb_map"], out["length"] = np.asarray(dist[2]), np.array(len(feats["seq"]), np.int64)
    return out


def _arrays(root: Path, subset: str, pid: str, allow_pickle: bool) -> dict[str, np.ndarray]:
    """One protein's raw arrays, shapes checked, from the converted npz when there is one."""
    path = root / f"protein/{subset}/xbench/{pid}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as f:
                a = {k: f[k] for k in (*KEYS_1D, *KEYS_2D, "cb_map", "length")}
        except (OSError, ValueError, KeyError) as e:
            raise DataError(f"{path} is not a readable converted protein ({e}); delete it and run "
                            f"`xbench data convert nb360-{SHORT}` again.") from None
    else:
        a = _pickled(root, subset, pid, allow_pickle)
    n = int(a["length"])
    want = {"ss": (3, n), "pssm": (n, 22), "sa": (n,), "entropy": (n,), **{k: (n, n) for k in (*KEYS_2D, "cb_map")}}
    bad = {k: a[k].shape for k in want if a[k].shape != want[k]}
    if bad or n < 2:
        raise DataError(f"protein {pid} ({subset}) has sequence length {n} but arrays of shapes {bad}; expected "
                        f"{ {k: want[k] for k in bad} }. Unpack protein.zip again.")
    return a


def distance_map(cb: np.ndarray) -> np.ndarray:
    """Clamp below at 1 A and fill the diagonal from its neighbours (module docstring); float64."""
    y = np.array(cb, np.float64)
    y[y < 1.0] = 1.0
    n = len(y)
    y[0, 0], y[n - 1, n - 1] = y[0, 1], y[n - 1, n - 2]
    q = np.arange(1, n - 1)
    left, right, diag = y[q, q - 1], y[q, q + 1], y[q, q]
    fill = np.where(np.isnan(left), np.where(np.isnan(right), 1.0, right), np.where(np.isnan(right), left,
                                                                                     (left + right) / 2.0))
    y[q, q] = np.where(np.isnan(diag), diag, fill)
    return y


def _place(a: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, r0: int, c0: int) -> None:
    """Write one protein into a zeroed x (57, W, W) and a y (1, W, W) full of 100, its residue 0 at
    canvas row ``5 - r0`` and column ``5 - c0`` (``r0, c0`` = the crop's offsets)."""
    n, w = int(a["length"]), x.shape[-1]
    (ra, rb), (ca, cb) = ((max(0, PAD - o), min(w, PAD - o + n)) for o in (r0, c0))
    rows, cols = slice(ra - PAD + r0, rb - PAD + r0), slice(ca - PAD + c0, cb - PAD + c0)
    f1 = np.concatenate([a["ss"], a["pssm"].T, a["sa"][None], a["entropy"][None]])
    x[0:54:2, ra:rb, ca:cb] = f1[:, None, cols]
    x[1:54:2, ra:rb, ca:cb] = f1[:, rows, None]
    for i, k in enumerate(KEYS_2D):
        x[54 + i, ra:rb, ca:cb] = a[k][rows, cols]
    y[0, ra:rb, ca:cb] = np.nan_to_num(distance_map(a["cb_map"])[rows, cols], nan=0.0)


def _split(root: Path, subset: str, ids: list[str], window: int, rng: np.random.Generator | None,
           allow_pickle: bool) -> Split:
    x = np.zeros((len(ids), CHANNELS, window, window), np.float32)
    y = np.full((len(ids), 1, window, window), PAD_Y, np.float32)
    length = np.empty(len(ids), np.int64)
    for i, pid in enumerate(ids):
        a = _arrays(root, subset, pid, allow_pickle)
        length[i] = int(a["length"])
        spare = length[i] + 2 * PAD - window
        r0, c0 = (int(v) for v in rng.integers(0, spare + 1, size=2)) if rng is not None and spare > 0 else (0, 0)
        _place(a, x[i], y[i], r0, c0)
        np.nan_to_num(x[i], copy=False, nan=0.0)
    if rng is not None:
        np.minimum(y, CLIP, out=y)
    return Split(x, y, {"length": length})


def _ids(path: Path) -> list[str]:
    return [line.split()[0] for line in path.read_text().splitlines() if line.strip()]


def _options(options: dict[str, Any]) -> dict[str, int]:
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise DataError(f"nb360-{SHORT}: unknown reader option(s) {unknown}; accepted: {sorted(DEFAULTS)}.")
    opts = {**DEFAULTS, **options}
    if any(not isinstance(opts[k], int) or opts[k] <= 2 * PAD for k in ("train_window", "test_window")):
        raise DataError(f"nb360-{SHORT}: train_window and test_window must be integers above {2 * PAD}, got "
                        f"{opts['train_window']!r} and {opts['test_window']!r}.")
    return opts


def read(root: Path, *, allow_pickle: bool = False, n_samples: int | None = None,
         options: dict[str, Any] | None = None) -> dict[str, Split]:
    """The three splits, each array allocated once; ``n_samples`` keeps the first proteins of each."""
    opts, root = _options(dict(options or {})), Path(root)
    deepcov, psicov = (_ids(root / f"protein/{s}.lst") for s in SETS)
    if len(deepcov) <= N_VAL:
        raise DataError(f"{root / 'protein/deepcov.lst'} lists {len(deepcov)} ids; its first {N_VAL} are the "
                        "validation split and the rest the training split (3456 in the release). Unpack protein.zip "
                        "again.")
    caps = split_caps(n_samples, SIZES)
    lists = {"train": ("deepcov", deepcov[N_VAL:]), "val": ("deepcov", deepcov[:N_VAL]), "test": ("psicov", psicov)}
    rng = np.random.default_rng(opts["seed"])
    return {s: _split(root, subset, ids[:caps[s]], opts["train_window" if s == "train" else "test_window"],
                      rng if s == "train" else None, allow_pickle) for s, (subset, ids) in lists.items()}


def convert(root: Path) -> list[Path]:
    """Unpickle every listed protein once and write ``protein/<set>/xbench/<id>.npz``."""
    root, out = Path(root), []
    for subset in SETS:
        folder = root / f"protein/{subset}/xbench"
        folder.mkdir(exist_ok=True)
        for pid in _ids(root / f"protein/{subset}.lst"):
            np.savez(folder / f"{pid}.npz", **_pickled(root, subset, pid, allow_pickle=True))
            out.append(folder / f"{pid}.npz")
    return out


def _protein(rng: np.random.Generator, n: int) -> tuple[dict[str, Any], tuple[int, str, np.ndarray]]:
    """A random-walk chain (3.8 A steps): its C-beta distances, and pair features that encode them."""
    steps = rng.standard_normal((n, 3))
    coords = np.cumsum(3.8 * steps / np.linalg.norm(steps, axis=1, keepdims=True), axis=0)
    dist = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    seq = "".join(rng.choice(list("ACDEFGHIKLMNPQRSTVWY"), n))
    feats = {"seq": seq, "ss": rng.random((3, n)), "pssm": rng.random((n, 22)), "sa": rng.random(n),
             "entropy": rng.random(n), "ccmpred": np.exp(-dist / 8.0) + 0.05 * rng.standard_normal((n, n)),
             "freecon": np.exp(-dist / 12.0), "potential": 0.1 * rng.standard_normal((n, n))}
    return feats, (n, seq, dist)


def write_synthetic(root: Path, sizes: dict[str, int], seed: int) -> list[Path]:
    """deepcov.lst with the 100 validation ids the split rule takes (whatever ``sizes["val"]``) and
    ``sizes["train"]`` more, psicov.lst with ``sizes["test"]``; proteins of 20-50 residues."""
    rng, root, out = np.random.default_rng(seed), Path(root), []
    for subset, n_ids in (("deepcov", N_VAL + sizes["train"]), ("psicov", sizes["test"])):
        ids = [f"{subset[0]}{i:04d}" for i in range(n_ids)]
        for kind in ("features", "distance"):
            (root / f"protein/{subset}/{kind}").mkdir(parents=True, exist_ok=True)
        for pid in ids:
            feats, dist = _protein(rng, int(rng.integers(20, 51)))
            with open(root / f"protein/{subset}/features/{pid}.pkl", "wb") as f:
                pickle.dump(feats, f)
            packed = np.empty(3, dtype=object)
            for i, v in enumerate(dist):
                packed[i] = v
            np.save(root / f"protein/{subset}/distance/{pid}-cb.npy", packed, allow_pickle=True)
        (root / f"protein/{subset}.lst").write_text("".join(f"{pid}\n" for pid in ids))
        out += [root / f"protein/{subset}.lst", root / f"protein/{subset}/features",
                root / f"protein/{subset}/distance"]
    return out


register_reader(SHORT, sys.modules[__name__])
