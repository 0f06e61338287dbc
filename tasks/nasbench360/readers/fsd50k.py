"""FSD50K: 1 s chunks of the clips as log-mel spectrograms, NAS-Bench-360's released chunk files.

Files (``audio.zip`` unpacked under ``<root>/fsd50k/``): ``fsd50k/data/chunks/{tr,val,eval}.csv``
(train/val/test) with columns ``files`` (a chunk wav, as an absolute path on the authors' machine:
the part after its last ``chunks`` component is read under ``fsd50k/data/chunks/``), ``labels``
(comma-separated label names) and ``ext`` (the clip id that groups a clip's chunks), and
``fsd50k/data/chunks/lbl_map.json`` (200 label names -> indices). Wavs: 22050 Hz mono (int16 / 32768).

Features (torchaudio ``MelSpectrogram`` defaults + librosa ``power_to_db``, written in numpy): the
wav tiled (if shorter, as the release's loader does) or trimmed to 22050 samples; reflect-pad 960
each side; frames t of 1920 samples every 220, times a periodic Hann window of 661 zero-padded to
1920 (centred); ``P = |rfft|^2``; ``M = F^T P`` with F the 96 triangular HTK-mel filters from 0 to
11025 Hz (no area normalisation); ``D = 10 log10(max(M, 1e-10))``, ``D <- max(D, max(D) - 80)``;
``+ 75``; minus the mean of D -> (96, 101); one zero frame appended -> ``x`` (1, 96, 102) float32.

Clips are ordered by sorted clip id (numerically when every id is an integer), chunks within a clip
in file order. ``y`` (N, 200) float32 multi-hot. Train: one sample per clip, its first listed chunk
(ORCA instead draws one random chunk per clip once, with SpecAugment and background-noise mixing;
no augmentation here). Val/test: every chunk, ``meta["clip"]`` = the clip's index (int64), so the
metric averages the logits of a clip's chunks. ``n_samples`` caps count clips (all chunks kept).
"""

from __future__ import annotations

import csv
import json
import sys
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from scipy.io import wavfile

from xbench.errors import DataError
from xbench.tasks.nasbench360.readers import FileInfo, Split, register_reader, split_caps

SHORT = "fsd50k"
URL = "https://drive.google.com/drive/folders/1OH0ymhG5lQcLRgFJqwtzY-nbJpiaV1ie"
_NOTE = "from audio.zip (old link https://pde-xd.s3.amazonaws.com/audio/audio.zip), unpacked under fsd50k/"
CHUNKS = "fsd50k/data/chunks"
MANIFESTS = {"train": "tr.csv", "val": "val.csv", "test": "eval.csv"}
FILES = [FileInfo(f"{CHUNKS}/{name}", URL, "24 GB (audio.zip, with the wavs)", _NOTE)
         for name in (*MANIFESTS.values(), "lbl_map.json")]
SIZES = {"train": 36796, "val": 4170, "test": 10231}  # clips
N_LABELS = 200
SR, N_FFT, WIN, HOP, N_MELS, TOP_DB, OFFSET = 22050, 1920, 661, 220, 96, 80.0, 75.0


def hz_to_mel(f: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)


def mel_to_hz(m: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(m, np.float64) / 2595.0) - 1.0)


@lru_cache(maxsize=1)
def mel_filters() -> np.ndarray:
    """(N_FFT // 2 + 1, 96): triangle b rises from mel point b to b + 1 and falls to b + 2, with the
    98 points equally spaced on the HTK mel scale from 0 to SR / 2, over the bins ``linspace(0, SR/2)``."""
    freqs = np.linspace(0, SR // 2, N_FFT // 2 + 1)
    pts = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SR // 2), N_MELS + 2))
    slopes = pts[None, :] - freqs[:, None]
    down = -slopes[:, :-2] / np.diff(pts)[:-1]
    up = slopes[:, 2:] / np.diff(pts)[1:]
    return np.maximum(0.0, np.minimum(down, up))


@lru_cache(maxsize=1)
def window() -> np.ndarray:
    """The periodic Hann window of WIN samples, zero-padded on both sides to N_FFT (centred)."""
    w = np.zeros(N_FFT)
    left = (N_FFT - WIN) // 2
    w[left:left + WIN] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WIN) / WIN)
    return w


def log_mel(audio: np.ndarray) -> np.ndarray:
    """(1, 96, 102) float32 features of one chunk (see the module docstring)."""
    a = np.asarray(audio, np.float64)
    a = np.tile(a, SR // max(len(a), 1) + 1)[:SR] if len(a) < SR else a[:SR]
    padded = np.pad(a, N_FFT // 2, mode="reflect")
    n_frames = 1 + (len(padded) - N_FFT) // HOP
    frames = padded[np.arange(n_frames)[:, None] * HOP + np.arange(N_FFT)]
    power = np.abs(np.fft.rfft(frames * window(), axis=1)) ** 2
    db = 10.0 * np.log10(np.maximum(power @ mel_filters(), 1e-10)).T
    db = np.maximum(db, db.max() - TOP_DB) + OFFSET
    out = np.zeros((1, N_MELS, n_frames + 1), np.float32)
    out[0, :, :n_frames] = db - db.mean()
    return out


def _wav(path: Path) -> np.ndarray:
    try:
        rate, data = wavfile.read(path)
    except (OSError, ValueError) as e:
        raise DataError(f"{path} is not a readable wav file ({e}); unpack audio.zip again.") from None
    if data.ndim == 2 and data.shape[1] == 1:
        data = data[:, 0]
    if rate != SR or data.ndim != 1 or len(data) == 0:
        raise DataError(f"{path} is {rate} Hz with {1 if data.ndim == 1 else data.shape[1]} channel(s) and "
                        f"{len(data)} samples; the FSD50K chunks are {SR} Hz mono, 1 s long. Is this the release's "
                        "chunk folder?")
    if data.dtype == np.int16:
        return data / 32768.0
    if data.dtype.kind == "f":
        return data.astype(np.float64)
    raise DataError(f"{path} holds {data.dtype} samples; the FSD50K chunks are 16-bit PCM. Unpack audio.zip again.")


def _local(root: Path, entry: str) -> Path:
    parts = PurePosixPath(entry.replace("\\", "/")).parts
    if "chunks" not in parts:
        raise DataError(f"the chunk path {entry!r} has no 'chunks' folder in it; the manifests of audio.zip name "
                        f"wavs under .../chunks/. Is this the release's csv?")
    last = len(parts) - 1 - parts[::-1].index("chunks")
    return root / CHUNKS / Path(*parts[last + 1:])


def _manifest(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and not {"files", "labels", "ext"} <= set(rows[0]):
        raise DataError(f"{path} has columns {sorted(rows[0])}; the FSD50K manifests have 'files', 'labels' and "
                        "'ext'. Is this the release's csv?")
    return rows


def _clips(rows: list[dict[str, str]]) -> list[tuple[str, list[dict[str, str]]]]:
    groups: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault(row["ext"].strip(), []).append(row)
    numeric = all(k.lstrip("-").isdigit() for k in groups)
    return sorted(groups.items(), key=lambda kv: int(kv[0]) if numeric else kv[0])


def _multi_hot(names: str, label_map: dict[str, int], where: Path) -> np.ndarray:
    y = np.zeros(N_LABELS, np.float32)
    for name in names.split(","):
        if name not in label_map:
            raise DataError(f"{where}: label {name!r} is not in lbl_map.json; the manifest and the label map do not "
                            "belong together. Unpack audio.zip again.")
        y[label_map[name]] = 1.0
    return y


def _split(root: Path, split: str, label_map: dict[str, int], limit: int | None) -> Split:
    path = root / CHUNKS / MANIFESTS[split]
    clips = _clips(_manifest(path))[:limit]
    chosen = [(c, row) for c, (_, rows) in enumerate(clips) for row in (rows[:1] if split == "train" else rows)]
    x = np.empty((len(chosen), 1, N_MELS, SR // HOP + 2), np.float32)
    for i, (_, row) in enumerate(chosen):
        x[i] = log_mel(_wav(_local(root, row["files"])))
    y = np.stack([_multi_hot(row["labels"], label_map, path) for _, row in chosen]) if chosen else \
        np.zeros((0, N_LABELS), np.float32)
    meta = {} if split == "train" else {"clip": np.array([c for c, _ in chosen], np.int64)}
    return Split(x, y, meta)


def _label_map(path: Path) -> dict[str, int]:
    try:
        with open(path) as f:
            label_map = {str(k): int(v) for k, v in json.load(f).items()}
    except (OSError, ValueError, AttributeError, TypeError) as e:
        raise DataError(f"{path} is not a JSON object of label name -> index ({e}); unpack audio.zip again.") from None
    if sorted(label_map.values()) != list(range(N_LABELS)):
        raise DataError(f"{path} maps {len(label_map)} names to indices that are not 0..{N_LABELS - 1} once each; "
                        "the FSD50K label map has 200. Unpack audio.zip again.")
    return label_map


def read(root: Path, *, allow_pickle: bool = False, n_samples: int | None = None,
         options: dict[str, Any] | None = None) -> dict[str, Split]:
    """The three splits; ``n_samples`` caps count clips (the first clips in sorted id order)."""
    if options:
        raise DataError(f"nb360-{SHORT} takes no reader options, got {sorted(options)}; accepted: none.")
    root = Path(root)
    label_map = _label_map(root / CHUNKS / "lbl_map.json")
    caps = split_caps(n_samples, SIZES)
    return {s: _split(root, s, label_map, caps[s]) for s in MANIFESTS}


def write_synthetic(root: Path, sizes: dict[str, int], seed: int) -> list[Path]:
    """``sizes[s]`` clips per split of 1 or 2 chunks (ids shuffled in the csv), each with one or two of
    the first 8 labels; a chunk is the sum of one tone per label (``100 + 50 l`` Hz) plus noise."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    base = root / CHUNKS
    base.mkdir(parents=True, exist_ok=True)
    names = [f"label_{i:03d}" for i in range(N_LABELS)]
    (base / "lbl_map.json").write_text(json.dumps({n: i for i, n in enumerate(names)}))
    written, t, next_id = [base / "lbl_map.json"], np.arange(SR) / SR, 1000
    for split, manifest in MANIFESTS.items():
        folder = base / manifest.removesuffix(".csv")
        folder.mkdir(exist_ok=True)
        rows = []
        for clip in rng.permutation(sizes[split]) + next_id:
            labels = rng.choice(8, size=rng.integers(1, 3), replace=False)
            for j in range(int(rng.integers(1, 3))):
                wave = sum(np.sin(2 * np.pi * (100 + 50 * lab) * t + rng.uniform(0, 6.3)) for lab in labels)
                audio = 0.2 * wave / len(labels) + 0.01 * rng.standard_normal(SR)
                wav = folder / f"{clip}_{j}.wav"
                wavfile.write(wav, SR, np.round(audio * 32767).astype(np.int16))
                rows.append({"files": f"/home/authors/FSD50K/chunks/{folder.name}/{wav.name}",
                             "labels": ",".join(names[lab] for lab in labels), "ext": str(clip)})
        next_id += sizes[split]
        with open(base / manifest, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["files", "labels", "ext"])
            w.writeheader()
            w.writerows(rows)
        written.append(base / manifest)
    return written


register_reader(SHORT, sys.modules[__name__])
