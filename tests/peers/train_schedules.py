#!/usr/bin/env python3
"""LR schedule references for tests/train/test_lr_schedule.cpp.

Usage: .venv-peer/bin/python tests/peers/train_schedules.py OUT_DIR

Writes OUT_DIR/schedules.json: a list of cases, each with the schedule name, base lr, total
steps, the warmup as given (steps or ratio) and as resolved by transformers'
TrainingArguments.get_warmup_steps, the kwargs, and the lr every optimizer step uses (the
scheduler's get_last_lr() before its step()); one_cycle also records beta1 per step.
Schedules come from transformers.get_scheduler, Axolotl's get_cosine_schedule_with_min_lr
(`lr_scheduler: cosine` + `cosine_min_lr_ratio`) and torch OneCycleLR mapped as Axolotl's
SchedulerMixin does (pct_start = warmup / total, anneal_strategy cos).
"""
import json
import os
import sys
from types import SimpleNamespace

import torch
from torch.optim.lr_scheduler import OneCycleLR
from transformers import TrainingArguments, get_scheduler
from axolotl.utils.schedulers import get_cosine_schedule_with_min_lr

BASE_LR = 3e-4
SETTINGS = [  # (total, warmup as given)
    (50, {"warmup_steps": 0}),
    (50, {"warmup_steps": 5}),
    (37, {"warmup_ratio": 0.1}),   # ceil(3.7) = 4
    (100, {"warmup_ratio": 0.03}),  # ceil(3.0000000000000004) = 4 in floating point
    (10, {"warmup_steps": 10}),
]


def resolved_warmup(total, given):
    value = given.get("warmup_steps", given.get("warmup_ratio"))
    return TrainingArguments.get_warmup_steps(SimpleNamespace(warmup_steps=value), total)


def run(make, total, beta=False):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=BASE_LR, betas=(0.9, 0.999))
    sched = make(opt)
    lrs, betas = [], []
    for _ in range(total):
        lrs.append(sched.get_last_lr()[0])
        betas.append(opt.param_groups[0]["betas"][0])
        opt.step()
        sched.step()
    return lrs, (betas if beta else None)


def main(out):
    os.makedirs(out, exist_ok=True)
    cases = []
    for total, given in SETTINGS:
        w = resolved_warmup(total, given)
        hf = [
            ("constant", {}), ("constant_with_warmup", {}), ("linear", {}), ("cosine", {}),
            ("cosine_with_min_lr", {"min_lr_rate": 0.1}), ("polynomial", {"power": 2.0, "lr_end": 1e-6}),
        ]
        for name, kwargs in hf:
            if name == "polynomial" and w >= total:
                continue  # transformers divides by total - warmup
            lrs, _ = run(lambda o: get_scheduler(name, o, num_warmup_steps=w, num_training_steps=total,
                                                 scheduler_specific_kwargs=dict(kwargs)), total)
            cases.append({"schedule": name, "kwargs": kwargs, "lrs": lrs})
        lrs, _ = run(lambda o: get_cosine_schedule_with_min_lr(o, num_warmup_steps=w, num_training_steps=total,
                                                               min_lr_ratio=0.2), total)
        cases.append({"schedule": "axolotl_cosine_min_lr", "kwargs": {"cosine_min_lr_ratio": 0.2}, "lrs": lrs})
        if w != 1 and w < total:
            lrs, betas = run(lambda o: OneCycleLR(o, max_lr=BASE_LR, total_steps=total, pct_start=w / total,
                                                  anneal_strategy="cos"), total, beta=True)
            cases.append({"schedule": "one_cycle", "kwargs": {}, "lrs": lrs, "beta1": betas})
        for c in cases:
            c.setdefault("total", total)
            c.setdefault("warmup_given", given)
            c.setdefault("warmup", w)
            c.setdefault("base_lr", BASE_LR)
    with open(os.path.join(out, "schedules.json"), "w") as f:
        json.dump({"transformers": __import__("transformers").__version__, "cases": cases}, f)


if __name__ == "__main__":
    main(sys.argv[1])
