#!/usr/bin/env bash
# `make test-peers`: the slow checks against llama.cpp (tests/peers/gguf_llamacpp_check.py,
# tests/peers/gguf_export_llamacpp_check.py).
# llama-cpp-python has no CPU wheel on PyPI, so pip compiles llama.cpp (~11 min on 2 cores); that
# happens here, once, not in scripts/setup-deps.sh, so `make test` never pays for it.
# Usage: test-peers.sh [BUILD_DIR]   (AXL_BIN overrides the binary)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
AXL=${AXL_BIN:-$BUILD/bin/axolotl}
PEER_VENV=.venv-peer
LLAMA_CPP_PIN=0.3.36
# Portable CPU build: no -march=native (the wheel may be reused on another machine), no BLAS (the
# check compares against ggml's own kernels), no CUDA, none of llama.cpp's tests and examples.
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_BLAS=OFF -DGGML_CUDA=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"

PY=$PEER_VENV/bin/python
if [ ! -x "$PY" ]; then echo "test-peers: no peer venv (run scripts/setup-deps.sh)" >&2; exit 1; fi
if [ ! -x "$AXL" ]; then echo "test-peers: $AXL not built (run make build)" >&2; exit 1; fi

have=$("$PY" -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))' 2>/dev/null || true)
if [ "$have" != "$LLAMA_CPP_PIN" ]; then
  echo "test-peers: installing llama-cpp-python==$LLAMA_CPP_PIN (compiles llama.cpp)"
  t0=$(date +%s)
  CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
    nice -n 19 "$PEER_VENV/bin/pip" install -q --disable-pip-version-check "llama-cpp-python==$LLAMA_CPP_PIN"
  echo "test-peers: llama-cpp-python installed in $(( $(date +%s) - t0 ))s"
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/axl-test-peers.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
"$PY" tests/peers/gguf_llamacpp_check.py "$AXL" "$scratch"
# Our GGUF export (stories260K f32/f16/bf16/q8_0/q4_0, a trained LoRA merged and as an adapter GGUF).
"$PY" tests/peers/gguf_export_llamacpp_check.py "$AXL" "$scratch/export"
