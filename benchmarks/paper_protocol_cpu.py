"""Time the faithful paper protocol's model on a CPU: ORCA's 2D wrapper with a random-weight Swin-base
(224^2, patch 4, 3136 tokens, Swin's MIM decoder) and the 1D protocol with a random-weight RoBERTa-base.

    python benchmarks/paper_protocol_cpu.py WORK_DIR [N_SAMPLES]

Builds both bodies from their published configurations (random weights: no download), then runs
``xbench run TASK --profile paper --method finetune --set epochs=1 --set n_samples=N`` on
pdebench-darcy and pdebench-burgers (generated data) and prints wall time, training samples per
second and the time a full paper-profile epoch would take at that rate. ``finetune``, not ``orca``:
xbench's source reference is text, so alignment of a Swin body waits for an image source.
"""

from __future__ import annotations

import json
import subprocess
import sys
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
    out["pdebench-darcy"] = swin
    roberta = work / "roberta-base-random"
    if not (roberta / "config.json").exists():
        RobertaModel(RobertaConfig(vocab_size=50265, max_position_embeddings=514, type_vocab_size=1,
                                   pad_token_id=1, bos_token_id=0, eos_token_id=2)).save_pretrained(roberta)
    out["pdebench-burgers"] = roberta
    return out


def main(work: Path, n: int) -> None:
    work.mkdir(parents=True, exist_ok=True)
    for task, body in save_bodies(work).items():
        res = work / f"results-{task}"
        cmd = ["xbench", "run", task, "--profile", "paper", "--method", "finetune", "--backbone", str(body),
               "--seeds", "0", "--set", "epochs=1", "--set", f"n_samples={n}", "--set", "track_bound=false",
               "--data-root", str(work / "data"), "--results", str(res), "--no-progress"]
        t0 = time.time()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.time() - t0
        if proc.returncode != 0:
            print(proc.stdout[-2000:], proc.stderr[-2000:])
            raise SystemExit(f"{task}: exit {proc.returncode}")
        rec = json.loads(next((res / "pdebench/runs").glob("*.json")).read_text())
        n_train = rec["data"]["splits"]["train"]
        run_s = rec["wall_s"]
        per = run_s / n_train  # one epoch of training plus evaluation of val and test, per training sample
        print(f"{task}: body {body.name}, {n} samples ({n_train} train), one epoch + evaluation {run_s:.0f} s "
              f"(command {wall:.0f} s), {per:.2f} s per training sample, peak {rec['peak_mem_mb']:.0f} MB; "
              f"fidelity {rec['fidelity']['status']}: {[d['setting'] for d in rec['fidelity']['deviations']]}; "
              f"a paper-profile epoch over 8100 samples: about {8100 * per / 3600:.1f} h on this CPU")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 40)
