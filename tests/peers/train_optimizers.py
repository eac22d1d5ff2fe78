#!/usr/bin/env python3
"""Optimizer references for tests/train/test_optimizer.cpp.

Usage: .venv-peer/bin/python tests/peers/train_optimizers.py OUT_DIR

Three float32 parameters named like HF ones (a decayed weight, a bias and a norm weight, the
last two in the no-decay group as HF's Trainer groups them) take 4 steps of fixed random
gradients under each optimizer; writes OUT_DIR/optimizers.safetensors with the initial
values (init.<name>), the gradients (grad.<step>.<name>) and, per optimizer, the values after
every step (<optimizer>.<step>.<name>) and the final moments (<optimizer>.exp_avg.<name>).
Optimizers: adamw_torch_fused (AdamW fused=True), adamw_torch (AdamW foreach=False, the CPU
default path), adam (Adam with L2 weight_decay, foreach=False), sgd (momentum 0.9, wd 0.01).
"""
import os
import sys

import torch
from safetensors.torch import save_file

NAMES = ["model.layers.0.mlp.up_proj.weight", "model.layers.0.self_attn.q_proj.bias",
         "model.layers.0.input_layernorm.weight"]
SHAPES = [(6, 5), (6,), (5,)]
STEPS = 4
LR, WD = 1e-2, 0.1


def make(name, params):
    groups = [{"params": [params[0]], "weight_decay": WD}, {"params": params[1:], "weight_decay": 0.0}]
    if name == "adamw_torch_fused":
        return torch.optim.AdamW(groups, lr=LR, betas=(0.9, 0.95), eps=1e-8, fused=True)
    if name == "adamw_torch":
        return torch.optim.AdamW(groups, lr=LR, betas=(0.9, 0.95), eps=1e-8, foreach=False)
    if name == "adam":
        return torch.optim.Adam(groups, lr=LR, betas=(0.9, 0.95), eps=1e-8, foreach=False)
    if name == "sgd":
        return torch.optim.SGD(groups, lr=LR, momentum=0.9, foreach=False)
    raise ValueError(name)


def main(out):
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(7)
    init = [torch.randn(s, generator=g) for s in SHAPES]
    grads = [[torch.randn(s, generator=g) * (k + 1) for s in SHAPES] for k in range(STEPS)]
    tensors = {f"init.{n}": t for n, t in zip(NAMES, init)}
    for k in range(STEPS):
        for n, t in zip(NAMES, grads[k]):
            tensors[f"grad.{k}.{n}"] = t
    for opt_name in ["adamw_torch_fused", "adamw_torch", "adam", "sgd"]:
        params = [torch.nn.Parameter(t.clone()) for t in init]
        opt = make(opt_name, params)
        for k in range(STEPS):
            for p, gr in zip(params, grads[k]):
                p.grad = gr.clone()
            opt.step()
            for n, p in zip(NAMES, params):
                tensors[f"{opt_name}.{k}.{n}"] = p.detach().clone()
        for n, p in zip(NAMES, params):
            st = opt.state[p]
            if "exp_avg" in st:
                tensors[f"{opt_name}.exp_avg.{n}"] = st["exp_avg"].clone()
                tensors[f"{opt_name}.exp_avg_sq.{n}"] = st["exp_avg_sq"].clone()
            if st.get("momentum_buffer") is not None:
                tensors[f"{opt_name}.momentum_buffer.{n}"] = st["momentum_buffer"].clone()
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(out, "optimizers.safetensors"))


if __name__ == "__main__":
    main(sys.argv[1])
