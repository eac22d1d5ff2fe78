#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets with clang + ASan/UBSan and runs each for $1
# seconds (default 60) from a seed corpus of real files. Fails on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
B=build-fuzz
if [ ! -f "$B/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B $B -G Ninja -DAXL_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C $B fuzz_safetensors
corpus=$B/corpus-safetensors; mkdir -p "$corpus"
FIX=${AXOLOTL_FIXTURES:-../shared/fixtures}
for f in "$FIX"/hf-tiny/*/model.safetensors "$FIX"/hf-tiny/LlamaForCausalLM/lora/adapter_model.safetensors; do
  [ -f "$f" ] && head -c 4096 "$f" > "$corpus/$(basename "$(dirname "$f")").st"
done
"$B/bin/fuzz_safetensors" "$corpus" -max_total_time="$SECS" -max_len=8192 -print_final_stats=1 2>&1 | tail -15
