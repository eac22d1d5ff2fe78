#!/usr/bin/env bash
# References for tests/peft/test_adapter_set.cpp: the live PEFT combines two of the hf-tiny
# Llama's LoRA adapters with add_weighted_adapter (linear, cat, svd) and writes the combined
# adapters and the logits of each (tests/peers/peft_weighted_reference.py).
# Usage: refs-peft-weighted.sh OUT_DIR AXL_BIN FIXTURES_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$1/peft-weighted
FIX=$3
rm -rf "$OUT"
mkdir -p "$OUT"
.venv-peer/bin/python tests/peers/peft_weighted_reference.py "$FIX" "$OUT"
