#!/usr/bin/env bash
# References for tests/peft/test_lora_peer.cpp: our stories260K conversion gets a LoRA made and
# "trained" by our code (peft_make_adapter, built beside the axolotl binary) and merged by
# `axolotl merge-lora`; the live PEFT + transformers then load both and write their logits.
# Usage: refs-peft.sh OUT_DIR AXL_BIN FIXTURES_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$1/peft
AXL=$2
FIX=$3
rm -rf "$OUT"
mkdir -p "$OUT"
"$AXL" convert llama2c --checkpoint "$FIX/llama2c-stories260K/stories260K.bin" \
  --tokenizer "$FIX/llama2c-stories260K/tok512.model" --out "$OUT/base" >/dev/null
"$(dirname "$AXL")/peft_make_adapter" "$OUT/base" "$OUT/adapter"
"$AXL" merge-lora --model "$OUT/base" --adapter "$OUT/adapter" --out "$OUT/merged"
.venv-peer/bin/python tests/peers/peft_reference.py "$OUT"
