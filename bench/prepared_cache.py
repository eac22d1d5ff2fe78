#!/usr/bin/env python3
"""`axolotl preprocess` on the fixture Alpaca data (both files, llama3 tokenizer,
sequence_len 512, val_set_size 0.05): cold (--rebuild-cache: tokenize and write the cache) vs
cache hit (map the cache). Median of 5 runs each; one JSON line per case. `prepare_s` is the
preparing alone as preprocess reports it; `wall_s` is the whole process (tokenizer load included).

usage: prepared_cache.py AXOLOTL_BIN FIXTURES_DIR [--threads N]
"""
import json, re, statistics, subprocess, sys, tempfile, time, os

axl, fix = sys.argv[1], sys.argv[2]
threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "0"
with tempfile.TemporaryDirectory() as tmp:
    cfg = os.path.join(tmp, "alpaca.yml")
    with open(cfg, "w") as f:
        f.write(f"""base_model: {fix}/tokenizers/llama3
sequence_len: 512
val_set_size: 0.05
dataset_prepared_path: {tmp}/prepared
datasets:
  - path: {fix}/datasets/alpaca/stanford_alpaca_data_1k.json
    type: alpaca
  - path: {fix}/datasets/alpaca/llamafactory_alpaca_en_demo.json
    type: alpaca
micro_batch_size: 1
learning_rate: 0.0001
""")
    for case, extra in (("cold", ["--rebuild-cache"]), ("hit", [])):
        prep, wall = [], []
        for _ in range(5):
            t0 = time.perf_counter()
            out = subprocess.run([axl, "preprocess", cfg, "--threads", threads, *extra], capture_output=True,
                                 text=True, check=True).stdout
            wall.append(time.perf_counter() - t0)
            prep.append(float(re.search(r"prepared in ([0-9.e-]+) s", out).group(1)))
            want = "wrote" if case == "cold" else "reusing"
            assert f"dataset cache: {want}" in out, out
        print(json.dumps({"bench": "prepared_cache", "case": case, "rows": 1999, "threads": int(threads),
                          "prepare_s": round(statistics.median(prep), 4),
                          "wall_s": round(statistics.median(wall), 3), "runs": len(prep)}))
