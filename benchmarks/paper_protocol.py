"""The paper protocol of ``orca`` for a few epochs on a device: samples/s, peak memory, utilisation.

    python benchmarks/paper_protocol.py WORK_DIR [--device cuda] [--epochs 2] [--n-samples 1000]
           [--roberta DIR] [--swin DIR] [--data-root DIR]
    python benchmarks/paper_protocol.py WORK_DIR --device cpu --epochs 1 --n-samples 40   # this CPU

Runs ``xbench run pdebench-advection`` (1D: RoBERTa-base, 256 tokens) and ``xbench run pdebench-darcy``
(2D: ORCA's wrapper, Swin-base, 3136 tokens) with ``--profile paper`` and ``--set epochs=E --set
n_samples=N`` (the rest is the paper profile: docs/parity.md). Without ``--roberta`` / ``--swin`` the
bodies are built from their published configurations with random weights (nothing is downloaded):
the speed and memory are the same, the scores mean nothing. The 2D task runs ``orca`` when CIFAR-10 is
under ``DATA/sources/`` (its source), else ``finetune`` (say which in the output). While each run
trains, ``nvidia-smi`` is sampled every second for GPU utilisation (on CUDA). Each row gives the time a
full paper-profile epoch (8100 training samples) would take at the measured rate; ``run_s`` includes
the one-off stages (the source reference, orca's 60 alignment steps), so for orca that figure is an
upper bound. Writes ``WORK_DIR/paper_protocol.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import threading
import time
from pathlib import Path



def save_bodies(work: Path) -> dict[str, Path]:
    import torch
    from transformers import RobertaConfig, RobertaModel, SwinConfig, SwinModel

    out = {}
    torch.manual_seed(0)
    swin = work / "swin-base-patch4-window7-224-in22k-random"
    if not (swin / "config.json").exists():
        cfg = SwinConfig(embed_dim=128, depths=[2, 2, 18, 2], num_heads=[4, 8, 16, 32], window_size=7,
                         image_size=224, patch_size=4, id2label={i: str(i) for i in range(21841)})
        SwinModel(cfg).save_pretrained(swin)
    out["swin"] = swin
    roberta = work / "roberta-base-random"
    if not (roberta / "config.json").exists():
        RobertaModel(RobertaConfig(vocab_size=50265, max_position_embeddings=514, type_vocab_size=1,
                                   pad_token_id=1, bos_token_id=0, eos_token_id=2)).save_pretrained(roberta)
    out["roberta"] = roberta
    return out


class Utilisation:
    """GPU utilisation (%) from nvidia-smi, sampled every second while the block runs."""

    def __init__(self):
        self.samples: list[float] = []
        self._stop = threading.Event()

    def _poll(self) -> None:
        while not self._stop.wait(1.0):
            try:
                out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
                                     capture_output=True, text=True, timeout=5).stdout.split()
                self.samples.append(float(out[0]))
            except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
                return

    def __enter__(self) -> Utilisation:
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def run_task(task: str, method: str, body: Path, args, work: Path) -> dict:
    res = work / f"results-{task}-{method}"
    cmd = ["xbench", "run", task, "--profile", "paper", "--method", method, "--backbone", str(body), "--seeds", "0",
           "--device", args.device, "--set", f"epochs={args.epochs}", "--set", f"n_samples={args.n_samples}",
           "--data-root", str(args.data_root or work / "data"), "--results", str(res), "--no-progress"]
    with Utilisation() as util:
        t0 = time.time()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.time() - t0
    if not args.device.startswith("cuda"):
        util.samples.clear()
    if proc.returncode != 0:
        return {"task": task, "method": method, "status": "failed", "stderr": proc.stderr[-3000:],
                "stdout": proc.stdout[-3000:]}
    rec = json.loads(next((res / "pdebench/runs").glob("*.json")).read_text())
    n_train = rec["data"]["splits"]["train"]
    return {"task": task, "method": method, "body": body.name, "status": rec["status"], "epochs": args.epochs,
            "n_train": n_train, "run_s": rec["wall_s"], "command_s": round(wall, 1),
            "train_samples_per_s": round(n_train * args.epochs / rec["wall_s"], 2),  # evaluation included
            "full_epoch_h": round(8100 / (n_train * args.epochs / rec["wall_s"]) / 3600, 2),
            "peak_mem_mb": rec["peak_mem_mb"], "device": rec["device"],
            "gpu_util_mean": round(sum(util.samples) / len(util.samples), 1) if util.samples else None,
            "gpu_util_max": max(util.samples) if util.samples else None,
            "fidelity": rec["fidelity"]["status"], "deviations": [d["setting"] for d in rec["fidelity"]["deviations"]],
            "test_nrmse": rec["metrics"]["test"]["nrmse"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("work", type=Path)
    p.add_argument("--device", default="cuda")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--n-samples", type=int, default=1000)
    p.add_argument("--roberta", type=Path, default=None)
    p.add_argument("--swin", type=Path, default=None)
    p.add_argument("--data-root", type=Path, default=None)
    args = p.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    bodies = {"pdebench-advection": args.roberta, "pdebench-darcy": args.swin}
    if None in bodies.values():
        made = save_bodies(args.work)
        bodies = {"pdebench-advection": args.roberta or made["roberta"], "pdebench-darcy": args.swin or made["swin"]}
    root = args.data_root or args.work / "data"
    has_cifar = (root / "sources" / "cifar-10-batches-bin").is_dir() or (root / "sources" / "cifar10.npz").exists()
    rows = [run_task("pdebench-advection", "orca", bodies["pdebench-advection"], args, args.work),
            run_task("pdebench-darcy", "orca" if has_cifar else "finetune", bodies["pdebench-darcy"], args, args.work)]
    (args.work / "paper_protocol.json").write_text(json.dumps(rows, indent=2) + "\n")
    for r in rows:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
