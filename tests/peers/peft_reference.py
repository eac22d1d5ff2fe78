"""References for tests/peft/test_lora_peer.cpp, from the live PEFT + transformers.

Usage: peft_reference.py DIR, where DIR holds base/ (our stories260K conversion), adapter/ (a
LoRA made and saved by our code) and merged/ (our merge-lora output). Writes
DIR/reference.safetensors: input_ids, peft_logits (base + adapter through PeftModel),
merged_logits (transformers alone on merged/) and base_logits.
"""
import sys

import torch
from peft import PeftModel
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM


def load(path):
    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32,
                                                attn_implementation="eager").eval()


def main(root):
    torch.manual_seed(0)
    base = load(f"{root}/base")
    vocab = base.config.vocab_size
    ids = torch.randint(0, vocab, (2, 24), generator=torch.Generator().manual_seed(1234))
    with torch.no_grad():
        base_logits = base(input_ids=ids).logits
        peft = PeftModel.from_pretrained(base, f"{root}/adapter").eval()
        peft_logits = peft(input_ids=ids).logits
        merged_logits = load(f"{root}/merged")(input_ids=ids).logits
    save_file({"input_ids": ids.contiguous(), "base_logits": base_logits.contiguous(),
               "peft_logits": peft_logits.contiguous(), "merged_logits": merged_logits.contiguous()},
              f"{root}/reference.safetensors")
    print(f"peft_reference: adapter moves the logits by {(peft_logits - base_logits).abs().max():.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
