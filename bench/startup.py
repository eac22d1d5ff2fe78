#!/usr/bin/env python3
"""Start-up time of `axolotl --help`, `--version` and, given the fixtures folder, `validate` on a
real Axolotl config (no --data): median of 10 runs, one JSON line each.

usage: startup.py AXOLOTL_BIN [FIXTURES_DIR]
"""
import json, statistics, subprocess, sys, time

axl = sys.argv[1]
cases = [["--help"], ["--version"]]
if len(sys.argv) > 2:
    fix = sys.argv[2]
    cases.append(["validate", f"{fix}/axolotl-configs/examples__llama-3__lora-1b.yml",
                  "--base-model", f"{fix}/hf-tiny/LlamaForCausalLM", "--optimizer", "adamw_torch",
                  f"--datasets.0.path={fix}/datasets/alpaca/stanford_alpaca_data_1k.json"])
for args in cases:
    times = []
    for _ in range(11):
        t0 = time.perf_counter()
        subprocess.run([axl, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t0) * 1000)
    times = times[1:]  # the first run warms the page cache
    print(json.dumps({"bench": "startup", "command": "axolotl " + args[0],
                      "median_ms": round(statistics.median(times), 2), "runs": len(times)}))
