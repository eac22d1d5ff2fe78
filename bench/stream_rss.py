#!/usr/bin/env python3
"""Peak RSS of streaming a pretraining dataset does not grow with the file: generates a 200 MB
and a 2 GB JSON Lines text file in /tmp (Shakespeare paragraphs in random order, 1-9 per
document), streams each through bench_stream_rss (pretrain strategy, packed rows of
--sequence-len tokens, the llama2/mistral 32k tokenizer) and prints one JSON line per file
with the peak RSS (VmHWM) and tokens/s. The files are deleted afterwards.

usage: stream_rss.py BENCH_STREAM_RSS FIXTURES_DIR [--threads N] [--max-rows N] [--sizes-mb 200,2000]
"""
import json, os, random, subprocess, sys, tempfile

bench, fix = sys.argv[1], sys.argv[2]
def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default
threads, max_rows = arg("--threads", "0"), arg("--max-rows", "0")
sizes = [int(s) for s in arg("--sizes-mb", "200,2000").split(",")]

with open(os.path.join(fix, "text/tinyshakespeare.txt")) as f:
    paragraphs = [p for p in f.read().split("\n\n") if p.strip()]
rng = random.Random(0)
pool = [json.dumps({"text": "\n\n".join(rng.choice(paragraphs) for _ in range(1 + i % 9))}) + "\n" for i in range(20000)]

def generate(path, mb):
    target = mb * 1_000_000
    written = 0
    with open(path, "w") as out:
        while written < target:
            block = "".join(rng.choice(pool) for _ in range(2000))
            out.write(block)
            written += len(block)

with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
    for mb in sizes:
        path = os.path.join(tmp, f"stream-{mb}mb.jsonl")
        generate(path, mb)
        try:
            out = subprocess.run([bench, "--tokenizer", os.path.join(fix, "tokenizers/lenml-llama2-mistral32k"),
                                  "--file", path, "--sequence-len", "2048", "--threads", threads,
                                  "--max-rows", max_rows], capture_output=True, text=True, check=True).stdout
        finally:
            os.remove(path)
        r = json.loads(out)
        r.update({"file_mb": mb, "max_rows": int(max_rows), "vmhwm_mib": round(r["vmhwm_kib"] / 1024, 1), "tokens_per_s": round(r["tokens_per_s"]),
                  "seconds": round(r["seconds"], 2)})
        print(json.dumps(r), flush=True)
