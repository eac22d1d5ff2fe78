#!/usr/bin/env bash
# References for tests/train: transformers' and Axolotl's LR schedules, torch.optim steps, and
# one full fine-tuning step of the hf-tiny Llama. Usage: refs-train.sh OUT_DIR AXL_BIN FIXTURES_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$1/train
rm -rf "$OUT"
mkdir -p "$OUT"
.venv-peer/bin/python tests/peers/train_schedules.py "$OUT"
.venv-peer/bin/python tests/peers/train_optimizers.py "$OUT"
.venv-peer/bin/python tests/peers/train_step.py "$OUT" "$3"
