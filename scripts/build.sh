#!/usr/bin/env bash
# Configure (once) and build with Ninja and ccache.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release ${CMAKE_ARGS:-} >"$BUILD.configure.log" 2>&1 \
    || { cat "$BUILD.configure.log"; exit 1; }
fi
ninja -C "$BUILD" -j "${JOBS:-$(nproc)}"
