#!/usr/bin/env bash
# References for tests/core/test_gguf_export.cpp: gguf-py's quantisers on fixed tensors, the GGUF
# tensor bytes convert_hf_to_gguf's conventions give stories260K, and gguf.GGUFReader's view of
# our export. Usage: refs-gguf-export.sh OUT_DIR AXL_BIN FIXTURES_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$1/gguf-export
rm -rf "$OUT"
mkdir -p "$OUT"
.venv-peer/bin/python tests/peers/gguf_export_reference.py "$OUT" "$2" "$3"
