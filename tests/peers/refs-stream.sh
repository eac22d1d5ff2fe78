#!/usr/bin/env bash
# Axolotl 0.19.0's streaming rows (encode_streaming, the pretrain windows) for
# tests/data/test_token_stream.cpp, made by the real Axolotl in .venv-axolotl.
# Args: OUT_DIR AXL_BIN FIXTURES_DIR. Writes OUT_DIR/stream/.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$1
PY=.venv-axolotl/bin/python
if [ ! -x "$PY" ]; then
  echo "refs-stream: no .venv-axolotl (scripts/setup-deps.sh installs it); streaming references not made" >&2
  exit 0
fi
rm -rf "$OUT/stream"
"$PY" -W ignore tests/peers/stream_axolotl.py "$(realpath "$OUT")" "$(realpath "$3")" 2> "$OUT/stream-axolotl.log" ||
  { tail -20 "$OUT/stream-axolotl.log" >&2; exit 1; }
