#!/usr/bin/env python3
"""Live `tokenizers` ids for a few MB of varied text, for tests/tokenizer/test_peer_corpus.cpp.

Usage: .venv-peer/bin/python tests/peers/tokenizer_corpus_reference.py OUT_DIR FIXTURES_DIR

Docs: Tiny Shakespeare in ~2 KB paragraphs, and every text field of the alpaca, ShareGPT
(including the multilingual sharegpt_v3 sample) and chat-messages fixtures. Writes
OUT_DIR/docs.jsonl (one JSON string per line: the exact texts) and, per fixture tokenizer,
OUT_DIR/<name>.ids.bin (uint32 little-endian, all docs back to back, add_special_tokens=False)
and OUT_DIR/<name>.index.bin (uint64 little-endian token count per doc).
"""
import gzip, json, os, struct, sys
from tokenizers import Tokenizer

out_dir, fix = sys.argv[1], sys.argv[2]
os.makedirs(out_dir, exist_ok=True)

docs = []
text = open(os.path.join(fix, "text", "tinyshakespeare.txt"), encoding="utf-8").read()
para = ""
for block in text.split("\n\n"):
    para += block + "\n\n"
    if len(para) > 2000:
        docs.append(para)
        para = ""
docs.append(para)


def strings(x):
    if isinstance(x, str):
        yield x
    elif isinstance(x, list):
        for v in x:
            yield from strings(v)
    elif isinstance(x, dict):
        for k, v in x.items():
            if k not in ("id", "from", "role", "label"):
                yield from strings(v)


for rel in ("alpaca/llamafactory_alpaca_en_demo.json", "alpaca/stanford_alpaca_data_1k.json",
            "sharegpt/sharegpt_v3_sample500.json", "sharegpt/llamafactory_glaive_toolcall_en_demo.json",
            "sharegpt/fastchat_dummy_conversation.json", "chat-messages/llamafactory_kto_en_demo.json"):
    with open(os.path.join(fix, "datasets", rel), encoding="utf-8") as f:
        docs.extend(s for s in strings(json.load(f)) if s)

with open(os.path.join(out_dir, "docs.jsonl"), "w", encoding="utf-8") as f:
    for d in docs:
        f.write(json.dumps(d, ensure_ascii=False) + "\n")

for name in ("llama3", "qwen3", "gemma3", "lenml-llama2-mistral32k"):
    path = os.path.join(fix, "tokenizers", name, "tokenizer.json")
    if os.path.exists(path):
        tok = Tokenizer.from_file(path)
    else:
        with gzip.open(path + ".gz", "rt", encoding="utf-8") as f:
            tok = Tokenizer.from_str(f.read())
    encs = tok.encode_batch(docs, add_special_tokens=False)
    with open(os.path.join(out_dir, name + ".ids.bin"), "wb") as f:
        for e in encs:
            f.write(struct.pack(f"<{len(e.ids)}I", *e.ids))
    with open(os.path.join(out_dir, name + ".index.bin"), "wb") as f:
        f.write(struct.pack(f"<{len(encs)}Q", *[len(e.ids) for e in encs]))
    print(f"tokenizer corpus: {name}: {len(docs)} docs, {sum(len(e.ids) for e in encs)} tokens")
