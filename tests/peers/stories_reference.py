#!/usr/bin/env python3
"""transformers' view of our llama2.c conversion.

Usage: .venv-peer/bin/python tests/peers/stories_reference.py MODEL_DIR

MODEL_DIR is what `axolotl convert llama2c` wrote for stories260K. This loads it with
transformers alone (LlamaForCausalLM, eager attention) and writes MODEL_DIR/reference.safetensors
in the hf-tiny layout, so the C++ parity test compares our forward against transformers on the
converted weights: the check that the conversion (including the rotary row permutation) loads in
transformers and means the same model there.
"""
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch
from safetensors.torch import save_file
from transformers import LlamaForCausalLM

model_dir = sys.argv[1]
torch.manual_seed(0)
model = LlamaForCausalLM.from_pretrained(model_dir, attn_implementation="eager", dtype=torch.float32)
model.eval()
# The model's own greedy story (llama2.c's golden output) as text: a low loss here also says
# transformers sees the same pretrained model llama2.c ran.
fixtures = os.environ.get("AXOLOTL_FIXTURES", "../shared/fixtures")
with open(os.path.join(fixtures, "golden", "stories260K_greedy_256.json")) as f:
    story = json.load(f)["generated_ids"]
ids = torch.tensor([[1] + story[0:23], [1] + story[23:46]])
mask = torch.ones_like(ids)
pad_mask = mask.clone()
pad_mask[1, 18:] = 0
pad_labels = ids.clone()
pad_labels[pad_mask == 0] = -100
with torch.no_grad():
    out = model(input_ids=ids, attention_mask=mask, labels=ids, output_hidden_states=True)
    pad = model(input_ids=ids, attention_mask=pad_mask, labels=pad_labels)
ref = {
    "input_ids": ids, "attention_mask": mask, "logits": out.logits.float().contiguous(),
    "loss": out.loss.reshape(1).float(), "hidden_states": torch.stack(out.hidden_states).contiguous(),
    "pad_attention_mask": pad_mask, "pad_labels": pad_labels,
    "pad_logits": pad.logits.float().contiguous(), "pad_loss": pad.loss.reshape(1).float(),
}
save_file(ref, os.path.join(model_dir, "reference.safetensors"))
print(f"stories260K in transformers: loss {out.loss.item():.6f} pad_loss {pad.loss.item():.6f}")
