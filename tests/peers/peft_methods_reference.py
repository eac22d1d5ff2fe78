"""References for tests/peft/test_methods_peer.cpp, from the live PEFT + transformers.

Usage: peft_methods_reference.py DIR METHOD..., where DIR holds base/ (our stories260K
conversion) and, per method, METHOD/train.rc (the exit status of `axolotl train`) and
METHOD/adapter/ (the adapter it saved). For every method that trained, writes
METHOD/reference.safetensors: input_ids, base_logits (transformers alone), peft_logits (base +
adapter through PeftModel.from_pretrained) and, where PEFT can merge the method,
merged_logits (after merge_and_unload). METHOD/peft.json says what happened: {"ok": true,
"peft_type": ..., "config": {...}} or {"ok": false, "error": "..."}. One method failing
(not trained, or PEFT refusing the files) never stops the others.
"""
import json
import os
import sys
import traceback

import torch
import peft.tuners.boft.layer as boft_layer
from peft import PeftModel
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM
from transformers.utils import logging as hf_logging

# BOFT would try to compile its optional CUDA extension (minutes, and it fails on a CPU-only
# machine); without it PEFT builds butterfly factor 1, which is what the YAML asks for anyway.
boft_layer._FBD_CUDA = False
hf_logging.disable_progress_bar()

# PEFT's prompt-learning methods change the input, not the weights: nothing to merge.
UNMERGEABLE = {"PREFIX_TUNING", "PROMPT_TUNING", "P_TUNING"}


def load_base(path):
    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager").eval()


def reference_for(root, method, ids, base_logits):
    adapter_dir = f"{root}/{method}/adapter"
    with open(f"{adapter_dir}/adapter_config.json") as f:
        config = json.load(f)
    # PeftModel wraps (and changes) the model it gets: a fresh base per method.
    peft = PeftModel.from_pretrained(load_base(f"{root}/base"), adapter_dir).eval()
    with torch.no_grad():
        out = {"input_ids": ids, "base_logits": base_logits, "peft_logits": peft(input_ids=ids).logits}
        if config["peft_type"] not in UNMERGEABLE:
            out["merged_logits"] = peft.merge_and_unload()(input_ids=ids).logits
    save_file({k: v.contiguous() for k, v in out.items()}, f"{root}/{method}/reference.safetensors")
    # Prompt tuning puts the virtual positions first: compare the real ones with the base.
    real = out["peft_logits"][:, -ids.shape[1]:]
    moved = (real - base_logits).abs().max().item()
    return {"ok": True, "peft_type": config["peft_type"], "config": config, "moved": moved}


def main(root, methods):
    base = load_base(f"{root}/base")
    ids = torch.randint(3, base.config.vocab_size, (2, 24), generator=torch.Generator().manual_seed(4321))
    with torch.no_grad():
        base_logits = base(input_ids=ids).logits
    for method in methods:
        rc_file = f"{root}/{method}/train.rc"
        if not os.path.exists(rc_file):
            result = {"ok": False, "error": "not trained (no train.rc)"}
        elif open(rc_file).read().strip() != "0":
            result = {"ok": False, "error": "axolotl train failed; see train.log"}
        else:
            try:
                result = reference_for(root, method, ids, base_logits)
            except Exception as e:  # any PEFT refusal is this method's result, not the run's
                result = {"ok": False, "error": f"{type(e).__name__}: {e}",
                          "traceback": traceback.format_exc(limit=4)}
        with open(f"{root}/{method}/peft.json", "w") as f:
            json.dump(result, f, indent=1)
        print(f"peft_methods_reference: {method}: " +
              (f"ok, adapter moves logits by {result['moved']:.4f}" if result["ok"] else result["error"]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
