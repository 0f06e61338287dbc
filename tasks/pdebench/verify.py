"""``xbench data verify``: is the real file of a task the one PDEBench publishes, and which generation?

The MD5s come from PDEBench's download manifest (``manifest.csv`` beside this module holds the rows
xbench's tasks need, with their upstream commits). Advection and Burgers exist in two generations
(specs/pdebench.md §0.1): the original 2022 upload (DaRUS ids 1331xx, with the doubled-flux bug; the
files ORCA and the PDEBench paper used) and the re-upload after the 2023 fix; both MD5s are listed,
so a matching file also tells which one it is. Rows are looked up by the file's path relative to the
data root (``spec.data.path``), so any task registered later gets verification from its path alone.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import h5py
from tqdm.auto import tqdm

from xbench.tasks.registry import TaskSpec

log = logging.getLogger(__name__)

GENERATIONS = {
    "post-fix": "the re-upload after PDEBench's 2023 Advection/Burgers flux fix (current data)",
    "pre-fix": "the original 2022 upload, before PDEBench's 2023 Advection/Burgers flux fix (the data ORCA and the "
               "PDEBench paper used)",
    "unaffected": "PDEBench's only release of this file (the 2023 flux fix did not touch it)",
}
STATUS_CODES = {"match": 0, "mismatch": 1, "missing": 3, "generated": 3, "unlisted": 3}


@dataclass(frozen=True)
class ManifestRow:
    """One file of PDEBench's download manifest: relative path, DaRUS URL, MD5, data generation."""

    path: str
    url: str
    md5: str
    generation: str
    listed_in: str


def load_manifest(source: str | Path | None = None) -> dict[str, list[ManifestRow]]:
    """Rows by relative path, current generation first; ``source`` defaults to the packaged manifest."""
    text = (Path(source).read_text() if source is not None
            else resources.files("xbench.tasks.pdebench").joinpath("manifest.csv").read_text())
    rows: dict[str, list[ManifestRow]] = {}
    for r in csv.DictReader(line for line in text.splitlines() if not line.startswith("#")):
        if r["generation"] not in GENERATIONS:
            raise ValueError(f"manifest {source or 'manifest.csv'}: unknown generation {r['generation']!r}")
        rows.setdefault(r["path"], []).append(ManifestRow(**r))
    for v in rows.values():
        v.sort(key=lambda r: r.generation == "pre-fix")
    return rows


def manifest_md5(path: str) -> str:
    """MD5 of the file PDEBench's download script fetches today for ``path`` ("" if not in the manifest)."""
    rows = [r for r in load_manifest().get(path, []) if r.generation != "pre-fix"]
    return rows[0].md5 if rows else ""


def md5_file(path: str | Path, progress: bool = True, chunk: int = 1 << 24) -> str:
    """MD5 of a file read in blocks, cached in a ``<file>.md5.json`` sidecar keyed by size and mtime."""
    path = Path(path)
    st = path.stat()
    sidecar = path.with_name(path.name + ".md5.json")
    key = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    try:
        cached = json.loads(sidecar.read_text())
        if {k: cached.get(k) for k in key} == key:
            return cached["md5"]
    except (OSError, ValueError, KeyError):
        pass
    h = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f, tqdm(total=st.st_size, unit="B", unit_scale=True, desc=f"md5 {path.name}",
                                    disable=not progress) as bar:
        while block := f.read(chunk):
            h.update(block)
            bar.update(len(block))
    digest = h.hexdigest()
    try:
        sidecar.write_text(json.dumps({**key, "md5": digest}))
    except OSError:
        log.debug("could not write checksum cache %s", sidecar)
    return digest


@dataclass(frozen=True)
class Verdict:
    """Outcome of :func:`verify`: ``status`` in STATUS_CODES, a message for the user, the matched row."""

    status: str
    path: Path
    message: str
    row: ManifestRow | None = None

    @property
    def exit_code(self) -> int:
        return STATUS_CODES[self.status]


def _xbench_generated(path: Path) -> str | None:
    try:
        with h5py.File(path, "r") as f:
            return str(f.attrs["xbench_generator"]) if "xbench_generator" in f.attrs else None
    except OSError:  # not HDF5 (e.g. a truncated download): the MD5 decides
        return None


def verify(spec: TaskSpec, root: Path, manifest: str | Path | None = None, progress: bool = True) -> Verdict:
    """Check ``<root>/<spec.data.path>`` against the manifest's MD5(s) for that path."""
    from xbench.tasks.datafiles import generated_path, real_path  # datafiles imports this package

    path = real_path(spec, root)
    rows = load_manifest(manifest).get(spec.data.path, [])
    get = f"wget -c {rows[0].url} -O {path}" if rows else None
    if not path.exists():
        gen = generated_path(spec, root)
        note = (f" xbench-generated data for {spec.name} is at {gen} (no MD5 applies to generated data)."
                if gen.exists() else f" Without it {spec.name} runs on xbench-generated data." if spec.can_generate
                else "")
        how = (f"download it with `mkdir -p {path.parent} && {get}`" if get
               else f"download it ({spec.data.url or 'see the task reference'})")
        return Verdict("missing", path, f"{path} does not exist: {how} and keep it at that path.{note}")
    generator = _xbench_generated(path)
    if generator:
        return Verdict("generated", path, f"{path} was generated by xbench ({generator}), not downloaded from "
                                          "PDEBench: no MD5 applies to it.")
    if not rows:
        return Verdict("unlisted", path, f"PDEBench's download manifest (as stored in xbench) has no entry for "
                                         f"{spec.data.path}, so there is no MD5 to check {path} against.")
    digest = md5_file(path, progress)
    for r in rows:
        if digest == r.md5:
            return Verdict("match", path, f"{path}: MD5 {digest} matches PDEBench's manifest ({r.url}): "
                                          f"{GENERATIONS[r.generation]}.", r)
    listed = ", ".join(f"{r.md5} ({r.generation}, {r.url})" for r in rows)
    return Verdict("mismatch", path, f"{path}: MD5 {digest} matches none of PDEBench's files for this path "
                                     f"({listed}). The file is incomplete or damaged: re-download it with `{get}` "
                                     "(resumes an interrupted download; delete the file first if it is complete "
                                     "but wrong).")
