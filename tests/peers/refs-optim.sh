#!/usr/bin/env bash
# References for tests/train/test_optim_bnb.cpp: bitsandbytes' AdamW / Lion (8-bit, 32-bit,
# paged; run on CPU) and transformers' Adafactor on fixed tensors.
# Usage: refs-optim.sh OUT_DIR AXL_BIN FIXTURES_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$1/optim
rm -rf "$OUT"
mkdir -p "$OUT"
.venv-peer/bin/python tests/peers/optim_bnb.py "$OUT"
