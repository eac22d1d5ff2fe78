#!/usr/bin/env python3
"""LoRA training speed, axolotl-cpp against Hugging Face transformers + PEFT, on the CPU.

A randomly initialised Llama (hidden 512, 8 layers, 8 heads / 4 kv heads, intermediate 1376,
vocab 32000; seeded) is written once with save_pretrained. Then, for each dtype, two child
processes (so each peak RSS is its own) run the same loop on random token batches of 4 x 256:
forward, causal-LM loss, backward, AdamW step, zero grad, with LoRA r 16, alpha 32, dropout 0
on q/k/v/o/gate/up/down:
  ours: bench_train_step (our loader, peft::attach_lora, train::train_step, fused AdamW)
  hf:   AutoModelForCausalLM + peft.get_peft_model + torch.optim.AdamW(fused=True)
Both use the same torch (2.11), the same thread counts (intra-op N, inter-op 1) and the
same dtype. bfloat16: the base weights in bf16 and the LoRA weights in float32 on both sides
(PEFT's autocast_adapter_dtype default; ours keeps A/B in float32 and casts around them).
One JSON line per dtype: tokens/s, median step seconds, peak RSS (VmHWM) and the ratios.

usage: train_lora.py BENCH_TRAIN_STEP_BIN [--threads 2] [--warmup 2] [--steps 5]
                     [--dtypes float32,bfloat16] [--append FILE]
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
BATCH, SEQ = 4, 256


def status_mb(key):
    """A /proc/self/status memory line in MB: VmHWM (peak resident set) or VmRSS (now)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def peak_rss_mb():
    return status_mb("VmHWM")


def write_model(path):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=32000, hidden_size=512, intermediate_size=1376, num_hidden_layers=8,
                      num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=2048,
                      tie_word_embeddings=False)
    LlamaForCausalLM(cfg).save_pretrained(path)


def hf_lora_steps(model, batch, seq, warmup, steps):
    """PEFT LoRA (r 16, alpha 32, dropout 0, TARGETS) on `model`, then warmup + steps AdamW steps on
    random batch x seq tokens; returns the measured steps' wall and CPU seconds, the last loss and
    the trainable parameters."""
    import torch
    from peft import LoraConfig, get_peft_model
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=TARGETS,
                                             task_type="CAUSAL_LM"))
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0, fused=True)
    gen = torch.Generator().manual_seed(1234)
    times, cpu_times, loss = [], [], 0.0
    for s in range(warmup + steps):
        ids = torch.randint(model.config.vocab_size, (batch, seq), generator=gen)
        t0, c0 = time.perf_counter(), time.process_time()
        out = model(input_ids=ids, labels=ids)
        out.loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss = out.loss.item()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if s >= warmup:
            times.append(dt)
            cpu_times.append(dc)
    return times, cpu_times, loss, params


def hf_child(model_dir, dtype, threads, warmup, steps):
    import torch
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype))
    times, cpu_times, loss, params = hf_lora_steps(model, BATCH, SEQ, warmup, steps)
    med = statistics.median(times)
    print(json.dumps({"side": "hf", "dtype": dtype, "threads": threads, "median_step_s": med,
                      "tokens_per_s": BATCH * SEQ / med, "median_step_cpu_s": statistics.median(cpu_times),
                      "loss": loss,
                      "trainable": sum(p.numel() for p in params), "step_times_s": times,
                      "peak_rss_mb": peak_rss_mb()}))


def emit(line, append_path=None):
    """Prints one JSON result line and appends it to append_path when given."""
    print(json.dumps(line), flush=True)
    if append_path:
        with open(append_path, "a") as f:
            f.write(json.dumps(line) + "\n")


def run_child(cmd):
    # Both sides get the same OpenMP wait policy: ACTIVE by default, what `axolotl train` uses
    # (spinning workers; 25-30% faster steps than PASSIVE or libgomp's default on 2 cores).
    # OMP_WAIT_POLICY=PASSIVE in the environment measures the sleeping-worker setting instead.
    env = dict(os.environ, OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "ACTIVE"))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"train_lora.py: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--hf-child":
        _, _, model_dir, dtype, threads, warmup, steps = sys.argv
        hf_child(model_dir, dtype, int(threads), int(warmup), int(steps))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--append", help="also append the JSON lines to this file")
    a = ap.parse_args()
    import peft, torch, transformers
    versions = {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = os.path.join(tmp, "llama-random")
        write_model(model_dir)
        for dtype in a.dtypes.split(","):
            ours = run_child([a.bin, "--model", model_dir, "--dtype", dtype, "--threads", str(a.threads),
                              "--warmup", str(a.warmup), "--steps", str(a.steps)])
            hf = run_child([sys.executable, os.path.abspath(__file__), "--hf-child", model_dir, dtype,
                            str(a.threads), str(a.warmup), str(a.steps)])
            keys = ("tokens_per_s", "median_step_s", "median_step_cpu_s", "peak_rss_mb", "loss", "trainable")
            line = {"bench": "train_lora", "model": "llama-512x8-v32000", "dtype": dtype,
                    "threads": a.threads, "batch": BATCH, "seq": SEQ, "steps": a.steps,
                    "ours": {k: round(ours[k], 4) if isinstance(ours[k], float) else ours[k] for k in keys},
                    "hf": {k: round(hf[k], 4) if isinstance(hf[k], float) else hf[k] for k in keys},
                    "ratio_tokens_per_s": round(ours["tokens_per_s"] / hf["tokens_per_s"], 3),
                    "ratio_cpu_speed": round(hf["median_step_cpu_s"] / ours["median_step_cpu_s"], 3),
                    "ratio_peak_rss": round(ours["peak_rss_mb"] / hf["peak_rss_mb"], 3),
                    "load_avg_1m": os.getloadavg()[0],
                    "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "ACTIVE"),
                    "versions": versions}
            emit(line, a.append)


if __name__ == "__main__":
    main()
