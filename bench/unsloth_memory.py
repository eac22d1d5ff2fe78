#!/usr/bin/env python3
"""Unsloth-style functions on the CPU: peak memory and speed of a LoRA training step with each
one on and off, beside Hugging Face transformers + PEFT with and without gradient checkpointing.

The training issue's benchmark model (bench/train_lora.py: random Llama, hidden 512, 8 layers,
8 heads / 4 kv, intermediate 1376, vocab 32000; LoRA r 16, alpha 32, dropout 0 on the 7
projections) at micro-batch 1 x seq 1024, float32. Each setting runs in its own process
(peak RSS is per process):
  ours: bench_train_step --track-memory with
    plain        plain autograd, full logits then the loss, no checkpointing
    +lora        fused LoRA MLP / QKV / O (manual backward)
    +rope        in-place RoPE
    +rms         the RMSNorm function
    +ce          chunked linear + cross-entropy
    +ckpt        per-layer gradient checkpointing (alone)
    all-no-ckpt  every function, no checkpointing
    all          every function + checkpointing
  hf: AutoModelForCausalLM + get_peft_model, gradient checkpointing off and on
    (use_reentrant False, with enable_input_require_grads as HF needs for LoRA).
Memory: step_peak_tensor_mib (ours, a counting CPU allocator: the step's peak of live tensors
beyond model + adapter + optimizer state) and peak_rss_mb (VmHWM) on both sides, plus
rss_step_mb = VmHWM - RSS before the first step on both sides.
One JSON line per setting, then a summary line with the issue's goals.

usage: unsloth_memory.py BENCH_TRAIN_STEP_BIN [--threads 2] [--warmup 1] [--steps 3]
                         [--seq 1024] [--batch 1] [--append FILE]
"""
import argparse, json, os, statistics, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_lora import hf_lora_steps, peak_rss_mb, run_child, status_mb, write_model  # noqa: E402

OURS = [
    ("plain", ["--fused", "none", "--loss", "plain", "--checkpointing", "off"]),
    ("+lora", ["--fused", "mlp,qkv,o", "--loss", "plain", "--checkpointing", "off"]),
    ("+rope", ["--fused", "rope", "--loss", "plain", "--checkpointing", "off"]),
    ("+rms", ["--fused", "rms", "--loss", "plain", "--checkpointing", "off"]),
    ("+ce", ["--fused", "none", "--loss", "chunked", "--checkpointing", "off"]),
    ("+ckpt", ["--fused", "none", "--loss", "plain", "--checkpointing", "layer"]),
    ("all-no-ckpt", ["--fused", "all", "--loss", "chunked", "--checkpointing", "off"]),
    ("all", ["--fused", "all", "--loss", "chunked", "--checkpointing", "layer"]),
]


def hf_child(model_dir, threads, warmup, steps, batch, seq, checkpointing):
    import torch
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    if checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    rss_before = status_mb("VmRSS")
    times, cpu_times, _, _ = hf_lora_steps(model, batch, seq, warmup, steps)
    med = statistics.median(times)
    print(json.dumps({"side": "hf", "median_step_s": med, "tokens_per_s": batch * seq / med,
                      "median_step_cpu_s": statistics.median(cpu_times),
                      "peak_rss_mb": peak_rss_mb(), "rss_after_load_mb": rss_before}))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--hf-child":
        _, _, model_dir, threads, warmup, steps, batch, seq, ckpt = sys.argv
        hf_child(model_dir, int(threads), int(warmup), int(steps), int(batch), int(seq), ckpt == "1")
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--append", help="also append the JSON lines to this file")
    a = ap.parse_args()
    # Sleeping OpenMP workers: CPU seconds then count work, not spinning, so the ratios hold on
    # a shared machine where wall time does not.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import peft, torch, transformers
    versions = {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}
    lines = []

    def emit(line):
        line.update({"bench": "unsloth_memory", "model": "llama-512x8-v32000", "dtype": "float32",
                     "threads": a.threads, "batch": a.batch, "seq": a.seq, "steps": a.steps,
                     "load_avg_1m": os.getloadavg()[0], "versions": versions})
        lines.append(line)
        print(json.dumps(line), flush=True)
        if a.append:
            with open(a.append, "a") as f:
                f.write(json.dumps(line) + "\n")

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = os.path.join(tmp, "llama-random")
        write_model(model_dir)
        common = ["--model", model_dir, "--dtype", "float32", "--threads", str(a.threads), "--warmup", str(a.warmup),
                  "--steps", str(a.steps), "--batch", str(a.batch), "--seq", str(a.seq), "--track-memory"]
        ours = {}
        for name, flags in OURS:
            r = run_child([a.bin] + common + flags)
            ours[name] = r
            emit({"side": "axolotl-cpp", "setting": name, "tokens_per_s": round(r["tokens_per_s"], 1),
                  "median_step_s": round(r["median_step_s"], 3), "median_step_cpu_s": round(r["median_step_cpu_s"], 3),
                  "step_peak_tensor_mib": round(r["step_peak_tensor_mib"], 1),
                  "peak_rss_mb": round(r["peak_rss_mb"], 1),
                  "rss_step_mb": round(r["peak_rss_mb"] - r["rss_after_load_mb"], 1), "loss": r["loss"]})
        hf = {}
        for ckpt in (0, 1):
            r = run_child([sys.executable, os.path.abspath(__file__), "--hf-child", model_dir, str(a.threads),
                           str(a.warmup), str(a.steps), str(a.batch), str(a.seq), str(ckpt)])
            hf[ckpt] = r
            emit({"side": "hf", "setting": "gradient_checkpointing" if ckpt else "plain",
                  "tokens_per_s": round(r["tokens_per_s"], 1), "median_step_s": round(r["median_step_s"], 3),
                  "median_step_cpu_s": round(r["median_step_cpu_s"], 3), "peak_rss_mb": round(r["peak_rss_mb"], 1),
                  "rss_step_mb": round(r["peak_rss_mb"] - r["rss_after_load_mb"], 1)})
    plain, all_on, no_ckpt = ours["plain"], ours["all"], ours["all-no-ckpt"]
    act_cut = 1 - all_on["step_peak_tensor_mib"] / plain["step_peak_tensor_mib"]

    def ratio(a_, b_, key):
        return round(a_[key] / b_[key], 3)
    # Goals on CPU seconds (the work; wall time on a shared 2-core machine is noise); wall too.
    emit({"side": "summary",
          "activation_memory_cut": round(act_cut, 3),
          "goal_activation_cut_ge_0.60": act_cut >= 0.60,
          "cpu_time_ratio_all_vs_plain": ratio(all_on, plain, "median_step_cpu_s"),
          "wall_ratio_all_vs_plain": ratio(all_on, plain, "median_step_s"),
          "goal_ratio_le_1.45": ratio(all_on, plain, "median_step_cpu_s") <= 1.45,
          "cpu_time_ratio_all_no_ckpt_vs_plain": ratio(no_ckpt, plain, "median_step_cpu_s"),
          "wall_ratio_all_no_ckpt_vs_plain": ratio(no_ckpt, plain, "median_step_s"),
          "goal_no_ckpt_not_slower": ratio(no_ckpt, plain, "median_step_cpu_s") <= 1.0,
          "peak_rss_all_vs_hf_ckpt": ratio(all_on, hf[1], "peak_rss_mb"),
          "goal_peak_below_hf_ckpt": all_on["peak_rss_mb"] < hf[1]["peak_rss_mb"],
          "omp_wait_policy": os.environ["OMP_WAIT_POLICY"]})

if __name__ == "__main__":
    main()
