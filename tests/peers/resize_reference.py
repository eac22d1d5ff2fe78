"""References for the new-token tests (see refs-resize.sh).

prepare OUT FIX: writes OUT/tokenizers.json (per fixture tokenizer: the ids of TEXTS and
len(tokenizer) after Axolotl's additions, made by live transformers/tokenizers), a small
dataset using the new token and OUT/run.yml (a LoRA run of stories260K with `tokens:`).
check OUT FIX: loads what our `axolotl train` wrote to OUT/lora as a user would (tokenizer
from the output folder, base resized to len(tokenizer), PeftModel.from_pretrained) and writes
OUT/reference.safetensors (input_ids, logits) and OUT/reloaded.json (ids and len of our saved
tokenizer in transformers).
"""
import gzip
import json
import os
import shutil
import sys

import torch
from safetensors.torch import save_file
from tokenizers import AddedToken
from transformers import AutoModelForCausalLM, AutoTokenizer

NEW_TOKEN = "<|persona|>"
# Axolotl's order (loaders/tokenizer.py): special_tokens roles, then `tokens`, then
# additional_special_tokens; all AddedToken(normalized=False, lstrip=False, rstrip=False).
ADDITIONS = {
    "pad_token": "<|pad_x|>",
    "tokens": [NEW_TOKEN, "<think>", "zorbix"],
    "additional_special_tokens": ["<|im_sep|>"],
}
TEXTS = [
    "Hello <|persona|> the cat<|pad_x|><|im_sep|>x",
    " <|persona|>x<|persona|><|persona|> y",
    "<think>zorbix Zorbix zorbixes</think>",
    "a<|persona|>b <|im_sep|> c\n<|pad_x|>",
    "plain text with no added token at all.",
]


def apply_additions(tok):
    tok.add_special_tokens({"pad_token": AddedToken(ADDITIONS["pad_token"], rstrip=False, lstrip=False,
                                                    normalized=False)})
    tok.add_tokens([AddedToken(t, rstrip=False, lstrip=False, normalized=False) for t in ADDITIONS["tokens"]])
    tok.add_special_tokens({"additional_special_tokens": ADDITIONS["additional_special_tokens"]})


def encodings(tok):
    return {"len": len(tok), "ids": [tok.encode(t, add_special_tokens=True) for t in TEXTS],
            "pad_token_id": tok.pad_token_id,
            "added": {t: tok.convert_tokens_to_ids(t) for t in [ADDITIONS["pad_token"], *ADDITIONS["tokens"],
                                                                *ADDITIONS["additional_special_tokens"]]}}


def fixture_dir(out, fix, name):
    if name == "stories":
        return f"{out}/base"
    src = f"{fix}/tokenizers/{name}"
    if not os.path.exists(f"{src}/tokenizer.json.gz"):
        return src
    dst = f"{out}/tok-{name}"
    os.makedirs(dst, exist_ok=True)
    for f in os.listdir(src):
        with gzip.open(f"{src}/{f}", "rb") as i, open(f"{dst}/{f[:-3]}", "wb") as o:
            shutil.copyfileobj(i, o)
    return dst


def prepare(out, fix):
    refs = {}
    for name in ["llama3", "qwen3", "stories"]:
        tok = AutoTokenizer.from_pretrained(fixture_dir(out, fix, name))
        apply_additions(tok)
        refs[name] = encodings(tok)
        tok.save_pretrained(f"{out}/hf-saved-{name}")
    refs["texts"] = TEXTS
    refs["additions"] = ADDITIONS
    with open(f"{out}/tokenizers.json", "w") as f:
        json.dump(refs, f, indent=1)

    with open(f"{out}/persona.jsonl", "w") as f:
        for i in range(24):
            who = ["Lily", "Tom", "Ben"][i % 3]
            f.write(json.dumps({"text": f"{NEW_TOKEN} {who} is kind. {NEW_TOKEN} {who} likes the park."}) + "\n")
    with open(f"{out}/run.yml", "w") as f:
        f.write(f"""base_model: {out}/base
datasets:
  - path: {out}/persona.jsonl
    type: completion
tokens: ["{NEW_TOKEN}"]
sequence_len: 64
seed: 7
adapter: lora
lora_r: 4
lora_alpha: 8
lora_target_modules: [q_proj, v_proj]
lora_modules_to_save: [embed_tokens, lm_head]
micro_batch_size: 4
gradient_accumulation_steps: 1
max_steps: 6
learning_rate: 0.01
optimizer: adamw_torch
lr_scheduler: constant
logging_steps: 1
save_strategy: "no"
output_dir: {out}/lora
""")


def check(out, fix):
    from peft import PeftModel
    tok = AutoTokenizer.from_pretrained(f"{out}/lora")
    with open(f"{out}/reloaded.json", "w") as f:
        json.dump({"len": len(tok), "ids": [tok.encode(t, add_special_tokens=True) for t in TEXTS],
                   "new_token_id": tok.convert_tokens_to_ids(NEW_TOKEN)}, f, indent=1)
    base = AutoModelForCausalLM.from_pretrained(f"{out}/base", dtype=torch.float32,
                                                attn_implementation="eager").eval()
    base.resize_token_embeddings(len(tok))
    model = PeftModel.from_pretrained(base, f"{out}/lora").eval()
    ids = torch.tensor([tok.encode(f"{NEW_TOKEN} Lily is kind. {NEW_TOKEN} Tom likes the park.")])
    with torch.no_grad():
        logits = model(input_ids=ids).logits
    save_file({"input_ids": ids.contiguous(), "logits": logits.contiguous()}, f"{out}/reference.safetensors")
    print(f"resize_reference: len(tokenizer) {len(tok)}, {NEW_TOKEN} -> {tok.convert_tokens_to_ids(NEW_TOKEN)}")


if __name__ == "__main__":
    {"prepare": prepare, "check": check}[sys.argv[1]](sys.argv[2], sys.argv[3])
