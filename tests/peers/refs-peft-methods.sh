#!/usr/bin/env bash
# References for tests/peft/test_methods_peer.cpp: every `adapter:` method trained by
# `axolotl train` (10 steps on our stories260K conversion, a small generated dataset, the YAML a
# user would write) and saved; the live PEFT + transformers then load each saved adapter and
# write its logits (and merge_and_unload's where PEFT can merge).
# A method that fails to train is recorded (<method>/train.rc, train.log) and the others go on;
# the test reports each method on its own.
# Usage: refs-peft-methods.sh OUT_DIR AXL_BIN FIXTURES_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$(realpath -m "$1/peft-methods")
AXL=$2
FIX=$3
rm -rf "$OUT"
mkdir -p "$OUT"
"$AXL" convert llama2c --checkpoint "$FIX/llama2c-stories260K/stories260K.bin" \
  --tokenizer "$FIX/llama2c-stories260K/tok512.model" --out "$OUT/base" >/dev/null

# 48 short stories the model can learn in a few steps.
things=(ball cat tree cake box dog hat bird)
for i in $(seq 0 47); do
  t=${things[$((i % 8))]}
  printf '{"text": "Once upon a time, there was a girl named Mira. Mira had a big %s. She said, \\"I love my %s!\\" Mira was happy."}\n' "$t" "$t"
done > "$OUT/data.jsonl"

# method name -> the adapter keys of its YAML (docs/adapters.md).
declare -A METHOD_YAML
METHOD_YAML[lora]=$'adapter: lora\nlora_r: 8\nlora_alpha: 16\nlora_dropout: 0.05\nlora_target_linear: true'
METHOD_YAML[rslora]=$'adapter: lora\nlora_r: 8\nlora_alpha: 16\nlora_dropout: 0.05\nlora_target_linear: true\npeft_use_rslora: true'
METHOD_YAML[dora]=$'adapter: lora\npeft_use_dora: true\nlora_r: 8\nlora_alpha: 16\nlora_dropout: 0.05\nlora_target_linear: true'
METHOD_YAML[ia3]=$'adapter: ia3\nlora_target_modules:\n  - k_proj\n  - v_proj\n  - down_proj\npeft:\n  feedforward_modules:\n    - down_proj'
METHOD_YAML[loha]=$'adapter: loha\nlora_r: 8\nlora_alpha: 16\nlora_target_linear: true\npeft:\n  rank_dropout: 0.05\n  module_dropout: 0.0'
METHOD_YAML[lokr]=$'adapter: lokr\nlora_r: 8\nlora_alpha: 16\nlora_target_linear: true\npeft:\n  rank_dropout: 0.05\n  decompose_both: true\n  decompose_factor: -1'
METHOD_YAML[oft]=$'adapter: oft\nlora_target_linear: true\npeft:\n  oft_block_size: 4\n  r: 0\n  module_dropout: 0.0'
METHOD_YAML[boft]=$'adapter: boft\nlora_target_linear: true\npeft:\n  boft_block_size: 4\n  boft_n_butterfly_factor: 1\n  boft_dropout: 0.05'
METHOD_YAML[vera]=$'adapter: vera\nlora_r: 16\nlora_dropout: 0.05\nlora_target_linear: true\npeft:\n  projection_prng_key: 0\n  save_projection: true\n  d_initial: 0.1'
METHOD_YAML[adalora]=$'adapter: adalora\nlora_r: 8\nlora_alpha: 16\nlora_dropout: 0.05\nlora_target_linear: true\npeft:\n  target_r: 4\n  tinit: 2\n  tfinal: 2\n  deltaT: 2\n  beta1: 0.85\n  beta2: 0.85\n  orth_reg_weight: 0.5\n  total_step: 10'
METHOD_YAML[prefix_tuning]=$'adapter: prefix_tuning\npeft:\n  num_virtual_tokens: 8'
METHOD_YAML[prompt_tuning]=$'adapter: prompt_tuning\npeft:\n  num_virtual_tokens: 8\n  prompt_tuning_init: RANDOM'
METHODS=(lora rslora dora ia3 loha lokr oft boft vera adalora prefix_tuning prompt_tuning)

for m in "${METHODS[@]}"; do
  dir=$OUT/$m
  mkdir -p "$dir"
  cat > "$dir/config.yml" <<EOF
base_model: $OUT/base
datasets:
  - path: $OUT/data.jsonl
    type: completion
sequence_len: 64
val_set_size: 0
seed: 7
micro_batch_size: 4
gradient_accumulation_steps: 1
max_steps: 10
learning_rate: 0.01
optimizer: adamw_torch
lr_scheduler: constant
logging_steps: 5
save_strategy: 'no'
output_dir: $dir/adapter
dataset_prepared_path: $dir/prepared
${METHOD_YAML[$m]}
EOF
  rc=0
  "$AXL" train "$dir/config.yml" --threads 1 > "$dir/train.log" 2>&1 || rc=$?
  echo "$rc" > "$dir/train.rc"
  [ "$rc" = 0 ] || echo "refs-peft-methods: axolotl train failed for $m (exit $rc, see $dir/train.log)" >&2
done
.venv-peer/bin/python tests/peers/peft_methods_reference.py "$OUT" "${METHODS[@]}"
