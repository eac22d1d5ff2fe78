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
  check_validate_stops examples__gemma3__gemma-3-1b-qlora.yml GemmaForCausalLM '`unfrozen_parameters: '
  check_validate_stops examples__llama-3__instruct-dpo-lora-8b.yml LlamaForCausalLM '`rl: dpo` is not supported'
  check_validates() {  # config file, hf-tiny family: validates as it is (exit 0)
    if "$AXL" validate "$C/$1" --base-model "$FIX/hf-tiny/$2" --datasets.0.path="$D" >/dev/null 2>"$TMP/validates.err"; then
      pass "validate-${1%.y*ml}"; else fail "validate-${1%.y*ml}" "$(head -c 300 "$TMP/validates.err")"; fi
  }
  check_validates examples__llama-3__lora-1b.yml LlamaForCausalLM  # optimizer: adamw_8bit
  check_validates examples__llama-3__qlora-1b.yml LlamaForCausalLM  # QLoRA: load_in_4bit + adapter qlora
  check_validates examples__mistral__config.yml MistralForCausalLM  # optimizer: adamw_bnb_8bit
  check_validate_stops examples__phi__phi3-ft.yml Phi3ForCausalLM '`eval_table_size: 2` is not supported'
  check_validate_stops examples__qwen2__dpo.yaml Qwen2ForCausalLM '`rl: dpo` is not supported'
  check_validates examples__streaming__pretrain.yaml LlamaForCausalLM  # pretraining_dataset streams
  # With a supported optimizer the Llama LoRA example validates and prints the plan.
  out=$("$AXL" validate "$C/examples__llama-3__lora-1b.yml" --base-model "$FIX/hf-tiny/LlamaForCausalLM" \
        --datasets.0.path="$D" --optimizer adamw_torch --micro-batch-size 4 2>"$TMP/validate.err"); rc=$?
  if [ $rc -eq 0 ] && [[ "$out" == *"trainable: 32,768"* ]] && [[ "$out" == *"= 8 samples per optimizer step"* ]] \
     && [[ "$out" == *"attention: sdpa"* ]] && [[ "$out" == *"sequence: sequence_len 2048, packed"* ]]; then
    pass validate-lora-1b-plan
  else
    fail validate-lora-1b-plan "rc=$rc out=${out:0:200} err=$(head -c 300 "$TMP/validate.err")"
  fi
  # --data tokenizes the datasets (alpaca, llama3 tokenizer): 1000 rows, val_set_size 0.1, batch
  # 2x2 -> 900/4 = 225 steps, warmup 0.1 -> 23 (unpacked).
  out=$("$AXL" validate "$C/examples__llama-3__lora-1b.yml" --base-model "$FIX/hf-tiny/LlamaForCausalLM" \
        --tokenizer-config "$FIX/tokenizers/llama3" --datasets.0.path="$D" --datasets.0.type=alpaca \
        --optimizer adamw_torch --data --no-sample-packing 2>/dev/null); rc=$?
  if [ $rc -eq 0 ] && [[ "$out" == *"data: 900 train / 100 eval samples, 104350 tokens (57757 trained)"* ]] \
     && [[ "$out" == *"steps: 225 total, warmup 23"* ]]; then
    pass validate-data-counts
  else
    fail validate-data-counts "rc=$rc ${out: -300}"
  fi
  # The example packs (sample_packing: true): 900 samples into 24 rows of 2 x 2048 tokens,
  # 24 / 2 = 12 steps, warmup ceil(0.1 x 12) = 2.
  out=$("$AXL" validate "$C/examples__llama-3__lora-1b.yml" --base-model "$FIX/hf-tiny/LlamaForCausalLM" \
        --tokenizer-config "$FIX/tokenizers/llama3" --datasets.0.path="$D" --datasets.0.type=alpaca \
        --optimizer adamw_torch --data 2>/dev/null); rc=$?
  if [ $rc -eq 0 ] && [[ "$out" == *"packing: 24 rows of 4096 tokens per epoch, efficiency 0.9618"* ]] \
     && [[ "$out" == *"steps: 12 total, warmup 2"* ]]; then
    pass validate-data-packed-steps
  else
    fail validate-data-packed-steps "rc=$rc ${out: -300}"
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
  # The config.yml saved with the run is a config we accept again (re-run or infer from it).
  "$AXL" validate "$TMP/train-out/config.yml" >"$TMP/saved-config.out" 2>&1 && pass train-saved-config-validates \
    || fail train-saved-config-validates "$(tail -c 300 "$TMP/saved-config.out")"
  check_user_error train-unsupported-key '`relora: true` is not supported' "$AXL" train "$EX" --base-model "$TMP/stories" --relora
  # Packed: rows of 4 x 256 tokens, the packing line, and a falling eval loss.
  "$AXL" train "$EX" --base-model "$TMP/stories" --datasets.0.path="$FIX/datasets/alpaca/stanford_alpaca_data_1k.json" \
    --sample-packing --max-steps 8 --eval-steps 8 --output-dir "$TMP/train-packed" --threads 1 2>"$TMP/train-packed.err"; rc=$?
  if [ $rc -eq 0 ] && grep -q "^sample packing: 80 rows of 1024 tokens per epoch, efficiency 0\.9" "$TMP/train-packed.err" \
     && grep -q "^done: 8/8 steps" "$TMP/train-packed.err" \
     && python3 -c "import re,sys; a,b=map(float,re.search(r'eval_loss ([0-9.]+) -> ([0-9.]+)',open('$TMP/train-packed.err').read()).groups()); sys.exit(not b<a)"; then
    pass train-packed
  else
    fail train-packed "rc=$rc $(tail -c 300 "$TMP/train-packed.err")"
  fi
else
  skip train-example
fi

# train robustness: a run killed with SIGKILL after its first checkpoint and resumed ends with
# weights bit-identical to an uninterrupted run (CPU, same binary and thread count), LoRA with
# dropout (the RNG state matters) and full fine-tune; a save killed half-way (a temporary
# folder, a checkpoint folder without trainer_state.json) is skipped by auto_resume and cleaned.
if [ -n "$FIX" ] && [ -d "$TMP/stories" ]; then
  R="$TMP/robust"; mkdir -p "$R"
  things=(ball cat tree cake box dog hat bird)
  for i in $(seq 0 39); do
    t=${things[$((i % 8))]}
    printf '{"text": "Once upon a time, there was a girl named Zorba. Zorba had a big %s. She said, \\"I love my %s!\\""}\n' "$t" "$t"
  done > "$R/data.jsonl"
  write_cfg() {  # file, output_dir, extra yaml lines
    printf 'base_model: %s\ndatasets:\n  - path: %s\n    type: completion\nval_set_size: 0\nsequence_len: 64\nseed: 5\n' \
      "$TMP/stories" "$R/data.jsonl" > "$1"
    printf 'micro_batch_size: 4\ngradient_accumulation_steps: 2\noptimizer: adamw_torch\nlr_scheduler: cosine\n' >> "$1"
    printf 'warmup_steps: 2\nmax_steps: 14\nlogging_steps: 2\nsave_steps: 3\nsave_total_limit: 2\noutput_dir: %s\n%s\n' "$2" "$3" >> "$1"
  }
  # kill_and_resume NAME WEIGHTS EXTRA_YAML: straight run, killed run, resumed run, compare.
  kill_and_resume() {
    local name=$1 weights=$2 extra=$3 d="$R/$1" rc pid n
    mkdir -p "$d"
    write_cfg "$d/straight.yml" "$d/straight" "$extra"
    write_cfg "$d/killed.yml" "$d/killed" "$extra"$'\n'"auto_resume_from_checkpoints: true"
    "$AXL" train "$d/straight.yml" --threads 1 2>"$d/straight.err" || { fail "$name" "straight run: $(tail -c 300 "$d/straight.err")"; return; }
    "$AXL" train "$d/killed.yml" --threads 1 2>"$d/killed.err" & pid=$!
    for n in $(seq 1 1200); do [ -d "$d/killed/checkpoint-3" ] && break; kill -0 $pid 2>/dev/null || break; sleep 0.05; done
    kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; rc=$?
    if [ $rc -ne 137 ] || [ ! -d "$d/killed/checkpoint-3" ] || [ -f "$d/killed/$weights" ]; then
      fail "$name" "the run was not killed after its first checkpoint (rc=$rc)"; return
    fi
    # What a save killed half-way could leave behind, newer than any complete checkpoint.
    mkdir -p "$d/killed/checkpoint-12.tmp-1-2" "$d/killed/checkpoint-13"
    head -c 100 "$d/killed/checkpoint-3/$weights" > "$d/killed/checkpoint-12.tmp-1-2/$weights"
    echo '{"global_step": 12}' > "$d/killed/checkpoint-12.tmp-1-2/trainer_state.json"
    cp "$d/killed/checkpoint-12.tmp-1-2/$weights" "$d/killed/checkpoint-13/$weights"
    "$AXL" train "$d/killed.yml" --threads 1 2>"$d/resumed.err"; rc=$?
    if [ $rc -eq 0 ] && grep -q "^resumed from $d/killed/checkpoint-[0-9]* at step [1-9]" "$d/resumed.err" \
       && grep -q "^removed 1 unfinished checkpoint folder" "$d/resumed.err" && [ ! -e "$d/killed/checkpoint-12.tmp-1-2" ] \
       && cmp -s "$d/straight/$weights" "$d/killed/$weights"; then
      pass "$name"
    else
      fail "$name" "rc=$rc $(grep -m1 resumed "$d/resumed.err") $(tail -c 300 "$d/resumed.err")"
    fi
  }
  kill_and_resume train-sigkill-resume-lora adapter_model.safetensors \
    $'adapter: lora\nlora_r: 4\nlora_alpha: 8\nlora_dropout: 0.1\nlora_target_linear: true\nlearning_rate: 0.01'
  kill_and_resume train-sigkill-resume-full model.safetensors 'learning_rate: 0.001'
  # The saved output: checkpoints of exactly the HF layout, rotated, no temporary leftovers.
  d="$R/train-sigkill-resume-lora/straight"
  if [ "$(cd "$d" && ls -d checkpoint-* | sort | tr '\n' ' ')" = "checkpoint-12 checkpoint-9 " ] \
     && [ -f "$d/checkpoint-12/optimizer.safetensors" ] && [ -f "$d/checkpoint-12/rng_state.safetensors" ] \
     && python3 -c "import json,sys; s=json.load(open('$d/trainer_state.json')); h=s['log_history']
sys.exit(not(s['global_step']==14 and [e['step'] for e in h if 'loss' in e]==[2,4,6,8,10,12,14] and 'train_runtime' in h[-1]))"; then
    pass train-checkpoint-layout
  else
    fail train-checkpoint-layout "$(ls "$d")"
  fi
  # A config's chat_template is saved with the tokenizer (chat_template.jinja, as transformers 5
  # writes it), in checkpoints too, and the saved folder renders chats with it.
  write_cfg "$R/chat.yml" "$R/chat" $'adapter: lora\nlora_r: 4\nlora_alpha: 8\nlora_target_linear: true\nlearning_rate: 0.01\nchat_template: chatml'
  echo '{"messages": [{"role": "user", "content": "Hi"}]}' > "$R/chat.json"
  "$AXL" train "$R/chat.yml" --threads 1 --max-steps 4 2>"$R/chat.err"; rc=$?
  out=$("$AXL" tokenize --tokenizer "$R/chat" --chat "$R/chat.json" 2>&1)
  if [ $rc -eq 0 ] && grep -q "im_start" "$R/chat/chat_template.jinja" && grep -q "im_start" "$R/chat/checkpoint-3/chat_template.jinja" \
     && [ "$out" = $'<|im_start|>user\nHi<|im_end|>' ]; then
    pass train-saves-chat-template
  else
    fail train-saves-chat-template "rc=$rc $out $(tail -c 200 "$R/chat.err")"
  fi
  # The prepared-dataset cache: preprocess writes it (last_run_prepared without
  # dataset_prepared_path, relative to the working folder as in Axolotl) and train reuses it;
  # two preprocess runs at once leave one valid cache; a damaged one is rebuilt with a warning.
  P="$R/prepared"; mkdir -p "$P"
  AXLP=$(cd "$(dirname "$AXL")" && pwd)/$(basename "$AXL")  # the runs below work inside $P
  write_cfg "$P/p.yml" "$P/out" $'adapter: lora\nlora_r: 4\nlora_alpha: 8\nlora_target_linear: true\nlearning_rate: 0.01'
  (cd "$P" && "$AXLP" preprocess p.yml >"$P/pre1.out" 2>"$P/pre1.err" & cd "$P" && "$AXLP" preprocess p.yml >"$P/pre2.out" 2>"$P/pre2.err"; wait)
  key=$(ls "$P/last_run_prepared" 2>/dev/null)
  (cd "$P" && "$AXLP" train p.yml --threads 1 --max-steps 2 >/dev/null 2>"$P/train.err"); rc=$?
  if [ $rc -eq 0 ] && [ "$(echo $key | wc -w)" = 1 ] && grep -q "dataset_prepared_path is not set" "$P/pre1.err" \
     && grep -q "^dataset cache: \(wrote\|reusing\) last_run_prepared/$key" "$P/pre1.out" \
     && grep -q "^dataset cache: reusing last_run_prepared/$key" "$P/train.err"; then
    pass preprocess-then-train-reuses-cache
  else
    fail preprocess-then-train-reuses-cache "rc=$rc key=$key $(cat "$P/pre1.out" "$P/pre1.err" "$P/train.err" | tail -c 400)"
  fi
  [ -n "$key" ] && truncate -s 100 "$P/last_run_prepared/$key/train.bin"
  out=$(cd "$P" && "$AXLP" preprocess p.yml 2>&1); again=$(cd "$P" && "$AXLP" preprocess p.yml 2>&1)
  if echo "$out" | grep -q "axolotl: warning: dataset cache is damaged, rebuilding it: .*truncated" \
     && echo "$out" | grep -q "^dataset cache: wrote" && echo "$again" | grep -q "^dataset cache: reusing"; then
    pass preprocess-rebuilds-damaged-cache
  else
    fail preprocess-rebuilds-damaged-cache "$(echo "$out" | tail -c 300)"
  fi
else
  skip train-sigkill-resume-lora; skip train-sigkill-resume-full; skip train-checkpoint-layout; skip train-saves-chat-template
  skip preprocess-then-train-reuses-cache; skip preprocess-rebuilds-damaged-cache
fi

# inference and sharded merge-lora (stories260K): `inference CONFIG` formats the prompt as the
# config's dataset trains, finds the adapter in output_dir, and generates what the merged model
# generates; merge-lora shards as save_pretrained does, and transformers loads the shards.
if [ -n "$FIX" ] && [ -d "$FIX/llama2c-stories260K" ] && [ -f "$FIX/datasets/alpaca/stanford_alpaca_data_1k.json" ]; then
  S="$FIX/llama2c-stories260K"; I="$TMP/inference"; mkdir -p "$I"
  "$AXL" convert llama2c --checkpoint "$S/stories260K.bin" --tokenizer "$S/tok512.model" --out "$I/stories" >/dev/null 2>&1
  cat > "$I/alpaca.yml" <<YAML
base_model: $I/stories
datasets:
  - path: $FIX/datasets/alpaca/stanford_alpaca_data_1k.json
    type: alpaca
sequence_len: 256
adapter: lora
lora_r: 8
lora_alpha: 16
lora_target_linear: true
learning_rate: 0.01
max_steps: 6
micro_batch_size: 4
output_dir: $I/out
YAML
  "$AXL" train "$I/alpaca.yml" --threads 1 >/dev/null 2>"$I/train.err" || fail inference-train "$(tail -c 300 "$I/train.err")"
  # --raw with no adapter is `generate` on the same text.
  a=$("$AXL" inference "$I/alpaca.yml" --no-adapter --raw --prompt "Once upon a time" --max-new-tokens 24 --threads 1 2>/dev/null)
  b=$("$AXL" generate --model "$I/stories" --prompt "Once upon a time" --max-new-tokens 24 --threads 1 2>/dev/null)
  [ -n "$a" ] && [ "$a" = "$b" ] && pass inference-raw-equals-generate || fail inference-raw-equals-generate "'$a' vs '$b'"
  # The alpaca prompt of `type: alpaca` (no input), the adapter found in output_dir.
  "$AXL" inference "$I/alpaca.yml" --prompt "Name a color." --show-prompt --max-new-tokens 16 --threads 1 >"$I/with.out" 2>"$I/with.err"
  want=$'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nName a color.\n\n### Response:\n'
  got=$(sed -n '/^--- prompt ---$/,/^--- end of prompt ---$/p' "$I/with.err" | sed '1d;$d')
  [ "$got"$'\n' = "$want" ] && grep -q "+ adapter $I/out, alpaca prompt" "$I/with.err" \
    && pass inference-alpaca-prompt || fail inference-alpaca-prompt "$(head -c 400 "$I/with.err")"
  # The whole of stdin is the prompt (surrounding newlines dropped).
  printf '\nName a color.\n\n' | "$AXL" inference "$I/alpaca.yml" --max-new-tokens 16 --threads 1 >"$I/stdin.out" 2>/dev/null
  [ -s "$I/with.out" ] && cmp -s "$I/stdin.out" "$I/with.out" && pass inference-stdin || fail inference-stdin "$(cat "$I/stdin.out")"
  # A chat template config: the template over one user message with the generation prompt.
  "$AXL" inference "$I/alpaca.yml" --datasets.0.type chat_template --chat-template chatml --no-adapter --prompt hi \
    --show-prompt --max-new-tokens 4 --threads 1 >/dev/null 2>"$I/chat.err"
  [[ "$(cat "$I/chat.err")" == *$'--- prompt ---\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n\n--- end'* ]] \
    && pass inference-chat-template-prompt || fail inference-chat-template-prompt "$(head -c 300 "$I/chat.err")"
  check_user_error inference-missing-adapter "no such folder" "$AXL" inference "$I/alpaca.yml" --adapter "$I/nope" --prompt x
  check_user_error inference-foreign-adapter "shape" "$AXL" inference "$I/alpaca.yml" --adapter "$FIX/hf-tiny/LlamaForCausalLM/lora" --prompt x
  check_user_error inference-empty-prompt "empty prompt" "$AXL" inference "$I/alpaca.yml" --prompt $'\n'

  # merge-lora CONFIG: unsharded into output_dir/merged, then in shards of 200KB.
  "$AXL" merge-lora "$I/alpaca.yml" >/dev/null 2>"$I/merge.err" && [ -f "$I/out/merged/model.safetensors" ] \
    && pass merge-config-form || fail merge-config-form "$(cat "$I/merge.err")"
  "$AXL" merge-lora "$I/alpaca.yml" --out "$I/sharded" --max-shard-size 200KB >/dev/null 2>"$I/merge2.err"
  if python3 - "$I/sharded" <<'PY'
import json, os, struct, sys
d = sys.argv[1]
index = json.load(open(os.path.join(d, "model.safetensors.index.json")))
files = sorted(f for f in os.listdir(d) if f.startswith("model-"))
n = len(files)
assert n >= 2 and files == [f"model-{i:05d}-of-{n:05d}.safetensors" for i in range(1, n + 1)], files
assert not os.path.exists(os.path.join(d, "model.safetensors"))
names, size = {}, 0
for f in files:
    raw = open(os.path.join(d, f), "rb").read()
    header = json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])
    header.pop("__metadata__", None)
    shard = 0
    for k, v in header.items():
        names[k] = f
        shard += v["data_offsets"][1] - v["data_offsets"][0]
    assert shard <= 200_000 or len(header) == 1, (f, shard)
    size += shard
assert index["weight_map"] == names, "weight_map differs from the shards' tensors"
assert index["metadata"]["total_size"] == size, (index["metadata"], size)
assert json.load(open(os.path.join(d, "config.json")))["dtype"] == "float32"
PY
  then pass merge-sharded-index; else fail merge-sharded-index "$(cat "$I/merge2.err")"; fi
  # Our loader reads the shards: the sharded merge generates what the unsharded one does, and
  # what the adapter on the base model generates.
  m1=$("$AXL" generate --model "$I/out/merged" --prompt "Tell me a story." --max-new-tokens 24 --threads 1 2>/dev/null)
  m2=$("$AXL" generate --model "$I/sharded" --prompt "Tell me a story." --max-new-tokens 24 --threads 1 2>/dev/null)
  [ -n "$m1" ] && [ "$m1" = "$m2" ] && pass merge-sharded-loads || fail merge-sharded-loads "'$m1' vs '$m2'"
  a=$("$AXL" inference "$I/alpaca.yml" --raw --prompt "Tell me a story." --max-new-tokens 24 --threads 1 2>/dev/null)
  [ -n "$a" ] && [ "$a" = "$m1" ] && pass inference-adapter-equals-merged || fail inference-adapter-equals-merged "'$a' vs '$m1'"
  # Re-merging unsharded into the same folder removes the shards (they would shadow nothing,
  # but a stale model.safetensors would shadow new shards the other way round).
  "$AXL" merge-lora "$I/alpaca.yml" --out "$I/sharded" --dtype bfloat16 >/dev/null 2>&1
  if [ -f "$I/sharded/model.safetensors" ] && ! ls "$I/sharded" | grep -q '^model-\|index' \
     && grep -q '"dtype": "bfloat16"' "$I/sharded/config.json" && ! ls "$I" | grep -q '\.tmp-\|\.old-'; then
    pass merge-replaces-folder
  else
    fail merge-replaces-folder "$(ls "$I/sharded")"
  fi
  check_user_error merge-bad-shard-size "--max-shard-size" "$AXL" merge-lora "$I/alpaca.yml" --max-shard-size 12XB
  check_user_error merge-no-adapter "not a PEFT adapter folder" "$AXL" merge-lora --model "$I/stories" --adapter "$I" --out "$I/x"
  # transformers loads the shards and gives our unsharded merge's logits.
  PEER_PY="$(cd "$(dirname "$0")/../.." && pwd)/.venv-peer/bin/python"
  if [ -x "$PEER_PY" ]; then
    msg=""
    "$AXL" merge-lora "$I/alpaca.yml" --out "$I/sharded" --max-shard-size 200KB >/dev/null 2>&1
    "$PEER_PY" "$(dirname "$0")/sharded_merge_peer.py" input "$I/ids.safetensors" \
      && "$AXL" forward --model "$I/out/merged" --input "$I/ids.safetensors" --out "$I/ours.safetensors" 2>/dev/null \
      && msg=$("$PEER_PY" "$(dirname "$0")/sharded_merge_peer.py" compare "$I/sharded" "$I/ids.safetensors" "$I/ours.safetensors" 2>"$I/peer.err") \
      && pass "merge-sharded-transformers ($msg)" || fail merge-sharded-transformers "$msg $(tail -c 300 "$I/peer.err")"
  else
    skip merge-sharded-transformers
  fi

  # Several adapters: a second LoRA of another rank (4 vs 8) trained the same way. Both active
  # equal both merged in sequence; weights 1,1 (default cat for unequal ranks) equal both
  # active; a weighted merge equals the weighted adapters; errors stop before any work.
  sed -e "s#^output_dir: .*#output_dir: $I/out2#" -e 's/^lora_r: 8/lora_r: 4/' -e 's/^learning_rate: 0.01/learning_rate: 0.02/' \
    "$I/alpaca.yml" > "$I/second.yml"
  "$AXL" train "$I/second.yml" --threads 1 >/dev/null 2>"$I/train2.err" || fail multi-train "$(tail -c 300 "$I/train2.err")"
  python3 - "$I/ids16.safetensors" <<'PY'
import json, struct, sys
ids = [1, 72, 5, 301, 44, 9, 17, 260, 3, 88, 140, 7, 19, 230, 65, 2]
header = json.dumps({"input_ids": {"dtype": "I64", "shape": [1, len(ids)], "data_offsets": [0, 8 * len(ids)]}}).encode()
header += b" " * (-len(header) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(header)) + header + struct.pack(f"<{len(ids)}q", *ids))
PY
  # max |logits_a - logits_b| of two `forward` outputs
  logit_diff() { python3 - "$1" "$2" <<'PY'
import json, struct, sys
def logits(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    t = json.loads(raw[8:8 + n])["logits"]
    a, b = t["data_offsets"]
    return struct.unpack(f"<{(b - a) // 4}f", raw[8 + n + a:8 + n + b])
x, y = logits(sys.argv[1]), logits(sys.argv[2])
print(max(abs(p - q) for p, q in zip(x, y)) if len(x) == len(y) else float("inf"))
PY
  }
  fwd() { local out=$1; shift; "$AXL" forward --input "$I/ids16.safetensors" --out "$out" --threads 1 "$@" 2>"$out.err"; }
  within() { python3 -c "import sys; sys.exit(0 if float('$1') <= $2 else 1)"; }
  fwd "$I/one.st" --model "$I/stories" --adapter "$I/out"
  fwd "$I/both.st" --model "$I/stories" --adapter "$I/out" --adapter "$I/out2"
  "$AXL" merge-lora --model "$I/stories" --adapter "$I/out" --adapter "$I/out2" --out "$I/merged-both" >/dev/null 2>"$I/merge-both.err"
  fwd "$I/merged-both.st" --model "$I/merged-both"
  d=$(logit_diff "$I/both.st" "$I/merged-both.st"); moved=$(logit_diff "$I/both.st" "$I/one.st")
  within "$d" 1e-4 && ! within "$moved" 1e-3 && grep -q "merged [0-9]* LORA layers (adapters $I/out + $I/out2 (all active))" "$I/merge-both.err" \
    && pass "multi-adapter-active-equals-merged (diff $d, second adapter moves $moved)" \
    || fail multi-adapter-active-equals-merged "diff $d moved $moved $(cat "$I/merge-both.err" "$I/both.st.err")"
  fwd "$I/cat.st" --model "$I/stories" --adapter "$I/out" --adapter "$I/out2" --adapter-weights 1,1
  d=$(logit_diff "$I/cat.st" "$I/both.st")
  within "$d" 1e-4 && pass "multi-adapter-cat-1-1-equals-active ($d)" || fail multi-adapter-cat-1-1-equals-active "$d $(cat "$I/cat.st.err")"
  "$AXL" merge-lora --model "$I/stories" --adapter "$I/out" --adapter "$I/out2" --adapter-weights 0.7,0.3 \
    --combination svd --out "$I/merged-svd" >/dev/null 2>"$I/merge-svd.err"
  fwd "$I/merged-svd.st" --model "$I/merged-svd"
  fwd "$I/svd.st" --model "$I/stories" --adapter "$I/out" --adapter "$I/out2" --adapter-weights 0.7,0.3 --combination svd
  d=$(logit_diff "$I/merged-svd.st" "$I/svd.st")
  within "$d" 1e-4 && grep -q "(svd, rank 8)" "$I/merge-svd.err" && pass "multi-adapter-weighted-merge ($d)" \
    || fail multi-adapter-weighted-merge "$d $(cat "$I/merge-svd.err" "$I/svd.st.err")"
  "$AXL" generate --model "$I/stories" --adapter "$I/out" --adapter "$I/out2" --adapter-weights 0.5,0.5 \
    --prompt "Once" --max-new-tokens 4 --threads 1 >/dev/null 2>"$I/gen-w.err"
  grep -q "generate: adapters 0.5 $I/out + 0.5 $I/out2 (cat, rank 12)" "$I/gen-w.err" && pass multi-adapter-generate \
    || fail multi-adapter-generate "$(cat "$I/gen-w.err")"
  M="$FIX/hf-tiny/LlamaForCausalLM"
  check_user_error multi-weights-count "1 --adapter-weights for 2" "$AXL" inference "$I/alpaca.yml" --adapter "$I/out" --adapter "$I/out2" --adapter-weights 0.5 --prompt x
  check_user_error multi-combination-needs-weights "--combination needs --adapter-weights" "$AXL" generate --model "$I/stories" --adapter "$I/out" --combination cat --prompt-ids 1
  check_user_error multi-bad-combination "use linear, cat or svd" "$AXL" generate --model "$I/stories" --adapter "$I/out" --adapter "$I/out2" --adapter-weights 1,1 --combination ties --prompt-ids 1
  check_user_error multi-linear-unequal-ranks "equal rank" "$AXL" generate --model "$I/stories" --adapter "$I/out" --adapter "$I/out2" --adapter-weights 1,1 --combination linear --prompt-ids 1
  check_user_error multi-different-base "shape" "$AXL" inference "$I/alpaca.yml" --adapter "$I/out" --adapter "$M/lora" --prompt x
  if [ -d "$M/ia3" ]; then
    check_user_error multi-weights-not-lora "is IA3 adapter" "$AXL" generate --model "$M" --adapter "$M/lora" --adapter "$M/ia3" --adapter-weights 0.5,0.5 --prompt-ids 1
    check_user_error multi-weights-not-dora "is a DoRA adapter" "$AXL" generate --model "$M" --adapter "$M/lora" --adapter "$M/dora" --adapter-weights 0.5,0.5 --prompt-ids 1
    check_user_error merge-refuses-prefix-tuning "cannot be merged" "$AXL" merge-lora --model "$M" --adapter "$M/methods/prefix_tuning" --out "$I/x"
    check_user_error forward-grads-one-adapter "exactly one --adapter" "$AXL" forward --model "$M" --input "$M/reference.safetensors" --out "$I/x.st" --adapter "$M/lora" --adapter "$M/dora" --grads "$I/g.st"
  else
    skip multi-weights-not-lora; skip multi-weights-not-dora; skip merge-refuses-prefix-tuning; skip forward-grads-one-adapter
  fi
else
  for t in inference-raw-equals-generate inference-alpaca-prompt inference-stdin inference-chat-template-prompt \
           merge-config-form merge-sharded-index merge-sharded-loads inference-adapter-equals-merged \
           merge-replaces-folder merge-sharded-transformers multi-adapter-active-equals-merged \
           multi-adapter-cat-1-1-equals-active multi-adapter-weighted-merge multi-adapter-generate; do skip $t; done
fi

# quantize: hf-tiny Llama to a bitsandbytes-format folder (NF4 + double quantisation by
# default, int8 with --bits 8) that our loader reads back; bad inputs are one-line errors.
if [ -n "$FIX" ] && [ -d "$FIX/hf-tiny/LlamaForCausalLM" ]; then
  Q="$FIX/hf-tiny/LlamaForCausalLM"
  if "$AXL" quantize --model "$Q" --out "$TMP/q4" 2>"$TMP/q4.err" && grep -q '"quant_method": "bitsandbytes"' "$TMP/q4/config.json" \
     && grep -q "quantized 14 linear layers to nf4+double-quant" "$TMP/q4.err"; then pass quantize-nf4; else fail quantize-nf4 "$(cat "$TMP/q4.err")"; fi
  if "$AXL" quantize --model "$Q" --out "$TMP/q8" --bits 8 2>"$TMP/q8.err" && grep -q '"load_in_8bit": true' "$TMP/q8/config.json"; then
    pass quantize-int8; else fail quantize-int8 "$(cat "$TMP/q8.err")"; fi
  "$AXL" forward --model "$TMP/q4" --input "$Q/reference.safetensors" --out "$TMP/q4-fwd.safetensors" >/dev/null 2>"$TMP/q4f.err" \
    && pass quantize-forward-loads || fail quantize-forward-loads "$(cat "$TMP/q4f.err")"
  # merge-lora onto a 4-bit base (a QLoRA run's merge): dense weights, no quantization_config
  # left in config.json, and the merged model computes what the quantized base + adapter does.
  "$AXL" forward --model "$TMP/q4" --adapter "$Q/lora" --input "$Q/reference.safetensors" --out "$TMP/q4-lora.st" >/dev/null 2>"$TMP/q4m.err" \
    && "$AXL" merge-lora --model "$TMP/q4" --adapter "$Q/lora" --out "$TMP/q4-merged" >/dev/null 2>>"$TMP/q4m.err" \
    && "$AXL" forward --model "$TMP/q4-merged" --input "$Q/reference.safetensors" --out "$TMP/q4-merged.st" >/dev/null 2>>"$TMP/q4m.err"
  d=$(python3 - "$TMP/q4-lora.st" "$TMP/q4-merged.st" <<'PY' 2>>"$TMP/q4m.err"
import json, struct, sys
def logits(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    t = json.loads(raw[8:8 + n])["logits"]
    a, b = t["data_offsets"]
    return struct.unpack(f"<{(b - a) // 4}f", raw[8 + n + a:8 + n + b])
x, y = logits(sys.argv[1]), logits(sys.argv[2])
print(max(abs(p - q) for p, q in zip(x, y)) if len(x) == len(y) else float("inf"))
PY
)
  if [ -n "$d" ] && python3 -c "import sys; sys.exit(0 if float('$d') <= 1e-4 else 1)" \
     && ! grep -q quantization_config "$TMP/q4-merged/config.json" && ! grep -qa absmax "$TMP/q4-merged/model.safetensors"; then
    pass "merge-lora-quantized-base (logits diff $d)"; else fail merge-lora-quantized-base "diff '$d' $(cat "$TMP/q4m.err")"; fi
  check_user_error quantize-bad-blocksize "blocksize 48" "$AXL" quantize --model "$Q" --out "$TMP/qx" --blocksize 48
  check_user_error quantize-already "already bitsandbytes-quantized" "$AXL" quantize --model "$TMP/q4" --out "$TMP/qy"
  check_user_error quantize-needs-out "both --model and --out" "$AXL" quantize --model "$Q"
else
  for t in quantize-nf4 quantize-int8 quantize-forward-loads merge-lora-quantized-base quantize-bad-blocksize quantize-already quantize-needs-out; do skip $t; done
fi

echo "cli: $fails failed, $skipped skipped"
[ $fails -eq 0 ]
