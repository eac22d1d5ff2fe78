#!/usr/bin/env bash
# References for tests/tokenizer/test_peer_corpus.cpp: the live `tokenizers` ids of a few MB of
# fixture text for the four fixture tokenizers. Usage: refs-tokenizer.sh OUT_DIR AXL_BIN FIXTURES_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$1/tokenizer
rm -rf "$OUT"
mkdir -p "$OUT"
.venv-peer/bin/python tests/peers/tokenizer_corpus_reference.py "$OUT" "$3"
