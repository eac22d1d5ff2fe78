#!/usr/bin/env bash
# References for tests/quant: bitsandbytes' CPU quantisation of fixed tensors (codes, absmax,
# nested state; NF4/FP4, several blocksizes, with/without double quantisation; LLM.int8),
# the hf-tiny Llama quantised by transformers (NF4+double quant, FP4) with its logits, and
# `axolotl quantize`'s checkpoint of the same model loaded back by transformers (logits).
# Usage: refs-quant.sh OUT_DIR AXL_BIN FIXTURES_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$1/quant
AXL=$2
FIX=$3
rm -rf "$OUT"
mkdir -p "$OUT"
"$AXL" quantize --model "$FIX/hf-tiny/LlamaForCausalLM" --out "$OUT/ours-nf4" >/dev/null
.venv-peer/bin/python tests/peers/quant_reference.py "$FIX" "$OUT" "$OUT/ours-nf4"
