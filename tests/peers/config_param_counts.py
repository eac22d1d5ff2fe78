#!/usr/bin/env python3
"""Independent parameter counts for tests/config/test_plan.cpp (pasted there as constants).

Builds each hf-tiny model with transformers, wraps it with PEFT, and prints the total and
trainable parameter counts. Run: .venv-peer/bin/python tests/peers/config_param_counts.py FIXTURES
"""
import sys

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoConfig, AutoModelForCausalLM

fixtures = sys.argv[1]


def linear_names(model):
    """Every nn.Linear/Conv1D leaf name except lm_head (Axolotl's lora_target_linear)."""
    names = set()
    for name, mod in model.named_modules():
        if type(mod).__name__ in ("Linear", "Conv1D") and "lm_head" not in name:
            names.add(name.split(".")[-1])
    return sorted(names)


def counts(family, **lora):
    cfg = AutoConfig.from_pretrained(f"{fixtures}/hf-tiny/{family}")
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(cfg)
    total = sum(p.numel() for p in model.parameters())
    if not lora:
        return total, total
    if lora.pop("target_linear", False):
        lora["target_modules"] = linear_names(model)
    peft_model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **lora))
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    return total, trainable


cases = [
    ("LlamaForCausalLM", {}),
    ("LlamaForCausalLM", dict(r=4, lora_alpha=8, target_linear=True)),
    ("LlamaForCausalLM", dict(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"])),
    ("LlamaForCausalLM", dict(r=4, lora_alpha=8, target_linear=True, use_dora=True)),
    ("LlamaForCausalLM", dict(r=4, lora_alpha=8, target_linear=True, modules_to_save=["embed_tokens", "lm_head"])),
    ("MistralForCausalLM", dict(r=4, lora_alpha=8, target_linear=True)),
    ("Qwen2ForCausalLM", dict(r=4, lora_alpha=8, target_linear=True)),
    ("GemmaForCausalLM", dict(r=4, lora_alpha=8, target_linear=True)),
    ("Phi3ForCausalLM", dict(r=4, lora_alpha=8, target_linear=True)),
    ("GPT2LMHeadModel", dict(r=4, lora_alpha=8, target_linear=True)),
]
for family, lora in cases:
    desc = ",".join(f"{k}={v}" for k, v in lora.items()) or "full"
    total, trainable = counts(family, **dict(lora))
    print(f"{family} {desc}: total {total} trainable {trainable}")
