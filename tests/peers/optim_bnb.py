#!/usr/bin/env python3
"""bitsandbytes and transformers optimizer references for tests/train/test_optim_bnb.cpp.

Usage: .venv-peer/bin/python tests/peers/optim_bnb.py OUT_DIR

Three float32 parameters named like HF ones (a 70x75 weight: 5250 elements, over bitsandbytes'
4096-element 8-bit threshold and with a partial last 256-block; a bias and a norm weight, small
enough for bitsandbytes' fp32 fallback) take 5 steps of fixed random gradients under each
optimizer as HF's Trainer builds it (decay group / no-decay group). Writes
OUT_DIR/optim_bnb.safetensors with init.<name>, grad.<step>.<name>, <optimizer>.<step>.<name>
(values after each step) and the final state tensors as <optimizer>.<state key>.<name>
(bitsandbytes: state1/state2 uint8 codes or fp32 moments, absmax1/absmax2, qmap1/qmap2;
Adafactor: exp_avg_sq_row/exp_avg_sq_col/exp_avg_sq).
"""
import os
import sys

import bitsandbytes as bnb
import torch
from safetensors.torch import save_file
from transformers.optimization import Adafactor

NAMES = ["model.layers.0.mlp.up_proj.weight", "model.layers.0.self_attn.q_proj.bias",
         "model.layers.0.input_layernorm.weight"]
SHAPES = [(70, 75), (75,), (75,)]
STEPS = 5
WD = 0.1
BETAS = (0.9, 0.95)


def make(name, params):
    groups = [{"params": [params[0]], "weight_decay": WD}, {"params": params[1:], "weight_decay": 0.0}]
    paged = name.startswith("paged_")
    bits = 8 if "8bit" in name else 32
    if "adamw" in name:
        return bnb.optim.AdamW(groups, lr=1e-2, betas=BETAS, eps=1e-8, optim_bits=bits, is_paged=paged)
    if "lion" in name:
        return bnb.optim.Lion(groups, lr=1e-3, betas=BETAS, optim_bits=bits, is_paged=paged)
    if name == "adafactor":  # what HF's Trainer passes for optim=adafactor
        return Adafactor(groups, lr=1e-2, scale_parameter=False, relative_step=False)
    raise ValueError(name)


OPTIMIZERS = ["adamw_8bit", "paged_adamw_8bit", "paged_adamw_32bit", "lion_8bit", "lion_32bit",
              "paged_lion_8bit", "paged_lion_32bit", "adafactor"]


def main(out):
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(11)
    init = [torch.randn(s, generator=g) for s in SHAPES]
    grads = [[torch.randn(s, generator=g) * (0.5 + k) for s in SHAPES] for k in range(STEPS)]
    # One block of the big weight's gradient is zero at the first step: an all-zero block
    # (absmax 0) is an edge case of the quantiser.
    grads[0][0].view(-1)[256:512] = 0
    tensors = {f"init.{n}": t for n, t in zip(NAMES, init)}
    for k in range(STEPS):
        for n, t in zip(NAMES, grads[k]):
            tensors[f"grad.{k}.{n}"] = t
    for opt_name in OPTIMIZERS:
        params = [torch.nn.Parameter(t.clone()) for t in init]
        opt = make(opt_name, params)
        for k in range(STEPS):
            for p, gr in zip(params, grads[k]):
                p.grad = gr.clone()
            opt.step()
            for n, p in zip(NAMES, params):
                tensors[f"{opt_name}.{k}.{n}"] = p.detach().clone()
        for n, p in zip(NAMES, params):
            for key, v in opt.state[p].items():
                if torch.is_tensor(v) and key != "step":
                    tensors[f"{opt_name}.{key}.{n}"] = v.detach().clone()
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(out, "optim_bnb.safetensors"))


if __name__ == "__main__":
    main(sys.argv[1])
