#!/usr/bin/env bash
# References for tests/peft/test_methods_adalora.cpp: PEFT's own AdaLoRA rank allocator on a
# tiny seeded case (inputs and its masks, step by step).
# Usage: refs-adalora.sh OUT_DIR AXL_BIN FIXTURES_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$1/adalora
rm -rf "$OUT"
mkdir -p "$OUT"
.venv-peer/bin/python tests/peers/adalora_reference.py "$OUT"
