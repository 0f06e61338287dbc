"""NAS-Bench-360 readers for ECG, FSD50K, PSICOV and Cosmic: synthetic files in the released layouts."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.io import wavfile
from sklearn.model_selection import train_test_split

from xbench.errors import DataError
from xbench.tasks.nasbench360.readers import (cosmic, ecg, fsd50k, missing_files, missing_message, psicov, read_task,
                                              split_caps)

SIZES = {"train": 16, "val": 4, "test": 4}
PSICOV_OPTS = {"train_window": 32, "test_window": 64}


def _pickle_refused(excinfo: pytest.ExceptionInfo) -> None:
    assert "--allow-pickle" in str(excinfo.value) and "xbench data convert" in str(excinfo.value)


def _same(a: dict, b: dict) -> None:
    for s in ("train", "val", "test"):
        np.testing.assert_array_equal(a[s].x, b[s].x)
        np.testing.assert_array_equal(a[s].y, b[s].y)
        assert a[s].meta.keys() == b[s].meta.keys()
        for k in a[s].meta:
            np.testing.assert_array_equal(a[s].meta[k], b[s].meta[k])


def _missing(short: str, root: Path) -> None:
    with pytest.raises(DataError) as e:
        read_task(short, root)
    assert str(e.value) == missing_message(short, root, missing_files(short, root))


# ---------------------------------------------------------------- ECG


def test_ecg_windows_splits_and_zscore(tmp_path: Path) -> None:
    ecg.write_synthetic(tmp_path, SIZES, 0)
    with open(tmp_path / "challenge2017.pkl", "rb") as f:
        raw = pickle.load(f)
    labels = np.array(["NAO~".index(v) for v in raw["label"]])
    splits = ecg.read(tmp_path, allow_pickle=True)
    train, held = train_test_split(np.arange(len(labels)), test_size=0.2, random_state=0)
    val, test = train_test_split(held, test_size=0.5, random_state=0)
    for name, recs in (("train", train), ("val", val), ("test", test)):
        sp = splits[name]
        assert sp.x.shape[1:] == (1, 1000) and sp.x.dtype == np.float32 and sp.y.dtype == np.int64
        assert sp.meta["record"].dtype == np.int64
        np.testing.assert_array_equal(np.unique(sp.meta["record"]), np.sort(recs))
        np.testing.assert_array_equal(sp.y, labels[sp.meta["record"]])  # a window has its record's label
        # record order as train_test_split returns it; 3 windows per synthetic record (length 1000 + 2 s + 1)
        np.testing.assert_array_equal(sp.meta["record"], np.repeat(recs, 3))
    r = int(train[0])
    s = raw["data"][r].astype(np.float64)
    z = (s - s.mean()) / s.std()
    stride = (500, 83, 250, 25)[labels[r]]
    for j in range(3):
        np.testing.assert_allclose(splits["train"].x[j, 0], z[j * stride:j * stride + 1000], rtol=1e-5, atol=1e-6)


def test_ecg_window_counts_follow_the_loop_bounds() -> None:
    assert ecg.n_windows(1000, 0) == 0  # range(0, n - 1000, s) excludes the last start
    assert ecg.n_windows(1001, 0) == 1
    assert ecg.n_windows(1000 + 2 * 83 + 1, 1) == 3
    assert ecg.n_windows(2500, 2) == 6  # starts 0, 250, ..., 1250
    assert ecg.n_windows(1100, 3) == 4  # starts 0, 25, 50, 75


def test_ecg_pickle_convert_caps_and_errors(tmp_path: Path) -> None:
    _missing("ecg", tmp_path)
    ecg.write_synthetic(tmp_path, SIZES, 1)
    with pytest.raises(DataError) as e:
        ecg.read(tmp_path)
    _pickle_refused(e)
    full = ecg.read(tmp_path, allow_pickle=True)
    assert ecg.convert(tmp_path) == [tmp_path / "challenge2017.xbench.npz"]
    _same(ecg.read(tmp_path), full)
    caps = split_caps(30, ecg.SIZES)
    small = ecg.read(tmp_path, n_samples=30)
    for s, sp in small.items():
        n = min(caps[s], len(full[s].x))
        assert len(sp.x) == n
        np.testing.assert_array_equal(sp.x, full[s].x[:n])
        np.testing.assert_array_equal(sp.meta["record"], full[s].meta["record"][:n])
    with pytest.raises(DataError, match="accepted: none"):
        ecg.read(tmp_path, options={"window": 500})
    with np.load(tmp_path / "challenge2017.xbench.npz") as f:
        arrays = dict(f)
    np.savez(tmp_path / "challenge2017.xbench.npz", **{**arrays, "offsets": arrays["offsets"][:-1]})
    with pytest.raises(DataError, match="inconsistent"):
        ecg.read(tmp_path)
    (tmp_path / "challenge2017.xbench.npz").unlink()
    with open(tmp_path / "challenge2017.pkl", "wb") as f:
        pickle.dump({"data": np.empty(0, object)}, f)
    with pytest.raises(DataError, match="'label'"):
        ecg.read(tmp_path, allow_pickle=True)


# ---------------------------------------------------------------- FSD50K


def _reference_log_mel(a: np.ndarray) -> np.ndarray:
    """The definition, written out frame by frame and band by band (96, 101)."""
    sr, n_fft, win, hop = 22050, 1920, 661, 220
    padded = np.concatenate([a[960:0:-1], a, a[-2:-962:-1]])
    w = np.zeros(n_fft)
    w[(n_fft - win) // 2:(n_fft - win) // 2 + win] = np.hanning(win + 1)[:-1]
    freqs = np.arange(n_fft // 2 + 1) * (sr / 2) / (n_fft // 2)
    mel_pts = np.linspace(0, 2595 * np.log10(1 + (sr / 2) / 700), 98)
    hz = 700 * (10 ** (mel_pts / 2595) - 1)
    fb = np.zeros((96, len(freqs)))
    for b in range(96):
        lo, c, hi = hz[b], hz[b + 1], hz[b + 2]
        fb[b] = np.clip(np.minimum((freqs - lo) / (c - lo), (hi - freqs) / (hi - c)), 0, None)
    cols = []
    for t in range(101):
        frame = padded[t * hop:t * hop + n_fft] * w
        cols.append(fb @ (np.abs(np.fft.fft(frame)[:n_fft // 2 + 1]) ** 2))
    db = 10 * np.log10(np.maximum(np.array(cols).T, 1e-10))
    db = np.maximum(db, db.max() - 80) + 75
    return db - db.mean()


def test_fsd50k_log_mel_of_a_tone_matches_the_definition() -> None:
    spacing = 2595 * np.log10(1 + 11025 / 700) / 97
    f0 = 700 * (10 ** (41 * spacing / 2595) - 1)  # the centre of mel band 40
    a = 0.3 * np.sin(2 * np.pi * f0 * np.arange(22050) / 22050)
    x = fsd50k.log_mel(a)
    assert x.shape == (1, 96, 102) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0, :, 101], 0)
    ref = _reference_log_mel(a)
    spec = torch.stft(torch.from_numpy(a), n_fft=1920, hop_length=220, win_length=661, center=True,
                      window=torch.hann_window(661, dtype=torch.float64), pad_mode="reflect", return_complex=True)
    db = 10 * np.log10(np.maximum(fsd50k.mel_filters().T @ spec.abs().numpy() ** 2, 1e-10))
    db = np.maximum(db, db.max() - 80) + 75
    np.testing.assert_allclose(x[0, :, :101], db - db.mean(), atol=2e-3)  # torch's STFT convention
    np.testing.assert_allclose(x[0, :, 50], ref[:, 50], atol=2e-3)
    np.testing.assert_allclose(x[0, :, :101], ref, atol=2e-3)
    assert int(np.argmax(x[0, :, 50])) == 40
    assert abs(x[0, :, :101].mean()) < 1e-4 and x[0, :, :101].max() - x[0, :, :101].min() <= 80 + 1e-3
    # a short wav is tiled to 1 s, as the release's loader does
    np.testing.assert_allclose(fsd50k.log_mel(a[:10000]), fsd50k.log_mel(np.tile(a[:10000], 3)[:22050]), atol=1e-5)


def _manifest_rows(root: Path, name: str) -> list[dict[str, str]]:
    import csv

    with open(root / "fsd50k/data/chunks" / name) as f:
        return list(csv.DictReader(f))


def test_fsd50k_splits_labels_and_clips(tmp_path: Path) -> None:
    _missing("fsd50k", tmp_path)
    fsd50k.write_synthetic(tmp_path, SIZES, 0)
    splits = fsd50k.read(tmp_path)
    assert len(splits["train"].x) == SIZES["train"] and "clip" not in splits["train"].meta
    for s, name in (("val", "val.csv"), ("test", "eval.csv")):
        sp, rows = splits[s], _manifest_rows(tmp_path, name)
        assert sp.x.shape == (len(rows), 1, 96, 102) and sp.y.shape == (len(rows), 200)
        assert sp.x.dtype == np.float32 and sp.y.dtype == np.float32 and sp.meta["clip"].dtype == np.int64
        ids = sorted({int(r["ext"]) for r in rows})
        np.testing.assert_array_equal(np.unique(sp.meta["clip"]), np.arange(len(ids)))
        assert np.all(np.diff(sp.meta["clip"]) >= 0)  # clips in sorted id order, chunks together
        for i, clip_id in enumerate(ids):
            clip_rows = [r for r in rows if int(r["ext"]) == clip_id]
            want = np.zeros(200, np.float32)
            want[[int(n.split("_")[1]) for n in clip_rows[0]["labels"].split(",")]] = 1
            np.testing.assert_array_equal(sp.y[sp.meta["clip"] == i], np.tile(want, (len(clip_rows), 1)))
    rows = _manifest_rows(tmp_path, "tr.csv")
    first = min(rows, key=lambda r: int(r["ext"]))  # the first clip's first listed chunk
    wav = tmp_path / "fsd50k/data/chunks/tr" / Path(first["files"]).name
    np.testing.assert_array_equal(splits["train"].x[0], fsd50k.log_mel(wavfile.read(wav)[1] / 32768.0))
    # the tones are learnable: a chunk's loudest band is near one of its labels' tones (100 + 50 l Hz)
    y, x = splits["train"].y, splits["train"].x[:, 0, :, :101].mean(axis=2)
    centres = 700 * (10 ** (np.linspace(0, 2595 * np.log10(1 + 11025 / 700), 98)[1:-1] / 2595) - 1)
    for i in range(len(y)):
        tones = 100 + 50 * np.flatnonzero(y[i])
        assert np.min(np.abs(tones - centres[np.argmax(x[i])])) < 60


def test_fsd50k_caps_paths_and_errors(tmp_path: Path) -> None:
    fsd50k.write_synthetic(tmp_path, SIZES, 2)
    caps = split_caps(12, fsd50k.SIZES)
    small = fsd50k.read(tmp_path, n_samples=12)
    assert len(small["train"].x) == caps["train"]
    full = fsd50k.read(tmp_path)
    for s in ("val", "test"):
        assert len(np.unique(small[s].meta["clip"])) == caps[s]
        n = len(small[s].x)
        assert n == int(np.sum(full[s].meta["clip"] < caps[s]))  # every chunk of the first clips
        np.testing.assert_array_equal(small[s].x, full[s].x[:n])
    assert fsd50k._local(tmp_path, "/a/chunks/b/chunks/tr/1_0.wav") == tmp_path / "fsd50k/data/chunks/tr/1_0.wav"
    with pytest.raises(DataError, match="'chunks'"):
        fsd50k._local(tmp_path, "/a/b/1_0.wav")
    with pytest.raises(DataError, match="accepted: none"):
        fsd50k.read(tmp_path, options={"augment": True})
    row = _manifest_rows(tmp_path, "val.csv")[0]
    wavfile.write(tmp_path / "fsd50k/data/chunks/val" / Path(row["files"]).name, 16000, np.zeros(16000, np.int16))
    with pytest.raises(DataError, match="16000 Hz"):
        fsd50k.read(tmp_path)
    (tmp_path / "fsd50k/data/chunks/eval.csv").write_text("path,labels\nx.wav,label_000\n")
    with pytest.raises(DataError, match="columns"):
        fsd50k._manifest(tmp_path / "fsd50k/data/chunks/eval.csv")


# ---------------------------------------------------------------- PSICOV


def _protein_files(root: Path, subset: str, pid: str) -> tuple[dict, np.ndarray]:
    with open(root / f"protein/{subset}/features/{pid}.pkl", "rb") as f:
        feats = pickle.load(f)
    return feats, np.load(root / f"protein/{subset}/distance/{pid}-cb.npy", allow_pickle=True)[2]


def _padded(feats: dict, dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (57, L + 10, L + 10) inputs and (L + 10, L + 10) targets, written out channel by channel."""
    n = len(feats["seq"])
    one_d = [feats["ss"][k] for k in range(3)] + [feats["pssm"][:, k] for k in range(22)] + [feats["sa"],
                                                                                           feats["entropy"]]
    x = np.zeros((57, n + 10, n + 10))
    for k, f in enumerate(one_d):
        for i in range(n):
            x[2 * k, 5 + i, 5:5 + n] = f
            x[2 * k + 1, 5 + i, 5:5 + n] = f[i]
    for k, key in enumerate(("ccmpred", "freecon", "potential")):
        x[54 + k, 5:5 + n, 5:5 + n] = feats[key]
    y = np.full((n + 10, n + 10), 100.0)
    y[5:5 + n, 5:5 + n] = psicov.distance_map(dist)
    return x.astype(np.float32), y.astype(np.float32)


def test_psicov_distance_map_by_hand() -> None:
    cb = np.array([[0, 2, 5], [2, 0, 0.5], [5, 0.5, 0]])
    np.testing.assert_allclose(psicov.distance_map(cb), [[2, 2, 5], [2, 1.5, 1], [5, 1, 1]])
    nan = np.nan
    cb = np.array([[0, 3, 4, 5, 6], [3, 0, nan, 4, 5], [4, nan, 0, nan, 4], [5, 4, nan, nan, 3], [6, 5, 4, 3, 0]])
    y = psicov.distance_map(cb)
    np.testing.assert_allclose(np.diag(y), [3, 3, 1, nan, 3])  # right neighbour; both NaN -> 1; NaN kept


def test_psicov_canvases_splits_and_meta(tmp_path: Path) -> None:
    psicov.write_synthetic(tmp_path, SIZES, 0)
    splits = psicov.read(tmp_path, allow_pickle=True, options=PSICOV_OPTS)
    deepcov = (tmp_path / "protein/deepcov.lst").read_text().split()
    psicov_ids = (tmp_path / "protein/psicov.lst").read_text().split()
    assert {s: len(sp.x) for s, sp in splits.items()} == {"train": SIZES["train"], "val": 100, "test": SIZES["test"]}
    for s, w in (("train", 32), ("val", 64), ("test", 64)):
        sp = splits[s]
        assert sp.x.shape[1:] == (57, w, w) and sp.y.shape[1:] == (1, w, w)
        assert sp.x.dtype == np.float32 and sp.y.dtype == np.float32 and sp.meta["length"].dtype == np.int64
    assert splits["train"].y.max() <= 16 and splits["test"].y.max() == 100
    for s, subset, ids in (("val", "deepcov", deepcov[:100]), ("test", "psicov", psicov_ids)):
        for i in (0, len(ids) - 1):
            feats, dist = _protein_files(tmp_path, subset, ids[i])
            n = len(feats["seq"])
            assert splits[s].meta["length"][i] == n
            px, py = _padded(feats, dist)
            x, y = splits[s].x[i], splits[s].y[i, 0]
            np.testing.assert_array_equal(x[:, :n + 10, :n + 10], px)
            np.testing.assert_array_equal(x[:, n + 10:], 0)
            np.testing.assert_array_equal(y[:n + 10, :n + 10], py)
            np.testing.assert_array_equal(y[n + 10:], 100)
    for i, pid in enumerate(deepcov[100:]):  # a random crop of the padded protein, clipped at 16
        feats, dist = _protein_files(tmp_path, "deepcov", pid)
        px, py = _padded(feats, dist)
        side = max(len(px[0]), 32)
        canvas_x, canvas_y = np.zeros((57, side, side), np.float32), np.full((side, side), 100, np.float32)
        canvas_x[:, :len(px[0]), :len(px[0])], canvas_y[:len(px[0]), :len(px[0])] = px, py
        px, py = canvas_x, canvas_y
        spare = side - 32
        hits = [(r, c) for r in range(spare + 1) for c in range(spare + 1)
                if np.array_equal(splits["train"].x[i], px[:, r:r + 32, c:c + 32])]
        assert len(hits) >= 1
        r, c = hits[0]
        np.testing.assert_array_equal(splits["train"].y[i, 0], np.minimum(py[r:r + 32, c:c + 32], 16))
    again = psicov.read(tmp_path, allow_pickle=True, options=PSICOV_OPTS)
    np.testing.assert_array_equal(again["train"].x, splits["train"].x)
    other = psicov.read(tmp_path, allow_pickle=True, options={**PSICOV_OPTS, "seed": 5})
    assert not np.array_equal(other["train"].x, splits["train"].x)


def test_psicov_pickle_convert_caps_and_errors(tmp_path: Path) -> None:
    _missing("psicov", tmp_path)
    psicov.write_synthetic(tmp_path, {"train": 3, "val": 2, "test": 2}, 1)
    with pytest.raises(DataError) as e:
        psicov.read(tmp_path, n_samples=8, options=PSICOV_OPTS)
    _pickle_refused(e)
    full = psicov.read(tmp_path, allow_pickle=True, options=PSICOV_OPTS)
    assert len(psicov.convert(tmp_path)) == 100 + 3 + 2
    _same(psicov.read(tmp_path, options=PSICOV_OPTS), full)
    caps = split_caps(40, psicov.SIZES)
    small = psicov.read(tmp_path, n_samples=40, options=PSICOV_OPTS)
    for s, sp in small.items():
        n = min(caps[s], len(full[s].x))
        assert len(sp.x) == n
        np.testing.assert_array_equal(sp.x, full[s].x[:n])
    with pytest.raises(DataError, match="accepted"):
        psicov.read(tmp_path, options={"window": 64})
    with pytest.raises(DataError, match="above 10"):
        psicov.read(tmp_path, options={"test_window": 8})
    pid = (tmp_path / "protein/psicov.lst").read_text().split()[0]
    arrays = dict(np.load(tmp_path / f"protein/psicov/xbench/{pid}.npz"))
    np.savez(tmp_path / f"protein/psicov/xbench/{pid}.npz", **{**arrays, "pssm": arrays["pssm"][:, :20]})
    with pytest.raises(DataError, match="pssm"):
        psicov.read(tmp_path, options=PSICOV_OPTS)


# ---------------------------------------------------------------- Cosmic


def _crop(path: Path) -> np.ndarray:
    return np.load(path)[:, 64:192, 64:192]


def _list(root: Path, split: str) -> list[Path]:
    return [root / str(e)[2:] for e in np.load(root / f"cosmic/{split}_dirs.npy")]


def test_cosmic_planes_splits_and_sky(tmp_path: Path) -> None:
    cosmic.write_synthetic(tmp_path, SIZES, 0)
    pool, test = _list(tmp_path, "train"), _list(tmp_path, "test")
    plain = cosmic.read(tmp_path, options={"sky_aug": "none"})
    n_train = int(len(pool) * 0.9)
    parts = {"train": pool[:n_train], "val": pool[n_train:], "test": test}
    assert {s: len(sp.x) for s, sp in plain.items()} == {s: len(p) for s, p in parts.items()}
    for s, paths in parts.items():
        sp = plain[s]
        for a in (sp.x, sp.y, sp.meta["ignore"]):
            assert a.shape[1:] == (1, 128, 128) and a.dtype == np.float32
        for i, path in enumerate(paths):
            planes = _crop(path)
            ignore = planes[2] if len(planes) == 3 else np.zeros((128, 128))
            np.testing.assert_array_equal(sp.x[i, 0], planes[0])
            np.testing.assert_array_equal(sp.meta["ignore"][i, 0], ignore)
            np.testing.assert_array_equal(sp.y[i, 0], np.where(ignore > 0.5, -1.0, planes[1]))
    assert (plain["train"].y == -1).any() and set(np.unique(plain["train"].y)) <= {-1.0, 0.0, 1.0}
    both = cosmic.read(tmp_path)
    u = np.random.default_rng(1).uniform(-0.9, 3, len(pool) + len(test))
    order = pool + test
    for s, offset in (("train", 0), ("val", n_train), ("test", len(pool))):
        for i, path in enumerate(parts[s]):
            sky = np.load(path.parent / "sky.npy")[int(path.name.split("_")[0]) - 1]
            assert order[offset + i] == path
            np.testing.assert_allclose(both[s].x[i, 0] - plain[s].x[i, 0], sky * u[offset + i], rtol=1e-4, atol=1e-3)
    train_only = cosmic.read(tmp_path, options={"sky_aug": "train"})
    np.testing.assert_array_equal(train_only["train"].x, both["train"].x)
    np.testing.assert_array_equal(train_only["test"].x, plain["test"].x)


def test_cosmic_lists_caps_and_errors(tmp_path: Path) -> None:
    _missing("cosmic", tmp_path)
    cosmic.write_synthetic(tmp_path, SIZES, 3)
    full = cosmic.read(tmp_path)
    caps = split_caps(12, cosmic.SIZES)
    small = cosmic.read(tmp_path, n_samples=12)
    for s, sp in small.items():
        n = min(caps[s], len(full[s].x))
        assert len(sp.x) == n
        np.testing.assert_array_equal(sp.x, full[s].x[:n])
    test = _list(tmp_path, "test")
    folders = sorted({p.parent for p in test})
    rel = [f.relative_to(tmp_path / "cosmic/npy_test") for f in folders]
    np.save(tmp_path / "cosmic/test_dirs.npy", np.array([f"/authors/data/cosmic/npy_test/{r}/" for r in rel]))
    by_dir = cosmic.read(tmp_path, options={"sky_aug": "none"})["test"]
    want = [p for f in folders for p in sorted(f.glob("*_*.npy"))]
    np.testing.assert_array_equal(by_dir.x[:, 0], np.stack([_crop(p)[0] for p in want]))
    np.save(tmp_path / "cosmic/test_dirs.npy", np.array([str(p) for p in test], dtype=object), allow_pickle=True)
    with pytest.raises(DataError) as e:
        cosmic.read(tmp_path)
    _pickle_refused(e)
    _same(cosmic.read(tmp_path, allow_pickle=True), full)
    with pytest.raises(DataError, match="accepted"):
        cosmic.read(tmp_path, allow_pickle=True, options={"crop": 128})
    with pytest.raises(DataError, match="sky_aug"):
        cosmic.read(tmp_path, allow_pickle=True, options={"sky_aug": "test"})
    np.save(test[0], np.zeros((3, 100, 100), np.float32))
    with pytest.raises(DataError, match="shape"):
        cosmic.read(tmp_path, allow_pickle=True)
