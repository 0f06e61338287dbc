"""`xbench data verify`: MD5 against PDEBench's manifest, data generation, and every outcome."""

from __future__ import annotations

import hashlib
import json
import os

import h5py
import pytest

from xbench.cli import main
from xbench.tasks.pdebench import verify as v
from xbench.tasks.registry import get_task, list_tasks

ADV = "pdebench-advection"
OLD, NEW = b"old 2022 upload with the doubled flux", b"re-upload after the 2023 fix"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def manifest(tmp_path):
    path = get_task(ADV).data.path
    out = tmp_path / "manifest.csv"
    out.write_text("# test manifest\npath,url,md5,generation,listed_in\n"
                   f"{path},https://example.org/old,{md5(OLD)},pre-fix,a..b\n"  # old row first: order must not matter
                   f"{path},https://example.org/new,{md5(NEW)},post-fix,c..d\n")
    return out


def place(root, content: bytes):
    path = root / get_task(ADV).data.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("content,generation,url", [(NEW, "post-fix", "new"), (OLD, "pre-fix", "old")])
def test_match_names_the_generation(tmp_path, manifest, content, generation, url):
    place(tmp_path, content)
    verdict = v.verify(get_task(ADV), tmp_path, manifest, progress=False)
    assert (verdict.status, verdict.exit_code, verdict.row.generation) == ("match", 0, generation)
    assert v.GENERATIONS[generation] in verdict.message and f"example.org/{url}" in verdict.message
    assert ("before" in verdict.message) == (generation == "pre-fix")


def test_mismatch_says_how_to_download_again(tmp_path, manifest):
    path = place(tmp_path, NEW[:-3])  # a truncated download
    verdict = v.verify(get_task(ADV), tmp_path, manifest, progress=False)
    assert (verdict.status, verdict.exit_code) == ("mismatch", 1)
    assert f"wget -c https://example.org/new -O {path}" in verdict.message and md5(NEW[:-3]) in verdict.message


def test_missing_file_says_where_and_from_where(tmp_path, manifest):
    verdict = v.verify(get_task(ADV), tmp_path, manifest, progress=False)
    path = tmp_path / get_task(ADV).data.path
    assert (verdict.status, verdict.exit_code) == ("missing", 3)
    assert str(path) in verdict.message and "https://example.org/new" in verdict.message


def test_generated_file_has_no_md5(tmp_path, manifest):
    path = tmp_path / get_task(ADV).data.path
    path.parent.mkdir(parents=True)
    with h5py.File(path, "w") as f:
        f.attrs["xbench_generator"] = "xbench-fv1d-1"
    verdict = v.verify(get_task(ADV), tmp_path, manifest, progress=False)
    assert (verdict.status, verdict.exit_code) == ("generated", 3) and "xbench-fv1d-1" in verdict.message


def test_file_not_in_the_manifest(tmp_path):
    other = tmp_path / "manifest.csv"
    other.write_text("path,url,md5,generation,listed_in\n")
    place(tmp_path, NEW)
    verdict = v.verify(get_task(ADV), tmp_path, other, progress=False)
    assert (verdict.status, verdict.exit_code) == ("unlisted", 3)


def test_md5_is_cached_by_size_and_mtime(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(NEW * 1000)
    assert v.md5_file(path, progress=False, chunk=7) == md5(NEW * 1000)  # blocks that do not divide the file
    sidecar = tmp_path / "f.bin.md5.json"
    cached = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**cached, "md5": "cached"}))
    assert v.md5_file(path, progress=False) == "cached"  # same size and mtime: not hashed again
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert v.md5_file(path, progress=False) == md5(NEW * 1000)


def test_cli_exit_codes(tmp_path, manifest, monkeypatch, capsys):
    real = v.load_manifest
    monkeypatch.setattr(v, "load_manifest", lambda source=None: real(manifest))
    args = ["data", "verify", ADV, "--data-root", str(tmp_path), "--no-progress"]
    assert main(args) == 3 and "missing" in capsys.readouterr().out
    place(tmp_path, OLD)
    assert main(args) == 0 and "before PDEBench's 2023" in capsys.readouterr().out
    place(tmp_path, b"garbage")
    assert main(args) == 1 and "wget -c" in capsys.readouterr().out


# ---------------------------------------------------------------- the packaged manifest
ISSUE_3_FILES = ("1D_Advection_Sols_beta0.4.hdf5", "1D_Burgers_Sols_Nu1.0.hdf5", "1D_Burgers_Sols_Nu0.001.hdf5",
                 "ReacDiff_Nu0.5_Rho1.0.hdf5", "1D_diff-sorp_NA_NA.h5",
                 "1D_CFD_Rand_Eta0.1_Zeta0.1_periodic_Train.hdf5",
                 "2D_DarcyFlow_beta0.1_Train.hdf5", "2D_rdb_NA_NA.h5", "2D_diff-react_NA_NA.h5",
                 "2D_CFD_Rand_M1.0_Eta0.1_Zeta0.1_periodic_128_Train.hdf5")


def test_packaged_manifest_covers_the_tasks_and_both_generations():
    rows = v.load_manifest()
    assert sorted(p.rsplit("/", 1)[1] for p in rows) == sorted(ISSUE_3_FILES)
    for path, rs in rows.items():
        assert all(len(r.md5) == 32 and r.url.startswith("https://darus.uni-stuttgart.de/") for r in rs)
        gens = [r.generation for r in rs]
        two = "Advection" in path or "Burgers" in path
        assert gens == (["post-fix", "pre-fix"] if two else ["unaffected"]), path
    old_ids = {r.url.rsplit("/", 1)[1] for rs in rows.values() for r in rs if r.generation == "pre-fix"}
    assert old_ids == {"133110", "133142", "133133"}  # spec §0.1: Advection 133100-133113, Burgers 133133-133144


def test_registered_tasks_agree_with_the_manifest():
    rows = v.load_manifest()
    for spec in list_tasks():
        if spec.data.path in rows:
            current = rows[spec.data.path][0]
            assert spec.data.url == current.url, spec.name
            assert spec.data.md5 in ("", current.md5), spec.name
    assert get_task(ADV).data.md5 == v.manifest_md5(get_task(ADV).data.path) == "d595bbfd2c659df995a93cd40d6ea568"
