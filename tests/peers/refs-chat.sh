#!/usr/bin/env bash
# Axolotl's named chat templates rendered by transformers' Jinja environment
# (tests/chat/test_named_templates.cpp compares ours). Args: OUT_DIR AXL_BIN FIXTURES_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$1
FIX=$3
.venv-peer/bin/python tests/peers/chat_axolotl_templates.py "$FIX" "$OUT/chat"
