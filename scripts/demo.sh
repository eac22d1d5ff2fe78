#!/usr/bin/env bash
# `make demo`: the main job as far as it exists today. Converts the real pretrained
# stories260K (llama2.c) into a Hugging Face folder, checks its greedy output against
# llama2.c's, samples a story, and runs a forward pass for loss and logits.
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
decode() {  # ids -> text, when a Python with sentencepiece is at hand (text prompts arrive with the tokenizer issue)
  local py=.venv-peer/bin/python; [ -x $py ] || return 0
  $py -c 'import sys,sentencepiece as s;print("text:",s.SentencePieceProcessor(model_file=sys.argv[1]).decode([int(i) for i in sys.argv[2].split()])[:300],"...")' "$S/tok512.model" "$1" 2>/dev/null || true
}
decode "$ids"
echo "== sampled (temperature 0.8, top-p 0.9, seed 42)"
sampled=$("$AXL" generate --model "$OUT/stories260K" --prompt-ids 1 --max-new-tokens 64 --temperature 0.8 --top-p 0.9 --seed 42 --output-ids)
echo "$sampled"; decode "$sampled"
echo "== timing"
time "$AXL" generate --model "$OUT/stories260K" --prompt-ids 1 --max-new-tokens 256 --ignore-eos --output-ids >/dev/null
