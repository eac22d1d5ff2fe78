#!/usr/bin/env python3
"""Tokenizer speed: ours (bench_tokenizer, C++) and the Rust Hugging Face `tokenizers` (PyPI), in
one run, on the same machine and the same input: Tiny Shakespeare as one string and as a batch of
its lines, for each fixture tokenizer, one thread and all cores. One JSON line per case with MB/s
for both and the ratio. Run with the peer venv's python (it has `tokenizers`).

usage: tokenizer.py BENCH_TOKENIZER_BIN FIXTURES_DIR [REPEATS]
"""
import gzip, json, os, shutil, subprocess, sys, tempfile, time

bench_bin, fix = sys.argv[1], sys.argv[2]
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 5
text_path = os.path.join(fix, "text", "tinyshakespeare.txt")
text = open(text_path, encoding="utf-8").read()
lines = text.split("\n")
mb = len(text.encode("utf-8")) / 1e6
cores = os.cpu_count() or 1

tmp = tempfile.mkdtemp()
tok_files = {}
for name in ("llama3", "qwen3", "gemma3", "lenml-llama2-mistral32k"):
    d = os.path.join(fix, "tokenizers", name)
    dst = os.path.join(tmp, name)
    os.makedirs(dst)
    for f in os.listdir(d):
        src = os.path.join(d, f)
        if f.endswith(".gz"):
            with gzip.open(src, "rb") as a, open(os.path.join(dst, f[:-3]), "wb") as b:
                shutil.copyfileobj(a, b)
        else:
            shutil.copy(src, dst)
    tok_files[name] = dst


def rust_run(name, mode, threads):
    # RAYON_NUM_THREADS is read once per process, so each thread count gets its own process.
    code = f"""
import time, json, sys
from tokenizers import Tokenizer
tok = Tokenizer.from_file({os.path.join(tok_files[name], 'tokenizer.json')!r})
text = open({text_path!r}, encoding='utf-8').read()
lines = text.split('\\n')
best = 1e9; n = 0
for _ in range({repeats}):
    t0 = time.perf_counter()
    if {mode!r} == 'one_string':
        n = len(tok.encode(text, add_special_tokens=False).ids)
    else:
        n = sum(len(e.ids) for e in tok.encode_batch(lines, add_special_tokens=False))
    best = min(best, time.perf_counter() - t0)
print(json.dumps({{'seconds': best, 'tokens': n}}))
"""
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="true")
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ours_run(name, mode, threads):
    out = subprocess.run([bench_bin, "--tokenizer", tok_files[name], "--file", text_path, "--mode", mode,
                          "--threads", str(threads), "--repeats", str(repeats)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


try:
    for name in tok_files:
        for mode in ("one_string", "lines"):
            for threads in sorted({1, cores}):
                if mode == "one_string" and threads > 1:
                    continue  # one string is one sequential encode in both libraries
                r = rust_run(name, mode, threads)
                o = ours_run(name, mode, threads)
                ours_mbs, rust_mbs = mb / o["seconds"], mb / r["seconds"]
                print(json.dumps({
                    "bench": "tokenizer", "tokenizer": name, "input": "tinyshakespeare", "mode": mode,
                    "threads": threads, "mb": round(mb, 3),
                    "ours_mb_per_s": round(ours_mbs, 2), "hf_tokenizers_mb_per_s": round(rust_mbs, 2),
                    "ratio": round(ours_mbs / rust_mbs, 2),
                    "ours_tokens": o["tokens"], "hf_tokens": r["tokens"],
                    "same_token_count": o["tokens"] == r["tokens"]}), flush=True)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
