"""References for tests/peft/test_adapter_set.cpp from the live PEFT: several LoRA adapters on one
hf-tiny Llama, and PEFT's add_weighted_adapter over two of them with weights 0.7 / 0.3.

Usage: peft_weighted_reference.py FIXTURES_DIR OUT_DIR. The two adapters are the fixture's lora/
("first", lora_alpha / r = 2) and methods/lora_rslora/ ("second", rsLoRA: scaling 4), both r 4
on the same seven projections. Writes OUT_DIR/reference.safetensors with input_ids,
logits_first, logits_second, logits_both (both active at once) and logits_<case> for each
combination case, and saves each combined adapter with save_pretrained under OUT_DIR/<case>/
(adapter_config.json + adapter_model.safetensors), as PEFT writes it.
"""
import os
import sys

import torch
from peft import PeftModel
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM

# name -> add_weighted_adapter keyword arguments
CASES = {
    "linear": dict(combination_type="linear"),
    "cat": dict(combination_type="cat"),
    "svd": dict(combination_type="svd"),
    "svd_rank3_clamp": dict(combination_type="svd", svd_rank=3, svd_clamp=0.95),
    "linear_negative": dict(combination_type="linear", weights=[0.7, -0.3]),
}


def main(fixtures, out):
    llama = f"{fixtures}/hf-tiny/LlamaForCausalLM"
    ids = load_file(f"{llama}/reference.safetensors")["input_ids"]
    base = AutoModelForCausalLM.from_pretrained(llama, dtype=torch.float32, attn_implementation="eager").eval()
    model = PeftModel.from_pretrained(base, f"{llama}/lora", adapter_name="first").eval()
    model.load_adapter(f"{llama}/methods/lora_rslora", adapter_name="second")
    refs = {"input_ids": ids.contiguous()}

    def logits():
        with torch.no_grad():
            return model(input_ids=ids).logits.contiguous()

    model.set_adapter("first")
    refs["logits_first"] = logits()
    model.set_adapter("second")
    refs["logits_second"] = logits()
    model.base_model.set_adapter(["first", "second"])
    refs["logits_both"] = logits()
    with model.disable_adapter():
        refs["logits_base"] = logits()

    for case, kwargs in CASES.items():
        kwargs = dict(kwargs)
        weights = kwargs.pop("weights", [0.7, 0.3])
        model.add_weighted_adapter(["first", "second"], weights, case, **kwargs)
        model.set_adapter(case)
        refs[f"logits_{case}"] = logits()
        model.save_pretrained(out, selected_adapters=[case])
    save_file(refs, f"{out}/reference.safetensors")
    moved = (refs["logits_linear"] - refs["logits_base"]).abs().max().item()
    print(f"peft_weighted_reference: {len(CASES)} combinations; linear moves the logits by {moved:.3f}")


if __name__ == "__main__":
    os.makedirs(sys.argv[2], exist_ok=True)
    main(sys.argv[1], sys.argv[2])
