#!/usr/bin/env bash
# Run HERE (this machine has the network): gathers what the lent GPU machine lacks into
# .gpu-carry/ (git-ignored) for the device tool's `carry`. The GPU machine has PyTorch 2.11
# (CUDA 13), transformers, PEFT, CMake, ninja, nvcc and a host compiler, but none of our Debian
# build dependencies and no network. So this takes:
#   debs/      every -dev package CMake finds (yaml-cpp, sentencepiece, PCRE2, ICU, OpenSSL's
#              libcrypto, nlohmann-json, CLI11, GoogleTest) plus the runtime libraries they link,
#              and pkgconf itself; scripts/gpu-suite.sh unpacks them under /tmp there (never /).
#   fixtures/  what the GPU tests read (../shared does not travel).
#   site/      bitsandbytes (its CUDA 13.0 library only) for the Hugging Face side of the 8B
#              QLoRA row, only if it fits the 64 MiB a device call carries; else none.
# Prints the size; the whole carry plus the working tree must stay under 64 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
C=.gpu-carry
FIX=${AXOLOTL_FIXTURES:-../shared/fixtures}
LIMIT_MB=${GPU_CARRY_LIMIT_MB:-60}
DEBS=(
  libyaml-cpp-dev libyaml-cpp0.7
  libsentencepiece-dev libsentencepiece0
  libsimdjson-dev libsimdjson14
  libpcre2-dev libpcre2-8-0 libpcre2-16-0 libpcre2-32-0 libpcre2-posix3
  libicu-dev libicu72
  libssl-dev libssl3
  nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev
  pkgconf pkgconf-bin libpkgconf3
)
rm -rf "$C"; mkdir -p "$C/debs" "$C/fixtures/golden"
(cd "$C/debs" && apt-get download "${DEBS[@]}" >/dev/null)
# ICU's -dev package ships static archives and tools we never link: drop them to save space.
# (The build links the shared libraries; unpacked .debs are repacked as one tar.)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for f in "$C"/debs/*.deb; do dpkg-deb -x "$f" "$work/root"; done
rm -rf "$work/root/usr/share/doc" "$work/root/usr/share/man" "$work/root/usr/share/lintian" "$work/root/usr/sbin" \
       "$work/root/usr/bin/icu"* "$work/root/usr/lib/x86_64-linux-gnu/icu"
find "$work/root" -name '*.a' ! -name 'libgtest*.a' ! -name 'libgmock*.a' -delete
tar -C "$work/root" -cJf "$C/deps.tar.xz" .
rm -rf "$C/debs"

cp -r "$FIX/hf-tiny" "$C/fixtures/"
rm -rf "$C/fixtures/hf-tiny/"*/methods
cp -r "$FIX/llama2c-stories260K" "$C/fixtures/"
cp "$FIX/golden/stories260K_greedy_256.json" "$C/fixtures/golden/"

# bitsandbytes for the Hugging Face side of the QLoRA row: its wheel bundles a library per CUDA
# version (129 MB unpacked); torch there is cu130, so only libbitsandbytes_cuda130.so travels,
# unpacked into site/ (gpu-suite.sh puts it on PYTHONPATH). Left out if it would not fit.
BNB=${BNB_VERSION:-0.50.2}  # as PEER_PKGS pins it (scripts/setup-deps.sh)
if python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
     --platform manylinux_2_24_x86_64 -d "$work/wheel" "bitsandbytes==$BNB" >/dev/null 2>&1; then
  mkdir -p "$C/site"
  (cd "$C/site" && unzip -q "$work"/wheel/bitsandbytes-*.whl)
  find "$C/site/bitsandbytes" -name 'libbitsandbytes_*' ! -name 'libbitsandbytes_cuda130.so' -delete
  used=$(du -sm "$C" | cut -f1)
  if [ "$used" -gt "$LIMIT_MB" ]; then
    echo "bitsandbytes $BNB does not fit the carry (${used} MiB > ${LIMIT_MB}); the HF QLoRA row will be reported missing"
    rm -rf "$C/site"
  fi
else
  echo "bitsandbytes $BNB not downloadable here; the HF QLoRA row will be reported missing"
fi
# The commit the suite runs on (the GPU machine gets the working tree without .git); local
# changes on top of it are counted so a result from an uncommitted tree says so.
echo "$(git rev-parse HEAD) $(git status --porcelain --untracked-files=no | grep -c .)" > "$C/commit.txt"
du -sh "$C" "$C"/*
echo "working tree: $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1) bytes tracked"
echo "now: run(command='scripts/gpu-suite.sh build test', carry=['.gpu-carry'], timeout_s=560), then bench-1b, bench-8b (docs/cuda.md)"
