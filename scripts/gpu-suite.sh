#!/usr/bin/env bash
# Run ON the lent GPU machine (device tool), from the repo root, with .gpu-carry carried
# (scripts/gpu-deps.sh makes it here). Stages, each well under the 10-minute call limit and
# resumable (build-gpu/ stays on a warm machine between calls):
#   build   configure + build against the machine's own torch 2.11 (CUDA), sm_90
#   test    the CUDA tests and the CPU parity tests, log + JSON summary to $OUT
#   bench   decode tokens/s on cuda (float32, bfloat16), JSON lines to $OUT
# Commit what comes back under bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
STAGE=${1:?usage: gpu-suite.sh build|test|bench}
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
DEPS=/tmp/axl-deps
if [ ! -d "$DEPS/usr" ]; then
  for f in .gpu-carry/debs/*.deb; do dpkg -x "$f" "$DEPS"; done
fi
export CMAKE_PREFIX_PATH="$DEPS/usr:${CMAKE_PREFIX_PATH:-}"
export AXOLOTL_FIXTURES=$PWD/.gpu-carry/fixtures
TORCH_DIR=$(python3 -c 'import torch,os;print(os.path.join(torch.utils.cmake_prefix_path,"Torch"))')
B=build-gpu
case "$STAGE" in
  build)
    [ -f $B/build.ninja ] || cmake -S . -B $B -G Ninja -DCMAKE_BUILD_TYPE=Release -DTorch_DIR="$TORCH_DIR" \
      -DAXL_BUILD_BENCH=ON 2>&1 | tail -20
    ninja -C $B -j 16 2>&1 | tail -20
    nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$OUT/gpu.txt"
    ;;
  test)
    set +e
    ./$B/bin/test_models --gtest_filter='*Cuda*:*HfTinyParity*:Generation*' \
      --gtest_output=json:"$OUT/gpu-test.json" 2>&1 | tee "$OUT/gpu-test.log" | tail -40
    ./$B/bin/test_kernels --gtest_output=json:"$OUT/gpu-kernels.json" 2>&1 | tail -5
    ;;
  bench)
    S=/tmp/stories; ./$B/bin/axolotl convert llama2c --checkpoint "$AXOLOTL_FIXTURES/llama2c-stories260K/stories260K.bin" --out $S
    for dt in float32 bfloat16; do
      ./$B/bin/bench_decode --device cuda --dtype $dt --model $S --name stories260K --tokens 256
      ./$B/bin/bench_decode --device cuda --dtype $dt --tokens 128
    done | tee "$OUT/gpu-bench.jsonl"
    ;;
  *) echo "unknown stage $STAGE" >&2; exit 2 ;;
esac
