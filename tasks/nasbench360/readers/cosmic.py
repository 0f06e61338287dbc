"""Cosmic (deepCR ACS/WFC, filter F435W, galaxy fields): cosmic-ray masks of HST images, as NAS-Bench-360 does.

Files: ``cosmic/train_dirs.npy`` and ``cosmic/test_dirs.npy`` (string arrays of paths such as
``./cosmic/npy_train/f435w/<prop>/<visit>/<k>_<name>.npy``: one entry per sample in the release; an
entry naming a visit folder stands for its ``<k>_*.npy`` files in sorted order), and the folders
``cosmic/npy_train`` and ``cosmic/npy_test`` unpacked from the deepCR tars. A path is read from its
``npy_train``/``npy_test`` component on under ``cosmic/`` (else relative to the root without ``./``).
A sample file stacks [image, CR mask, ignore mask] (the ignore plane is zeros when there are only
two); every plane is cropped to rows/columns 64:192 -> 128 x 128. Each visit folder's ``sky.npy``
holds one sky level per exposure: sample ``<k>_*`` gets ``image += sky[k - 1] * u``, u ~ U(-0.9, 3),
drawn once per sample at read time in the order train pool then test (numpy Generator seeded by
option ``seed``, default 1; the release redraws u each time it loads a sample). Option ``sky_aug``:
"both" (every split, what ORCA/DASH/NAS-Bench-360 do; default), "train" (train only) or "none".

``x`` (N, 1, 128, 128) float32 image; ``y`` (N, 1, 128, 128) float32 CR mask with -1 at ignored
pixels (the masked BCE skips negative targets); ``meta["ignore"]`` (N, 1, 128, 128) float32.
Splits (NAS-Bench-360's): train = the first ``int(0.9 n)`` of the n train-list samples in list
order, val = the rest, test = the test list (4347/483/420 in the release).
"""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from xbench.errors import DataError
from xbench.tasks.nasbench360.readers import FileInfo, Split, load_npy, register_reader, split_caps

SHORT = "cosmic"
URL = "https://drive.google.com/drive/folders/1OH0ymhG5lQcLRgFJqwtzY-nbJpiaV1ie"
_TARS = "https://pde-xd.s3.amazonaws.com/cosmic/deepCR.ACS-WFC"
FILES = [FileInfo("cosmic/train_dirs.npy", URL, "< 1 MB", "the list of training samples"),
         FileInfo("cosmic/test_dirs.npy", URL, "< 1 MB", "the list of test samples"),
         *(FileInfo(f"cosmic/npy_{s}", URL, size, f"unpacked from deepCR.ACS-WFC.{s}.tar (old link {_TARS}.{s}.tar)")
           for s, size in (("train", "6.5 GB"), ("test", "2.0 GB")))]
SIZES = {"train": 4347, "val": 483, "test": 420}
F_VAL, CROP, SIDE = 0.1, slice(64, 192), 128
SKY_LOW, SKY_HIGH = -0.9, 3.0
SKY_MODES = {"both": ("train", "val", "test"), "train": ("train",), "none": ()}
DEFAULTS: dict[str, Any] = {"sky_aug": "both", "seed": 1}


def _resolve(root: Path, entry: str) -> Path:
    parts = PurePosixPath(str(entry).strip().replace("\\", "/")).parts
    hits = [i for i, p in enumerate(parts) if p in ("npy_train", "npy_test")]
    if hits:
        return root / "cosmic" / Path(*parts[hits[-1]:])
    rel = str(entry).strip().removeprefix("./")
    return root / rel


def _samples(root: Path, list_file: Path, allow_pickle: bool) -> list[Path]:
    entries = load_npy(list_file, allow_pickle=allow_pickle, short=SHORT)
    if np.ndim(entries) != 1:
        raise DataError(f"{list_file} should be a 1-D array of sample paths, found shape {np.shape(entries)}. Is this "
                        "NAS-Bench-360's file?")
    out: list[Path] = []
    for entry in entries:
        path = _resolve(root, entry)
        if path.is_dir():
            out += sorted(p for p in path.glob("*_*.npy") if p.name.split("_")[0].isdigit())
        else:
            out.append(path)
    return out


def _load(path: Path) -> np.ndarray:
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise DataError(f"{path} is missing or not a numeric .npy ({e}); unpack the deepCR tars again under "
                        "cosmic/.") from None
    if data.ndim != 3 or data.shape[0] not in (2, 3) or min(data.shape[1:]) < CROP.stop:
        raise DataError(f"{path} has shape {data.shape}; a deepCR sample is (2 or 3, H, W) planes [image, mask, "
                        f"ignore] with H, W >= {CROP.stop}. Unpack the deepCR tars again.")
    return data


def _sky(path: Path, cache: dict[Path, np.ndarray | None]) -> float:
    """The sky level of sample ``<k>_*``: ``sky.npy[k - 1]`` of its folder (0 without a sky.npy)."""
    folder = path.parent
    if folder not in cache:
        sky_file = folder / "sky.npy"
        try:
            cache[folder] = np.load(sky_file, allow_pickle=False).ravel() if sky_file.exists() else None
        except (OSError, ValueError) as e:
            raise DataError(f"{sky_file} is not a numeric .npy ({e}); unpack the deepCR tars again.") from None
    sky, prefix = cache[folder], path.name.split("_")[0]
    if sky is None:
        return 0.0
    if not prefix.isdigit() or not 1 <= int(prefix) <= len(sky):
        raise DataError(f"{path}: the name must start with the exposure number k (1..{len(sky)}, the length of "
                        f"{folder / 'sky.npy'}) and '_'. Unpack the deepCR tars again.")
    return float(sky[int(prefix) - 1])


def _split(paths: list[Path], u: np.ndarray) -> Split:
    n = len(paths)
    x = np.empty((n, 1, SIDE, SIDE), np.float32)
    y = np.empty((n, 1, SIDE, SIDE), np.float32)
    ignore = np.zeros((n, 1, SIDE, SIDE), np.float32)
    cache: dict[Path, np.ndarray | None] = {}
    for i, path in enumerate(paths):
        data = _load(path)[:, CROP, CROP].astype(np.float64)
        x[i, 0] = data[0] + (_sky(path, cache) * u[i] if u[i] else 0.0)
        if len(data) == 3:
            ignore[i, 0] = data[2]
        y[i, 0] = np.where(ignore[i, 0] > 0.5, -1.0, data[1])
    return Split(x, y, {"ignore": ignore})


def _options(options: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise DataError(f"nb360-{SHORT}: unknown reader option(s) {unknown}; accepted: {sorted(DEFAULTS)}.")
    opts = {**DEFAULTS, **options}
    if opts["sky_aug"] not in SKY_MODES:
        raise DataError(f"nb360-{SHORT}: sky_aug must be one of {sorted(SKY_MODES)}, got {opts['sky_aug']!r}.")
    return opts


def read(root: Path, *, allow_pickle: bool = False, n_samples: int | None = None,
         options: dict[str, Any] | None = None) -> dict[str, Split]:
    """The three splits; ``n_samples`` keeps the first samples of each (the others are not loaded)."""
    opts, root = _options(dict(options or {})), Path(root)
    pool = _samples(root, root / FILES[0].path, allow_pickle)
    test = _samples(root, root / FILES[1].path, allow_pickle)
    u = np.random.default_rng(opts["seed"]).uniform(SKY_LOW, SKY_HIGH, len(pool) + len(test))
    n_train = int(len(pool) * (1 - F_VAL))
    parts = {"train": (pool[:n_train], u[:n_train]), "val": (pool[n_train:], u[n_train:len(pool)]),
             "test": (test, u[len(pool):])}
    caps = split_caps(n_samples, SIZES)
    on = SKY_MODES[opts["sky_aug"]]
    return {s: _split(paths[:caps[s]], (draws if s in on else np.zeros_like(draws))[:caps[s]])
            for s, (paths, draws) in parts.items()}


def write_synthetic(root: Path, sizes: dict[str, int], seed: int) -> list[Path]:
    """``sizes["train"] + sizes["val"]`` training and ``sizes["test"]`` test samples of 256 x 256 in
    visit folders of 4 exposures with a ``sky.npy``; cosmic rays are bright 2 x 2 spots on a noisy
    sky, their mask the CR plane, and every other sample has an ignore plane (a masked star). The
    90/10 split rule, not ``sizes``, then divides the training list into train and val."""
    rng, root = np.random.default_rng(seed), Path(root)
    lists = {"train": sizes["train"] + sizes["val"], "test": sizes["test"]}
    out = []
    for split, n in lists.items():
        entries = []
        for i in range(n):
            visit, k = divmod(i, 4)
            folder = root / f"cosmic/npy_{split}/f435w/10760/{visit + 2}"
            folder.mkdir(parents=True, exist_ok=True)
            if k == 0:
                np.save(folder / "sky.npy", rng.uniform(5.0, 20.0, 4))
            mask = np.zeros((256, 256))
            r, c = rng.integers(0, 255, (2, 40))
            for dr in (0, 1):
                for dc in (0, 1):
                    mask[r + dr, c + dc] = 1.0
            image = rng.normal(10.0, 1.0, (256, 256)) + 50.0 * mask
            planes = [image, mask]
            if i % 2:
                ignore = np.zeros((256, 256))
                ignore[100:110, 100:110] = 1.0
                planes.append(ignore)
            path = folder / f"{k + 1}_j{split[:2]}{i:04d}.npy"
            np.save(path, np.stack(planes).astype(np.float32))
            entries.append(f"./cosmic/npy_{split}/f435w/10760/{visit + 2}/{path.name}")
        np.save(root / f"cosmic/{split}_dirs.npy", np.array(entries))
        out += [root / f"cosmic/{split}_dirs.npy", root / f"cosmic/npy_{split}"]
    return out


register_reader(SHORT, sys.modules[__name__])
