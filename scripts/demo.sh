#!/usr/bin/env bash
# `make demo`: the main job as far as it exists today. Converts the real pretrained
# stories260K (llama2.c) into a Hugging Face folder, checks its greedy output against
# llama2.c's, and generates stories from text prompts through the model's own tokenizer.
# (Training arrives with the training issue; then this becomes a real fine-tune.)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
AXL=$BUILD/bin/axolotl
FIX=${AXOLOTL_FIXTURES:-../shared/fixtures}
S=$FIX/llama2c-stories260K
OUT=$BUILD/demo
mkdir -p "$OUT"
echo "== convert llama2.c stories260K -> $OUT/stories260K"
"$AXL" convert llama2c --checkpoint "$S/stories260K.bin" --tokenizer "$S/tok512.model" --out "$OUT/stories260K"
echo "== greedy generation from BOS (256 tokens), compared with llama2.c's golden output"
ids=$("$AXL" generate --model "$OUT/stories260K" --prompt-ids 1 --max-new-tokens 256 --ignore-eos --output-ids)
want=$(python3 -c "import json;print(' '.join(map(str,json.load(open('$FIX/golden/stories260K_greedy_256.json'))['generated_ids'])))")
if [ "$ids" = "$want" ]; then echo "greedy ids match llama2.c token for token (256/256)"; else echo "MISMATCH"; exit 1; fi
echo "== greedy continuation of a text prompt (encoded and streamed back by our sentencepiece tokenizer)"
"$AXL" generate --model "$OUT/stories260K" --prompt "Once upon a time" --max-new-tokens 120
echo "== sampled from a text prompt (temperature 0.8, top-p 0.9, seed 42)"
"$AXL" generate --model "$OUT/stories260K" --prompt "The dragon" --max-new-tokens 80 --temperature 0.8 --top-p 0.9 --seed 42
echo "== timing"
time "$AXL" generate --model "$OUT/stories260K" --prompt-ids 1 --max-new-tokens 256 --ignore-eos --output-ids >/dev/null
