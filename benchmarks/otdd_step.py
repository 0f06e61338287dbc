"""Time one ORCA-style OTDD alignment step: cached source terms vs recomputing them every call.

Run:  python benchmarks/otdd_step.py [--n-source 5000] [--n-target 1280] [--dim 768] [--classes 10]

One step = for each of the 10 target classes (128 points each), compute OTDD(source, class) and
backpropagate into the target features, as ORCA's stage 2 does once per "embedder epoch". ORCA builds
a new dataset distance on every call, recomputing the source-source label distances and the source
self term; xbench computes them once when the loss is built. Both give the same value (the same
solver on the same inputs); the script reports both times and the relative difference.
Features are clustered Gaussians scaled like mean-pooled embedding-layer features (norm ~ 4).
"""

from __future__ import annotations

import argparse
import time

import torch

from xbench.align import build_alignment


def features(n: int, d: int, k: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(k, d, generator=g) * (3.0 / d**0.5)
    labels = torch.randint(k, (n,), generator=g)
    return centres[labels] + torch.randn(n, d, generator=g) * (2.0 / d**0.5), labels


def step(loss_for_call, tgt: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    total = 0.0
    for c in range(k):
        feats = tgt[labels == c][:128].clone().requires_grad_(True)
        value = loss_for_call()(feats)
        value.backward()
        total += value.item()
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-source", type=int, default=5000)
    ap.add_argument("--n-target", type=int, default=1280)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--classes", type=int, default=10)
    args = ap.parse_args()
    src, src_labels = features(args.n_source, args.dim, args.classes, 0)
    tgt, tgt_labels = features(args.n_target, args.dim, args.classes, 1)
    tgt = tgt + 0.5 / args.dim**0.5

    t0 = time.perf_counter()
    cached = build_alignment("otdd", src, src_labels)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    v_cached = step(lambda: cached, tgt, tgt_labels, args.classes)
    cached_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    v_scratch = step(lambda: build_alignment("otdd", src, src_labels), tgt, tgt_labels, args.classes)
    scratch_s = time.perf_counter() - t0

    print(f"OTDD step: {args.n_source} source points, {args.n_target} target points, d={args.dim}, "
          f"{args.classes} classes, torch threads {torch.get_num_threads()}")
    print("| variant | seconds per step | summed OTDD |\n|---|---|---|")
    print(f"| recomputed every call (ORCA) | {scratch_s:.2f} | {v_scratch:.6f} |")
    print(f"| cached source terms (xbench) | {cached_s:.2f} (+{build_s:.2f} once per run) | {v_cached:.6f} |")
    print(f"speed-up per step: {scratch_s / cached_s:.1f}x; relative difference of values: "
          f"{abs(v_cached - v_scratch) / abs(v_scratch):.1e}")


if __name__ == "__main__":
    main()
