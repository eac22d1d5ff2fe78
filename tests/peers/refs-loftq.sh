#!/usr/bin/env bash
# References for tests/quant's LoftQ: PEFT 0.19.1's loftq_init on fixed CPU weights (NF4 and
# int8 through bitsandbytes' CPU quantiser), with its dequantised base and factors.
# Usage: refs-loftq.sh OUT_DIR AXL_BIN FIXTURES_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$1/loftq
rm -rf "$OUT"
mkdir -p "$OUT"
.venv-peer/bin/python tests/peers/loftq_reference.py "$OUT" >/dev/null
