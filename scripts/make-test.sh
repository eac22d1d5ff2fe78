#!/usr/bin/env bash
# `make test`: install, build, make the peer references, run every test; print the time of
# each phase against the CI budget (installs <= 15 min, build <= 20, tests <= 25).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
now() { date +%s; }
t0=$(now); ./scripts/setup-deps.sh; t1=$(now)
./scripts/build.sh "$BUILD"; t2=$(now)
AXL_BIN=$BUILD/bin/axolotl ./scripts/make-peer-refs.sh "$BUILD/peer-cache"
export AXL_PEER_FIXTURES=$PWD/$BUILD/peer-cache
rc=0
ctest --test-dir "$BUILD" --output-on-failure -j 2 || rc=$?
t3=$(now)
log=$BUILD/Testing/Temporary/LastTest.log
skips=$(grep -cE "^\[  SKIPPED \] .*ms\)$" "$log" || true)
gpu_skips=$(grep -cE "^\[  SKIPPED \] .*(Cuda|Gpu).*ms\)$" "$log" || true)
fmt() { printf "%dm%02ds" $(( $1 / 60 )) $(( $1 % 60 )); }
echo "== budget: installs $(fmt $((t1-t0))) (<= 15m), build $(fmt $((t2-t1))) (<= 20m), tests $(fmt $((t3-t2))) (<= 25m); skipped tests: $skips ($gpu_skips need a GPU)"
exit $rc
