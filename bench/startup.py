#!/usr/bin/env python3
"""Start-up time of `axolotl --help` and `--version`: median of 10 runs, one JSON line each."""
import json, statistics, subprocess, sys, time

axl = sys.argv[1]
for args in (["--help"], ["--version"]):
    times = []
    for _ in range(11):
        t0 = time.perf_counter()
        subprocess.run([axl, *args], stdout=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t0) * 1000)
    times = times[1:]  # the first run warms the page cache
    print(json.dumps({"bench": "startup", "command": "axolotl " + args[0],
                      "median_ms": round(statistics.median(times), 2), "runs": len(times)}))
