#!/usr/bin/env python3
"""The peers of bench_optim_step: bitsandbytes AdamW8bit / Lion 8-bit and transformers Adafactor, one
step on a 2048x2048 float32 weight (CPU), JSON lines. Usage: .venv-peer/bin/python bench/optim_step_peer.py"""
import torch, time, json, bitsandbytes as bnb
from transformers.optimization import Adafactor
for name, mk in [("adamw_bnb_8bit", lambda p: bnb.optim.AdamW([p], lr=1e-3, weight_decay=0.01, optim_bits=8)),
                 ("lion_8bit", lambda p: bnb.optim.Lion([p], lr=1e-3, weight_decay=0.01, optim_bits=8)),
                 ("adafactor", lambda p: Adafactor([p], lr=1e-3, scale_parameter=False, relative_step=False))]:
    p = torch.nn.Parameter(torch.randn(2048, 2048)); o = mk(p); ts = []
    for s in range(7):
        p.grad = torch.randn_like(p); t = time.perf_counter(); o.step(); ts.append(time.perf_counter() - t)
    ts = sorted(ts[2:])
    print(json.dumps({"bench": "optim_step_peer", "device": "cpu", "optimizer": name, "impl": "bitsandbytes/transformers", "elements": p.numel(), "ms_per_step": round(ts[len(ts)//2]*1e3, 3)}))
