"""Axolotl 0.19's own streaming rows for tests/data/test_token_stream.cpp.

Writes OUT/stream/docs.jsonl (120 documents of 1..9 Shakespeare paragraphs) and, from the real
Axolotl functions on the lenml llama2/mistral tokenizer (PAD = EOS, as our rows pad without a
PAD token):
  encode_concat.json   utils/data/streaming.encode_streaming(concatenate=True), max_tokens 64,
                       all documents as one map batch: input_ids, labels, attention_mask rows
  encode_plain.json    the same with concatenate=False (one document per row, unpadded)
  pretrain.json        prompt_strategies/pretrain windows (sequence_len 64) per document, the
                       samples the packed streaming path packs
Usage: python stream_axolotl.py OUT_DIR FIXTURES_DIR
"""
import json
import os
import sys

from transformers import AutoTokenizer

from axolotl.prompt_strategies.pretrain import PretrainTokenizationStrategy, PretrainTokenizer
from axolotl.utils.data.streaming import encode_streaming

out, fix = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(out, "stream"), exist_ok=True)
with open(os.path.join(fix, "text/tinyshakespeare.txt")) as f:
    paragraphs = [p for p in f.read().split("\n\n")]
docs, p = [], 0
for i in range(120):
    docs.append("\n\n".join(paragraphs[p + k] for k in range(1 + i % 9)))
    p += 1 + i % 9
with open(os.path.join(out, "stream/docs.jsonl"), "w") as f:
    for d in docs:
        f.write(json.dumps({"text": d}) + "\n")

tok = AutoTokenizer.from_pretrained(os.path.join(fix, "tokenizers/lenml-llama2-mistral32k"))
if tok.pad_token is None:
    tok.pad_token = tok.eos_token
for name, concat in (("encode_concat", True), ("encode_plain", False)):
    rows = encode_streaming({"text": docs}, tok, 64, concatenate=concat)
    with open(os.path.join(out, f"stream/{name}.json"), "w") as f:
        json.dump({k: [[int(x) for x in r] for r in v] for k, v in rows.items()}, f)

strategy = PretrainTokenizationStrategy(PretrainTokenizer(), tok, False, 64, max_length=64)
with open(os.path.join(out, "stream/pretrain.json"), "w") as f:
    json.dump([strategy.tokenize_prompt({"text": d})["input_ids"] for d in docs], f)
