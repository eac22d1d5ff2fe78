#!/usr/bin/env python3
"""`axolotl train` speed on real SFT data, on the CPU: the fixtures' 1k Stanford Alpaca records
(`type: alpaca`, prompt tokens not trained) on unsloth_memory.py's random Llama (hidden 512,
8 layers, vocab 32000) with the fixtures' 32k tokenizer, LoRA r 16 on all linear layers:
  lora            sequence_len 512, micro-batch 4, padded to the longest (Axolotl's collator)
  lora-grouped    the same with group_by_length (mega-batches sorted by length)
  lora-packed     sample_packing, one row of 2048 tokens per step
  qlora           lora + load_in_4bit (NF4, double quantisation)
Each run's summary line ("done: ... tok/s ... peak RSS ...") gives tokens/s (real tokens, not
padding), the mean train loss and the peak resident set. One JSON line per run.

usage: sft_cli.py [AXL_BIN] [--fixtures DIR] [--threads 2] [--label TEXT] [--append FILE]
(--label tags the lines, e.g. with the commit the binary was built from.)
"""
import argparse, json, os, re, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_lora import emit, write_model  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = [
    ("lora", "sequence_len: 512\nmicro_batch_size: 4\nmax_steps: 24\n"),
    ("lora-grouped", "sequence_len: 512\nmicro_batch_size: 4\ngroup_by_length: true\nmax_steps: 24\n"),
    ("lora-packed", "sequence_len: 2048\nmicro_batch_size: 1\nsample_packing: true\nmax_steps: 6\n"),
    ("qlora", "adapter: qlora\nload_in_4bit: true\nsequence_len: 512\nmicro_batch_size: 4\nmax_steps: 24\n"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("axl", nargs="?", default=f"{ROOT}/build/bin/axolotl")
    ap.add_argument("--fixtures", default=os.environ.get("AXOLOTL_FIXTURES", f"{ROOT}/../shared/fixtures"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--label", default="")
    ap.add_argument("--append")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "llama-random")
        write_model(model)
        tok = f"{a.fixtures}/tokenizers/lenml-llama2-mistral32k"
        for name in ("tokenizer.json", "tokenizer_config.json"):
            with open(f"{tok}/{name}", "rb") as src, open(f"{model}/{name}", "wb") as dst:
                dst.write(src.read())
        for name, extra in RUNS:
            cfg = os.path.join(tmp, name + ".yml")
            adapter = "" if "adapter:" in extra else "adapter: lora\n"
            with open(cfg, "w") as f:
                f.write(f"base_model: {model}\ndatasets:\n  - path: {a.fixtures}/datasets/alpaca/stanford_alpaca_data_1k.json\n"
                        f"    type: alpaca\n{adapter}lora_r: 16\nlora_alpha: 32\nlora_target_linear: true\n"
                        f"learning_rate: 0.0001\nval_set_size: 0\noutput_dir: {tmp}/out-{name}\n{extra}")
            p = subprocess.run([a.axl, "train", cfg, "--threads", str(a.threads)], capture_output=True, text=True)
            done = re.search(r"^done: (\d+)/\d+ steps \| train_loss ([\d.]+) \| (\d+) tok/s .*peak RSS ([\d.]+) MiB",
                             p.stderr, re.M)
            if p.returncode != 0 or not done:
                sys.exit(f"sft_cli.py: {name} failed ({p.returncode}):\n{p.stderr[-2000:]}")
            emit({"bench": "sft_cli", "run": name, "label": a.label, "model": "llama-512x8-v32000", "data": "alpaca-1k",
                  "threads": a.threads, "steps": int(done.group(1)), "train_loss": float(done.group(2)),
                  "tokens_per_s": int(done.group(3)), "peak_rss_mib": float(done.group(4)),
                  "load_avg_1m": os.getloadavg()[0]}, a.append)


if __name__ == "__main__":
    main()
