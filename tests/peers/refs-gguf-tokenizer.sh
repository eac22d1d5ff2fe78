#!/usr/bin/env bash
# References for tests/core/test_gguf_tokenizer.cpp: our GGUF tokenizer conversion (SmolLM2 gpt2
# BPE; stories260K's tok512 written into a llama-vocab GGUF) encoded by `tokenizers` and by
# transformers' own GGUF loader. Usage: refs-gguf-tokenizer.sh OUT_DIR AXL_BIN FIXTURES_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$1/gguf-tokenizer
rm -rf "$OUT"
mkdir -p "$OUT"
.venv-peer/bin/python tests/peers/gguf_tokenizer_reference.py "$OUT" "$2" "$3"
