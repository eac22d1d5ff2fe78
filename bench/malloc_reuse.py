#!/usr/bin/env python3
"""glibc malloc left as it is against core/malloc_tuning (freed blocks kept for reuse: no mmap
for large blocks, no heap trimming), on the CPU LoRA training step of unsloth_memory.py's model
(random Llama 512 x 8, vocab 32000, LoRA r 16 on the 7 projections, float32, micro-batch 1 x
seq 1024). bench_train_step runs with AXL_MALLOC=default, then without it (the tuning the
axolotl binary applies), alternating, `--reps` times per setting; one JSON line per setting
with the median tokens/s and peak RSS of each and their ratios.

usage: malloc_reuse.py BENCH_TRAIN_STEP_BIN [--threads 2] [--steps 5] [--reps 3] [--append FILE]
"""
import argparse, json, os, statistics, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_lora import emit, run_child, write_model  # noqa: E402

SETTINGS = [
    ("plain", ["--fused", "none", "--loss", "plain", "--checkpointing", "off"]),
    ("all-no-ckpt", ["--fused", "all", "--loss", "chunked", "--checkpointing", "off"]),
    ("all", ["--fused", "all", "--loss", "chunked", "--checkpointing", "layer"]),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--append")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "llama-random")
        write_model(model)
        common = [a.bin, "--model", model, "--threads", str(a.threads), "--warmup", "1", "--steps", str(a.steps),
                  "--batch", "1", "--seq", "1024"]
        for name, flags in SETTINGS:
            runs = {"default": [], "reuse": []}
            for _ in range(a.reps):
                for mode in ("default", "reuse"):
                    if mode == "default":
                        os.environ["AXL_MALLOC"] = "default"
                    else:
                        os.environ.pop("AXL_MALLOC", None)
                    runs[mode].append(run_child(common + flags))
            os.environ.pop("AXL_MALLOC", None)
            med = {m: {"tokens_per_s": round(statistics.median(r["tokens_per_s"] for r in rs), 1),
                       "peak_rss_mb": round(statistics.median(r["peak_rss_mb"] for r in rs), 1)}
                   for m, rs in runs.items()}
            line = {"bench": "malloc_reuse", "model": "llama-512x8-v32000", "dtype": "float32", "setting": name,
                    "threads": a.threads, "seq": 1024, "steps": a.steps, "reps": a.reps, **med,
                    "ratio_tokens_per_s": round(med["reuse"]["tokens_per_s"] / med["default"]["tokens_per_s"], 3),
                    "ratio_peak_rss": round(med["reuse"]["peak_rss_mb"] / med["default"]["peak_rss_mb"], 3),
                    "load_avg_1m": os.getloadavg()[0]}
            emit(line, a.append)


if __name__ == "__main__":
    main()
