#!/usr/bin/env bash
# CLI integration: exit codes, one-line errors, forward/generate/convert end to end.
set -uo pipefail
AXL=${1:?usage: test_cli.sh path/to/axolotl}
FIX=${AXOLOTL_FIXTURES:-}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
fails=0; skipped=0
pass() { echo "[  PASSED  ] $1"; }
fail() { echo "[  FAILED  ] $1: $2"; fails=$((fails+1)); }
skip() {
  if [ "${AXOLOTL_REQUIRE_FIXTURES:-0}" = 1 ]; then fail "$1" "fixture missing"; else echo "[  SKIPPED ] $1"; skipped=$((skipped+1)); fi
}

# --version / --help work and exit 0
out=$("$AXL" --version) && [[ "$out" == axolotl-cpp* ]] && pass version || fail version "$out"
"$AXL" --help | grep -q forward && pass help || fail help "no forward in --help"

# user errors: one line on stderr, exit 2
check_user_error() {  # name, expected substring, command...
  local name=$1 want=$2; shift 2
  local err rc
  err=$("$@" 2>&1 >/dev/null); rc=$?
  local lines; lines=$(printf '%s' "$err" | wc -l)
  if [ $rc -eq 2 ] && [ "$lines" -le 0 ] && [[ "$err" == *"$want"* ]]; then pass "$name"; else fail "$name" "rc=$rc err=$err"; fi
}
check_user_error unknown-subcommand "error" "$AXL" frobnicate
check_user_error missing-model "config.json" "$AXL" generate --model "$TMP/nope" --prompt-ids 1
check_user_error bad-device "unknown device" "$AXL" generate --model "$TMP/nope" --prompt-ids 1 --device tpu
check_user_error bad-llama2c "cannot open" "$AXL" convert llama2c --checkpoint "$TMP/none.bin" --out "$TMP/x"

if [ -n "$FIX" ] && [ -d "$FIX/llama2c-stories260K" ]; then
  S="$FIX/llama2c-stories260K"
  "$AXL" convert llama2c --checkpoint "$S/stories260K.bin" --tokenizer "$S/tok512.model" --out "$TMP/stories" 2>/dev/null \
    && [ -f "$TMP/stories/config.json" ] && [ -f "$TMP/stories/tokenizer.model" ] && pass convert-llama2c || fail convert-llama2c "no output"
  ids=$("$AXL" generate --model "$TMP/stories" --prompt-ids 1 --max-new-tokens 256 --output-ids --ignore-eos 2>/dev/null)
  want=$(python3 -c "import json;print(' '.join(map(str,json.load(open('$FIX/golden/stories260K_greedy_256.json'))['generated_ids'])))")
  [ "$ids" = "$want" ] && pass generate-golden || fail generate-golden "got: ${ids:0:80}"
  check_user_error bad-prompt-id "outside the vocabulary" "$AXL" generate --model "$TMP/stories" --prompt-ids "1 999"
  check_user_error bad-prompt-text "not an integer" "$AXL" generate --model "$TMP/stories" --prompt-ids "1 x"
else
  skip convert-llama2c; skip generate-golden
fi

if [ -n "$FIX" ] && [ -d "$FIX/hf-tiny/LlamaForCausalLM" ]; then
  M="$FIX/hf-tiny/LlamaForCausalLM"
  if "$AXL" forward --model "$M" --input "$M/reference.safetensors" --out "$TMP/f.safetensors" --hidden-states --labels-key pad_labels --mask-key pad_attention_mask 2>/dev/null; then
    pass forward-runs
  else
    fail forward-runs "exit $?"
  fi
  check_user_error forward-bad-key "no tensor named 'nope'" "$AXL" forward --model "$M" --input "$M/reference.safetensors" --out "$TMP/g.safetensors" --mask-key nope
  check_user_error forward-not-safetensors "invalid safetensors" "$AXL" forward --model "$M" --input "$M/config.json" --out "$TMP/g.safetensors"
else
  skip forward-runs
fi

echo "cli: $fails failed, $skipped skipped"
[ $fails -eq 0 ]
