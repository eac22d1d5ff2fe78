#!/usr/bin/env bash
# `make bench`: every CPU benchmark, one JSON line each, also appended to
# bench/results/cpu-latest.jsonl (commit it when the numbers are for a closing note).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
FIX=${AXOLOTL_FIXTURES:-../shared/fixtures}
out=bench/results/cpu-latest.jsonl
mkdir -p bench/results; : > "$out"
run() { "$@" | tee -a "$out"; }
# The axolotl binary sets this before it loads libtorch (src/axl/cli/torch_loader.cpp);
# bench programs link libtorch directly, so they get it from here.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
run python3 bench/startup.py "$BUILD/bin/axolotl" "$FIX"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$BUILD/bin/axolotl" convert llama2c --checkpoint "$FIX/llama2c-stories260K/stories260K.bin" --out "$tmp/stories" 2>/dev/null
for t in 1 2; do
  run "$BUILD/bin/bench_decode" --model "$tmp/stories" --name stories260K --threads $t --tokens 256
done
for t in 1 2; do
  run "$BUILD/bin/bench_decode" --threads $t --tokens 64
done
# Tokenizers: ours and the Rust `tokenizers` (peer venv) side by side on Tiny Shakespeare.
if [ -x .venv-peer/bin/python ] && [ -x "$BUILD/bin/bench_tokenizer" ]; then
  run .venv-peer/bin/python bench/tokenizer.py "$BUILD/bin/bench_tokenizer" "$FIX"
fi
# Preprocessing throughput: our preprocess vs the Rust `tokenizers` on the same text, and vs
# Python Axolotl's own preprocess (.venv-axolotl, when installed) with an ids/labels check.
if [ -x .venv-peer/bin/python ]; then
  run .venv-peer/bin/python bench/preprocess_throughput.py "$BUILD/bin/axolotl" "$FIX" \
    --append bench/results/preprocess-throughput-cpu.jsonl
fi
# LoRA training step: ours and transformers + PEFT on the same torch (float32 and bfloat16).
if [ -x .venv-peer/bin/python ] && [ -x "$BUILD/bin/bench_train_step" ]; then
  run .venv-peer/bin/python bench/train_lora.py "$BUILD/bin/bench_train_step" --threads 2
fi
# Unsloth-style functions: step peak memory and tokens/s with each on/off at seq 1024, beside
# transformers + PEFT with and without gradient checkpointing (also bench/results/unsloth-cpu.jsonl).
if [ -x .venv-peer/bin/python ] && [ -x "$BUILD/bin/bench_train_step" ]; then
  run .venv-peer/bin/python bench/unsloth_memory.py "$BUILD/bin/bench_train_step" --threads 2
fi
# Every PEFT method on the LoRA bench's model: fwd+bwd time, trainable values, AdamW state, vs LoRA.
if [ -x "$BUILD/bin/bench_peft_methods" ]; then
  run "$BUILD/bin/bench_peft_methods" --threads 2
fi
# Bytes per quantized parameter of a 4-bit and an 8-bit base (tensor bytes and RSS).
if [ -x "$BUILD/bin/bench_quant_memory" ]; then
  run "$BUILD/bin/bench_quant_memory" 4
  run "$BUILD/bin/bench_quant_memory" 8
fi
