#!/usr/bin/env bash
# Run HERE (this machine has the network): gathers what the lent GPU machine lacks into
# .gpu-carry/ (git-ignored) for the device tool's `carry`: the Debian -dev packages the build
# needs (headers and CMake configs only; extracted under /tmp there, never onto /) and the
# fixtures the GPU tests read (../shared does not travel).
set -euo pipefail
cd "$(dirname "$0")/.."
C=.gpu-carry
FIX=${AXOLOTL_FIXTURES:-../shared/fixtures}
rm -rf "$C"; mkdir -p "$C/debs" "$C/fixtures/golden"
(cd "$C/debs" && apt-get download nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev >/dev/null)
cp -r "$FIX/hf-tiny" "$C/fixtures/"
rm -rf "$C/fixtures/hf-tiny/LlamaForCausalLM/methods"
cp -r "$FIX/llama2c-stories260K" "$C/fixtures/"
cp "$FIX/golden/stories260K_greedy_256.json" "$C/fixtures/golden/"
du -sh "$C"
echo "now: run(command='scripts/gpu-suite.sh build', carry=['.gpu-carry'])"
