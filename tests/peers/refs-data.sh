#!/usr/bin/env bash
# Axolotl 0.19.0's own input_ids/labels for tests/data/test_axolotl_parity.cpp, made by the real
# Axolotl in its own venv (.venv-axolotl, installed by scripts/setup-deps.sh).
# Args: OUT_DIR AXL_BIN FIXTURES_DIR. Writes OUT_DIR/data/.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$1
FIX=$3
PY=.venv-axolotl/bin/python
if [ ! -x "$PY" ]; then
  echo "refs-data: no .venv-axolotl (scripts/setup-deps.sh installs it); data parity references not made" >&2
  exit 0
fi
"$PY" -W ignore tests/peers/data_axolotl.py "$(realpath "$OUT")" "$(realpath "$FIX")" 2> "$OUT/data-axolotl.log" ||
  { tail -20 "$OUT/data-axolotl.log" >&2; exit 1; }
