#!/usr/bin/env python3
"""Predicted vs measured peak memory on the CPU (issue 7, item 4): for each config, the CPU
total that `axolotl validate` predicts and the peak resident set (VmHWM, the child's
ru_maxrss) of a short `axolotl train` of the same config. One JSON line per config:
{config, predicted_bytes, measured_peak_rss, ratio, ...}; the goal is |ratio - 1| <= 0.15.

The models: llama2.c's stories260K (converted; full fine-tune) and a random Llama with
~106M parameters (hidden 768, 8 layers, vocab 32000, float32, written once with the peer
venv's torch) with the fixtures' 32k sentencepiece-style tokenizer.json (LoRA and QLoRA with
the default Unsloth-style fused LoRA ops, and once without them); the data: the
fixtures' 1k Stanford Alpaca records, padded to sequence_len so every step has the same shape.
Training runs take 2 optimizer steps: the optimizer states exist from step 1, so step 2's
forward/backward reaches the peak.

Usage: bench/memory_prediction.py [AXL_BIN] [--fixtures DIR] [--work DIR] [--only NAME]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BIG_MODEL = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 32000,
    "hidden_size": 768, "intermediate_size": 2048, "num_hidden_layers": 8,
    "num_attention_heads": 12, "num_key_value_heads": 12, "max_position_embeddings": 2048,
    "rms_norm_eps": 1e-6, "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2,
    "torch_dtype": "float32",
}

COMMON = """datasets:
  - path: {data}
    type: alpaca
val_set_size: 0
seed: 3
pad_to_sequence_len: true
micro_batch_size: {mbs}
gradient_accumulation_steps: 1
max_steps: 2
learning_rate: 0.0001
optimizer: {optimizer}
lr_scheduler: constant
logging_steps: 1
save_strategy: 'no'
output_dir: {out}
"""

LORA = "adapter: lora\nlora_r: 16\nlora_alpha: 16\nlora_dropout: 0.05\nlora_target_linear: true\n"
QLORA = "adapter: qlora\nload_in_4bit: true\nlora_r: 16\nlora_alpha: 16\nlora_dropout: 0.05\nlora_target_linear: true\n"

# name, model (stories | big), extra keys, sequence_len, micro_batch_size, optimizer
CONFIGS = [
    ("stories260K-full", "stories", "", 256, 4, "adamw_torch_fused"),
    ("llama106M-lora-seq512", "big", LORA, 512, 2, "adamw_torch_fused"),
    ("llama106M-lora-seq512-gc", "big", LORA + "gradient_checkpointing: true\n", 512, 2, "adamw_torch_fused"),
    ("llama106M-lora-seq512-unfused", "big",
     LORA + "lora_mlp_kernel: false\nlora_qkv_kernel: false\nlora_o_kernel: false\n", 512, 2, "adamw_torch_fused"),
    ("llama106M-qlora-seq512", "big", QLORA, 512, 2, "adamw_torch_fused"),
    ("llama106M-qlora-seq512-gc", "big", QLORA + "gradient_checkpointing: true\n", 512, 2, "adamw_torch_fused"),
    ("llama106M-full-seq256", "big", "", 256, 1, "adamw_torch_fused"),
]


def make_big_model(path, fixtures):
    if os.path.exists(f"{path}/model.safetensors"):
        return
    os.makedirs(path, exist_ok=True)
    with open(f"{path}/config.json", "w") as f:
        json.dump(BIG_MODEL, f)
    tok = f"{fixtures}/tokenizers/lenml-llama2-mistral32k"
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(f"{tok}/{name}", f"{path}/{name}")
    code = r"""
import json, sys, torch
from safetensors.torch import save_file
c = json.load(open(sys.argv[1] + "/config.json"))
g = torch.Generator().manual_seed(0)
h, f, v, L = c["hidden_size"], c["intermediate_size"], c["vocab_size"], c["num_hidden_layers"]
t = {"model.embed_tokens.weight": torch.randn(v, h, generator=g) * 0.02,
     "lm_head.weight": torch.randn(v, h, generator=g) * 0.02, "model.norm.weight": torch.ones(h)}
for i in range(L):
    p = f"model.layers.{i}."
    for n, shape in (("self_attn.q_proj", (h, h)), ("self_attn.k_proj", (h, h)), ("self_attn.v_proj", (h, h)),
                     ("self_attn.o_proj", (h, h)), ("mlp.gate_proj", (f, h)), ("mlp.up_proj", (f, h)),
                     ("mlp.down_proj", (h, f))):
        t[p + n + ".weight"] = torch.randn(*shape, generator=g) * 0.02
    t[p + "input_layernorm.weight"] = torch.ones(h)
    t[p + "post_attention_layernorm.weight"] = torch.ones(h)
save_file(t, sys.argv[1] + "/model.safetensors", metadata={"format": "pt"})
"""
    subprocess.run([f"{ROOT}/.venv-peer/bin/python", "-c", code, path], check=True)


def predicted_cpu_bytes(axl, cfg):
    out = subprocess.run([axl, "validate", cfg], check=True, capture_output=True, text=True).stdout
    m = re.search(r"^  total\s+([\d.]+) MiB", out, re.M)
    if not m:
        raise SystemExit(f"validate printed no memory total for {cfg}:\n{out}")
    return int(float(m.group(1)) * (1 << 20)), out


def measured_peak_rss(axl, cfg, threads):
    t0 = time.time()
    p = subprocess.Popen([axl, "train", cfg, "--threads", str(threads)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(p.pid, 0)
    err = p.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"train failed for {cfg}:\n{err[-3000:]}")
    return usage.ru_maxrss * 1024, time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("axl", nargs="?", default=f"{ROOT}/build/bin/axolotl")
    ap.add_argument("--fixtures", default=os.environ.get("AXOLOTL_FIXTURES", f"{ROOT}/../shared/fixtures"))
    ap.add_argument("--work", default="/tmp/axl-memory-prediction")
    ap.add_argument("--only", default="")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    stories = f"{a.work}/stories260K"
    if not os.path.exists(f"{stories}/config.json"):
        s = f"{a.fixtures}/llama2c-stories260K"
        subprocess.run([a.axl, "convert", "llama2c", "--checkpoint", f"{s}/stories260K.bin", "--tokenizer",
                        f"{s}/tok512.model", "--out", stories], check=True, capture_output=True)
    big = f"{a.work}/llama106M"
    data = f"{a.fixtures}/datasets/alpaca/stanford_alpaca_data_1k.json"
    for name, model, extra, seq, mbs, optimizer in CONFIGS:
        if a.only and a.only not in name:
            continue
        if model == "big":
            make_big_model(big, a.fixtures)
        cfg = f"{a.work}/{name}.yml"
        with open(cfg, "w") as f:
            f.write(f"base_model: {stories if model == 'stories' else big}\nsequence_len: {seq}\n" + extra +
                    COMMON.format(data=data, mbs=mbs, optimizer=optimizer, out=f"{a.work}/out-{name}"))
        predicted, _ = predicted_cpu_bytes(a.axl, cfg)
        measured, wall = measured_peak_rss(a.axl, cfg, a.threads)
        print(json.dumps({"config": name, "predicted_bytes": predicted, "measured_peak_rss": measured,
                          "ratio": round(predicted / measured, 4), "sequence_len": seq, "micro_batch_size": mbs,
                          "threads": a.threads, "train_wall_s": round(wall, 1)}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
