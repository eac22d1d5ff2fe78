#!/usr/bin/env python3
"""A full fine-tuning step of the hf-tiny Llama in torch + transformers, for
tests/train/test_train_step.cpp.

Usage: .venv-peer/bin/python tests/peers/train_step.py OUT_DIR FIXTURES_DIR

Two optimizer steps on the same accumulated batch of two micro-batches of unequal length
(micro-batch 0: [2, 12] with row 1 right-padded from position 9, labels -100 there and on the
first 3 prompt tokens of row 0; micro-batch 1: [1, 16]). Each micro-batch's loss is the SUM of
token cross-entropies (shifted, -100 ignored) divided by the trained tokens of both
micro-batches together; backward per micro-batch; clip_grad_norm_(1.0); AdamW(fused=True,
lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0.01) over HF's two parameter groups
(Trainer.get_decay_parameter_names); constant lr. Eager attention, float32, CPU, train mode.
Writes OUT_DIR/train_step.safetensors: the micro-batches (mb<i>.input_ids/labels/attention_mask),
loss.<k> and grad_norm.<k> (pre-clip) per step, and every parameter after step k as
step<k>.<name>.
"""
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import LlamaForCausalLM, Trainer


def main(out, fixtures):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = LlamaForCausalLM.from_pretrained(os.path.join(fixtures, "hf-tiny/LlamaForCausalLM"),
                                             attn_implementation="eager", torch_dtype=torch.float32)
    model.train()
    g = torch.Generator().manual_seed(99)
    ids0 = torch.randint(0, 256, (2, 12), generator=g)
    mask0 = torch.ones_like(ids0)
    mask0[1, 9:] = 0
    labels0 = ids0.clone()
    labels0[1, 9:] = -100
    labels0[0, :3] = -100
    ids1 = torch.randint(0, 256, (1, 16), generator=g)
    batches = [(ids0, labels0, mask0), (ids1, ids1.clone(), torch.ones_like(ids1))]
    n_items = sum(int((lab[:, 1:] != -100).sum()) for _, lab, _ in batches)

    decay = set(Trainer.get_decay_parameter_names(None, model))
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [{"params": [p for n, p in params if n in decay], "weight_decay": 0.01},
              {"params": [p for n, p in params if n not in decay], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, fused=True)

    tensors = {}
    for i, (ids, lab, mask) in enumerate(batches):
        tensors[f"mb{i}.input_ids"], tensors[f"mb{i}.labels"], tensors[f"mb{i}.attention_mask"] = ids, lab, mask
    for k in range(2):
        total = torch.zeros((), dtype=torch.float64)
        for ids, lab, mask in batches:
            logits = model(input_ids=ids, attention_mask=mask).logits
            v = logits.size(-1)
            summed = torch.nn.functional.cross_entropy(
                logits[:, :-1].reshape(-1, v).float(), lab[:, 1:].reshape(-1), ignore_index=-100, reduction="sum")
            loss = summed / n_items
            loss.backward()
            total += loss.detach().double()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        tensors[f"loss.{k}"] = total.reshape(1)
        tensors[f"grad_norm.{k}"] = norm.detach().reshape(1)
        for n, p in model.named_parameters():
            tensors[f"step{k}.{n}"] = p.detach().clone()
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(out, "train_step.safetensors"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
