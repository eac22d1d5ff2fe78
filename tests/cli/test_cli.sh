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

# validate: real Axolotl configs with local model/dataset overrides; each validates or stops
# with exit 2 and one line naming the first unsupported key.
if [ -n "$FIX" ] && [ -d "$FIX/axolotl-configs" ] && [ -d "$FIX/hf-tiny/LlamaForCausalLM" ]; then
  C="$FIX/axolotl-configs"; D="$FIX/datasets/alpaca/stanford_alpaca_data_1k.json"
  check_validate_stops() {  # config file, hf-tiny family, expected key text, extra overrides...
    local file=$1 family=$2 want=$3; shift 3
    check_user_error "validate-${file%.y*ml}" "$want" "$AXL" validate "$C/$file" --base-model "$FIX/hf-tiny/$family" --datasets.0.path="$D" "$@"
  }
  check_validate_stops examples__gemma3__gemma-3-1b-qlora.yml GemmaForCausalLM '`load_in_4bit: true` is not supported'
  check_validate_stops examples__llama-3__instruct-dpo-lora-8b.yml LlamaForCausalLM '`load_in_8bit: true` is not supported'
  check_validate_stops examples__llama-3__lora-1b.yml LlamaForCausalLM '`optimizer: adamw_8bit` is not supported'
  check_validate_stops examples__llama-3__qlora-1b.yml LlamaForCausalLM '`load_in_4bit: true` is not supported'
  check_validate_stops examples__mistral__config.yml MistralForCausalLM '`optimizer: adamw_bnb_8bit` is not supported'
  check_validate_stops examples__phi__phi3-ft.yml Phi3ForCausalLM '`eval_table_size: 2` is not supported'
  check_validate_stops examples__qwen2__dpo.yaml Qwen2ForCausalLM '`rl: dpo` is not supported'
  check_validate_stops examples__streaming__pretrain.yaml LlamaForCausalLM '`pretraining_dataset: '
  # With a supported optimizer the Llama LoRA example validates and prints the plan.
  out=$("$AXL" validate "$C/examples__llama-3__lora-1b.yml" --base-model "$FIX/hf-tiny/LlamaForCausalLM" \
        --datasets.0.path="$D" --optimizer adamw_torch --micro-batch-size 4 2>"$TMP/validate.err"); rc=$?
  if [ $rc -eq 0 ] && [[ "$out" == *"trainable: 32,768"* ]] && [[ "$out" == *"= 8 samples per optimizer step"* ]] \
     && [[ "$out" == *"attention: sdpa"* ]] && grep -q "sample_packing: true trains unpacked" "$TMP/validate.err"; then
    pass validate-lora-1b-plan
  else
    fail validate-lora-1b-plan "rc=$rc out=${out:0:200} err=$(head -c 300 "$TMP/validate.err")"
  fi
  # --data tokenizes the datasets (alpaca, llama3 tokenizer): 1000 rows, val_set_size 0.1, batch
  # 2x2 -> 900/4 = 225 steps, warmup 0.1 -> 23.
  out=$("$AXL" validate "$C/examples__llama-3__lora-1b.yml" --base-model "$FIX/hf-tiny/LlamaForCausalLM" \
        --tokenizer-config "$FIX/tokenizers/llama3" --datasets.0.path="$D" --datasets.0.type=alpaca \
        --optimizer adamw_torch --data 2>/dev/null); rc=$?
  if [ $rc -eq 0 ] && [[ "$out" == *"data: 900 train / 100 eval samples, 104350 tokens (57757 trained)"* ]] \
     && [[ "$out" == *"steps: 225 total, warmup 23"* ]]; then
    pass validate-data-counts
  else
    fail validate-data-counts "rc=$rc ${out: -300}"
  fi
  # Errors name file:line:column; an unknown key warns (exit 0) unless strict.
  printf 'base_model: %s\nlearning_rate: 1e-4\ndatasets:\n  - path: d.jsonl\n    type: alpaca\nmicro_batch_size: two\n' \
    "$FIX/hf-tiny/LlamaForCausalLM" > "$TMP/bad.yml"
  check_user_error validate-type-error "bad.yml:6:19: micro_batch_size: expected a whole number" "$AXL" validate "$TMP/bad.yml"
  sed 's/^micro_batch_size: two$/debugg: true/' "$TMP/bad.yml" > "$TMP/unknown.yml"
  err=$("$AXL" validate "$TMP/unknown.yml" 2>&1 >/dev/null); rc=$?
  [ $rc -eq 0 ] && [[ "$err" == *"unknown key 'debugg'"* ]] && pass validate-unknown-warns || fail validate-unknown-warns "rc=$rc $err"
  check_user_error validate-unknown-strict "unknown key 'debugg'" "$AXL" validate "$TMP/unknown.yml" --strict
  check_user_error validate-missing-model "not in the Hugging Face cache" env HF_HUB_CACHE="$TMP/empty-cache" "$AXL" validate "$TMP/unknown.yml" --base-model nobody/nothing
else
  skip validate-real-configs
fi

# tokenize: ids, tokens and chat renders with the fixture tokenizers; generate --prompt streams text.
if [ -n "$FIX" ] && [ -d "$FIX/tokenizers/qwen3" ] && [ -d "$FIX/llama2c-stories260K" ]; then
  out=$("$AXL" tokenize --tokenizer "$FIX/tokenizers/llama3" --text "Hello, my dog is cute" --ids)
  [ "$out" = "9906 11 856 5679 374 19369" ] && pass tokenize-ids || fail tokenize-ids "$out"
  out=$("$AXL" tokenize --tokenizer "$FIX/tokenizers/llama3" --text "Hello, my dog" | tr '\n' '|')
  [ "$out" = "Hello|,|Ġmy|Ġdog|" ] && pass tokenize-tokens || fail tokenize-tokens "$out"
  # A golden qwen3 render (transformers' apply_chat_template) must come out byte for byte.
  python3 - "$FIX/golden/chat_template_renders.json" "$TMP" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = next(c for c in d["cases"] if c["template"] == "qwen3" and c["add_generation_prompt"] and not c["tools"] and c["error"] is None)
json.dump({"messages": c["messages"]}, open(sys.argv[2] + "/chat.json", "w"), ensure_ascii=False)
open(sys.argv[2] + "/chat.want", "w", encoding="utf-8", newline="").write(c["output"])
PY
  "$AXL" tokenize --tokenizer "$FIX/tokenizers/qwen3" --chat "$TMP/chat.json" --add-generation-prompt > "$TMP/chat.got" \
    && cmp -s "$TMP/chat.got" "$TMP/chat.want" && pass tokenize-chat-golden || fail tokenize-chat-golden "render differs"
  check_user_error tokenize-no-template "has no chat_template" "$AXL" tokenize --tokenizer "$FIX/llama2c-stories260K/tok512.model" --chat "$TMP/chat.json"
  check_user_error tokenize-bad-template-name "chatmlx" "$AXL" tokenize --tokenizer "$FIX/tokenizers/qwen3" --chat "$TMP/chat.json" --chat-template chatmlx
  if [ -d "$TMP/stories" ]; then
    out=$("$AXL" generate --model "$TMP/stories" --prompt "Once upon a time" --max-new-tokens 24 2>/dev/null)
    [[ "$out" == ", there was a little girl named Lily."* ]] && pass generate-prompt-text || fail generate-prompt-text "$out"
    ids=$("$AXL" tokenize --tokenizer "$TMP/stories" --text "Once upon a time" --ids)
    a=$("$AXL" generate --model "$TMP/stories" --prompt-ids "$ids" --max-new-tokens 24 --output-ids 2>/dev/null)
    b=$("$AXL" generate --model "$TMP/stories" --prompt "Once upon a time" --max-new-tokens 24 --output-ids 2>/dev/null)
    [ -n "$a" ] && [ "$a" = "$b" ] && pass generate-prompt-same-ids || fail generate-prompt-same-ids "$a vs $b"
  fi
else
  skip tokenize-ids
fi

# train: the example config on the converted stories260K with a fixture alpaca file, a few steps.
if [ -n "$FIX" ] && [ -d "$TMP/stories" ] && [ -f "$FIX/datasets/alpaca/stanford_alpaca_data_1k.json" ]; then
  EX="${AXL_SOURCE_DIR:-$(dirname "$0")/../..}/examples/stories260k-lora-alpaca.yml"
  "$AXL" train "$EX" --base-model "$TMP/stories" --datasets.0.path="$FIX/datasets/alpaca/stanford_alpaca_data_1k.json" \
    --max-steps 6 --eval-steps 3 --output-dir "$TMP/train-out" --threads 1 2>"$TMP/train.err"; rc=$?
  ok=1
  for f in adapter_model.safetensors adapter_config.json trainer_state.json metrics.jsonl; do [ -f "$TMP/train-out/$f" ] || ok=0; done
  if [ $rc -eq 0 ] && [ $ok = 1 ] && grep -q "^done: 6/6 steps" "$TMP/train.err" && grep -q '"eval_loss"' "$TMP/train-out/metrics.jsonl"; then
    pass train-example
  else
    fail train-example "rc=$rc $(tail -c 300 "$TMP/train.err")"
  fi
  check_user_error train-unsupported-key '`load_in_4bit: true` is not supported' "$AXL" train "$EX" --base-model "$TMP/stories" --load-in-4bit
else
  skip train-example
fi

echo "cli: $fails failed, $skipped skipped"
[ $fails -eq 0 ]
