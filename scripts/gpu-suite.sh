#!/usr/bin/env bash
# Run ON the lent GPU machine (device tool), from the repo root, with .gpu-carry carried
# (scripts/gpu-deps.sh makes it here). Usage: scripts/gpu-suite.sh STAGE [STAGE...], stages run
# in order, each well under 8 minutes on an H100:
#   build        unpack the carried Debian packages under /tmp, configure + build (sm_90) against
#                the machine's own torch 2.11 (CUDA 13): the library, the GPU test binaries and
#                the benches
#   test         every GPU test: test_kernels (all; Gpu* need the device), test_models *Cuda*,
#                test_quant *Cuda*, test_train Gpu* (fused functions + offloaded checkpoints)
#   bench-1b     Llama-3.2-1B architecture, random init, bf16, LoRA r16 on all 7 projections,
#                seq 2048 x micro-batch 4 packed, 30 steps: ours (kernels off; all kernels on;
#                plus the fused autograd functions; plus offloaded checkpoints), then
#                transformers + PEFT (SDPA), then the ratios and goals per row of ours
#   bench-8b     Llama-3-8B architecture in 4-bit NF4 (QLoRA), gradient checkpointing on both
#                sides, ours with the fused functions and GPU_8B_KERNELS (default all; "" for
#                none); the HF row needs bitsandbytes (carried in .gpu-carry/site when it fit)
#   bench-decode decode tokens/s (stories260K and a random 100M Llama; float32 and bf16)
# Resumable: build-gpu/ stays on a warm machine, and every stage after `build` builds first if
# build-gpu/ is missing (a fresh machine). Output under $OUT (at most 8 files come back):
# build.log, env.txt, test.log, test-summary.json, bench.jsonl (one JSON line per run, each
# with the commit and GPU), bench.log. Commit bench.jsonl under bench/results/ (gpu-*.jsonl).
# A dry run of the build logic on a machine without a GPU (a partial build, one folder):
#   OUT=/tmp/dry GPU_BUILD_DIR=build-gpu-dry GPU_TARGETS=axl_config scripts/gpu-suite.sh build
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n 2,22p "$0"; exit 2; }
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
CARRY=$PWD/.gpu-carry
DEPS=/tmp/axl-deps
LIB=$DEPS/usr/lib/x86_64-linux-gnu
B=${GPU_BUILD_DIR:-build-gpu}
export AXOLOTL_FIXTURES=$CARRY/fixtures
[ -d /usr/local/cuda/bin ] && export PATH=/usr/local/cuda/bin:$PATH
COMMIT=$(cat "$CARRY/commit.txt" 2>/dev/null || echo "unknown")
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || echo "none")

unpack_deps() {
  [ -d "$DEPS/usr" ] && return
  mkdir -p "$DEPS"
  tar -C "$DEPS" -xJf "$CARRY/deps.tar.xz" 2>/dev/null ||
    python3 -c 'import sys,tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$CARRY/deps.tar.xz" "$DEPS"
  # pkgconf from the carried packages, looking only at the carried .pc files, paths under $DEPS.
  cat > "$DEPS/pkg-config" <<W
#!/bin/sh
PKG_CONFIG_LIBDIR=$LIB/pkgconfig:$DEPS/usr/share/pkgconfig PKG_CONFIG_SYSROOT_DIR=$DEPS \\
LD_LIBRARY_PATH=$LIB exec $DEPS/usr/bin/pkgconf "\$@"
W
  chmod +x "$DEPS/pkg-config"
}

# Our binaries find the carried runtime libraries (yaml-cpp, sentencepiece, ICU, PCRE2,
# libcrypto) here; Python runs without them.
ours() { LD_LIBRARY_PATH=$LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$@"; }

# Adds the commit, the GPU and the stage to each JSON line on stdin.
tag() {
  python3 -c '
import json, sys
commit, gpu, stage = sys.argv[1:4]
for line in sys.stdin:
    try:
        row = json.loads(line)
    except ValueError:
        sys.stderr.write(line); continue
    row.update(commit=commit, gpu=gpu, stage=stage)
    print(json.dumps(row), flush=True)' "$COMMIT" "$GPU" "$1"
}

stage_build() {
  unpack_deps
  local torch_dir
  torch_dir=$(python3 -c 'import torch,os;print(os.path.join(torch.utils.cmake_prefix_path,"Torch"))')
  local rc=0
  {
    { [ -f $B/build.ninja ] || cmake -S . -B $B -G Ninja -DCMAKE_BUILD_TYPE=Release -DTorch_DIR="$torch_dir" \
      -DCMAKE_PREFIX_PATH="$DEPS/usr" -DOPENSSL_ROOT_DIR="$DEPS/usr" -DPKG_CONFIG_EXECUTABLE="$DEPS/pkg-config" \
      -DCMAKE_CXX_FLAGS="-isystem $DEPS/usr/include -isystem $DEPS/usr/include/x86_64-linux-gnu" \
      -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$LIB" -DCMAKE_SHARED_LINKER_FLAGS="-Wl,-rpath-link,$LIB" \
      -DAXL_BUILD_BENCH=ON ${GPU_CMAKE_ARGS:-}; } &&
    ninja -C $B -j "$(nproc)" ${GPU_TARGETS:-axl_torch axolotl test_kernels test_models test_quant test_train bench_gpu_train bench_decode}
  } >>"$OUT/build.log" 2>&1 || rc=$?
  grep -E "error|FAILED|warning: " "$OUT/build.log" | tail -30 || true
  tail -2 "$OUT/build.log"
  [ $rc -eq 0 ] || { echo "build failed ($rc): see build.log" >&2; return $rc; }
  [ -n "${GPU_TARGETS:-}" ] && return 0  # a partial build (a dry run here)
  test -x $B/bin/test_kernels
  {
    echo "commit: $COMMIT"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
    python3 -c 'import torch, transformers, peft; print("torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__, "peft", peft.__version__)'
  } | tee "$OUT/env.txt"
}

ensure_built() { [ -x $B/bin/bench_gpu_train ] && unpack_deps || stage_build; }

stage_test() {
  ensure_built
  local j=/tmp/gpu-tests; mkdir -p $j
  set +e
  {
    ours ./$B/bin/test_kernels --gtest_output=json:$j/kernels.json
    ours ./$B/bin/test_models --gtest_filter='*Cuda*' --gtest_output=json:$j/models.json
    ours ./$B/bin/test_quant --gtest_filter='*Cuda*' --gtest_output=json:$j/quant.json
    ours ./$B/bin/test_train --gtest_filter='Gpu*' --gtest_output=json:$j/train.json
  } > "$OUT/test.log" 2>&1
  set -e
  python3 - "$j" "$COMMIT" "$GPU" <<'PY' | tee "$OUT/test-summary.json"
import json, os, sys
d, commit, gpu = sys.argv[1:4]
summary = {"commit": commit, "gpu": gpu, "binaries": {}}
for name in ("kernels", "models", "quant", "train"):
    p = os.path.join(d, name + ".json")
    if not os.path.exists(p):
        summary["binaries"][name] = {"error": "no gtest output (crashed?)"}; continue
    r = json.load(open(p))
    cases = [t for s in r["testsuites"] for t in s["testsuite"]]
    skipped = [t for t in cases if t.get("result") == "SKIPPED"]
    failed = [f'{t["classname"]}.{t["name"]}' for t in cases if t.get("failures")]
    summary["binaries"][name] = {"tests": len(cases), "failed": failed, "skipped": len(skipped),
                                 "passed": len(cases) - len(failed) - len(skipped)}
print(json.dumps(summary, indent=1))
PY
}

# Ratios and the issue's goals for the rows of one stage in bench.jsonl.
goals() {
  python3 - "$OUT/bench.jsonl" "$1" <<'PY' | tee -a "$OUT/bench.jsonl"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rows = [r for r in rows if r.get("stage") == sys.argv[2] and r.get("bench") == "gpu_train"]
hf = next((r for r in rows if r["side"] != "axolotl-cpp"), {})
for ours in (r for r in rows if r["side"] == "axolotl-cpp"):
    out = {"bench": "gpu_train_goals", "stage": sys.argv[2], "commit": ours.get("commit"), "gpu": ours.get("gpu"),
           "ours": {k: ours.get(k) for k in ("kernels", "fused", "gradient_checkpointing")},
           "mfu": ours.get("mfu"), "hf": "ok" if "tokens_per_s" in hf else (hf.get("missing") or hf.get("error") or "none")}
    if "tokens_per_s" in ours and "tokens_per_s" in hf:
        out["tokens_per_s_ratio"] = ours["tokens_per_s"] / hf["tokens_per_s"]
        out["peak_memory_ratio"] = ours["peak_allocated_gib"] / hf["peak_allocated_gib"]
        out["goal_2x_speed"] = out["tokens_per_s_ratio"] >= 2
        out["goal_40pct_memory"] = out["peak_memory_ratio"] <= 0.4
    if sys.argv[2] == "bench-1b" and "mfu" in ours:
        out["goal_50pct_mfu"] = ours["mfu"] >= 0.5
    print(json.dumps(out))
PY
}

stage_bench_1b() {
  ensure_built
  local c=bench/gpu_configs/llama-3.2-1b.json n=llama-3.2-1b-lora-r16
  {
    ours timeout 100 ./$B/bin/bench_gpu_train --config $c --name $n || true
    ours timeout 100 ./$B/bin/bench_gpu_train --config $c --name $n --kernels all || true
    ours timeout 100 ./$B/bin/bench_gpu_train --config $c --name $n --kernels all --fused || true
    ours timeout 100 ./$B/bin/bench_gpu_train --config $c --name $n --kernels all --fused --offload || true
    timeout 180 python3 bench/gpu_train_hf.py --config $c --name $n || true
  } 2>>"$OUT/bench.log" | tag bench-1b | tee -a "$OUT/bench.jsonl"
  goals bench-1b
}

stage_bench_8b() {
  ensure_built
  local c=bench/gpu_configs/llama-3-8b.json n=llama-3-8b-qlora-r16
  {
    # The trainer's QLoRA default (the fused LoRA functions on); our kernels per GPU_8B_KERNELS.
    ours timeout 280 ./$B/bin/bench_gpu_train --config $c --name $n --bits 4 --gradient-checkpointing --fused \
      --kernels "${GPU_8B_KERNELS:-all}" || true
    PYTHONPATH=$CARRY/site${PYTHONPATH:+:$PYTHONPATH} timeout 280 python3 bench/gpu_train_hf.py --config $c --name $n \
      --bits 4 --gradient-checkpointing || true
  } 2>>"$OUT/bench.log" | tag bench-8b | tee -a "$OUT/bench.jsonl"
  goals bench-8b
}

stage_bench_decode() {
  ensure_built
  local s=/tmp/stories
  ours ./$B/bin/axolotl convert llama2c --checkpoint "$AXOLOTL_FIXTURES/llama2c-stories260K/stories260K.bin" --out $s \
    >>"$OUT/bench.log" 2>&1
  for dt in float32 bfloat16; do
    ours ./$B/bin/bench_decode --device cuda --dtype $dt --model $s --name stories260K --tokens 256
    ours ./$B/bin/bench_decode --device cuda --dtype $dt --tokens 128
  done 2>>"$OUT/bench.log" | tag bench-decode | tee -a "$OUT/bench.jsonl"
}

for stage in "$@"; do
  echo "== $stage ($(date -u +%T))"
  case "$stage" in
    build) stage_build ;;
    test) stage_test ;;
    bench-1b) stage_bench_1b ;;
    bench-8b) stage_bench_8b ;;
    bench-decode) stage_bench_decode ;;
    *) echo "unknown stage $stage (build, test, bench-1b, bench-8b, bench-decode)" >&2; exit 2 ;;
  esac
done
