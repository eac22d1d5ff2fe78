#!/usr/bin/env bash
# References for the new-token tests (tests/tokenizer/test_added_tokens.cpp,
# tests/train/test_new_tokens.cpp): the live tokenizers/transformers encodings after Axolotl's
# add_special_tokens / add_tokens on fixture tokenizers, and a LoRA run of our `axolotl train`
# on stories260K with a new token, loaded back by live PEFT + transformers.
# Usage: refs-resize.sh OUT_DIR AXL_BIN FIXTURES_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$1/resize
AXL=$2
FIX=$3
rm -rf "$OUT"
mkdir -p "$OUT"
"$AXL" convert llama2c --checkpoint "$FIX/llama2c-stories260K/stories260K.bin" \
  --tokenizer "$FIX/llama2c-stories260K/tok512.model" --out "$OUT/base" >/dev/null
.venv-peer/bin/python tests/peers/resize_reference.py prepare "$OUT" "$FIX"
"$AXL" train "$OUT/run.yml" >"$OUT/train.log" 2>&1 || { cat "$OUT/train.log"; exit 1; }
.venv-peer/bin/python tests/peers/resize_reference.py check "$OUT" "$FIX"
