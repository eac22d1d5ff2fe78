"""Peer check of `axolotl merge-lora --max-shard-size`: transformers (.venv-peer) loads our
sharded merged folder (model-0000K-of-0000N.safetensors + index) and must give the logits our
unsharded merge gives (`axolotl forward`), within 1e-4.

  python sharded_merge_peer.py input OUT.safetensors          # writes input_ids [2, 24]
  python sharded_merge_peer.py compare SHARDED_DIR INPUT OURS  # exit 1 when they differ
"""
import sys

import torch
from safetensors.torch import load_file, save_file


def main():
    if sys.argv[1] == "input":
        g = torch.Generator().manual_seed(7)
        save_file({"input_ids": torch.randint(3, 500, (2, 24), generator=g)}, sys.argv[2])
        return 0
    from transformers import AutoModelForCausalLM

    folder, input_path, ours_path = sys.argv[2:5]
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model.eval()
    ids = load_file(input_path)["input_ids"]
    with torch.no_grad():
        theirs = model(input_ids=ids).logits
    ours = load_file(ours_path)["logits"].to(torch.float32)
    diff = (theirs - ours).abs().max().item()
    print(f"sharded merge in transformers vs our unsharded merge: max |logit diff| {diff:.3g}")
    return 0 if diff <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
