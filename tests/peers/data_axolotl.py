"""Axolotl's own input_ids/labels for the data module's parity test (tests/data).

Runs the real Axolotl 0.19.0 (its own venv, .venv-axolotl) on small configs over the fixture
datasets and tokenizers: validate_config() normalises each YAML exactly as `axolotl
preprocess` does, datasets.load_dataset("json") reads the rows (so absent columns become
None as in Axolotl), and get_dataset_wrapper() applies the prompt strategy Axolotl picks for
the dataset's `type:`. The length filters are left out: the C++ test compares every
tokenized sample before them.

Usage: python data_axolotl.py OUT_DIR FIXTURES_DIR
Writes OUT_DIR/data/cases.json (name, yaml with @FIXTURES@/@OUT@ placeholders, sample count)
and OUT_DIR/data/<name>.jsonl (one {"input_ids", "labels"} line per sample).
"""
import json
import os
import sys

import yaml

CASES = []


def case(name, tokenizer, sequence_len, dataset, **top):
    CASES.append((name, tokenizer, sequence_len, dataset, top))


A = "@FIXTURES@/datasets/alpaca"
S = "@FIXTURES@/datasets/sharegpt"
M = "@FIXTURES@/datasets/chat-messages"
SHAREGPT = {"type": "chat_template", "field_messages": "conversations",
            "message_property_mappings": {"role": "from", "content": "value"}}

for tok in ("llama3", "qwen3"):
    case(f"alpaca-{tok}", tok, 2048, {"path": f"{A}/llamafactory_alpaca_en_demo.json", "type": "alpaca"})
    case(f"alpaca-stanford-{tok}", tok, 2048, {"path": f"{A}/stanford_alpaca_data_1k.json", "type": "alpaca"})
    case(f"alpaca-truncated-{tok}", tok, 24,
         {"path": f"{A}/stanford_alpaca_data_1k.json", "type": "alpaca", "split": "train[:200]"})
    case(f"alpaca-train-on-inputs-{tok}", tok, 2048,
         {"path": f"{A}/stanford_alpaca_data_1k.json", "type": "alpaca", "split": "train[:100]"}, train_on_inputs=True)
    case(f"sharegpt-dummy-{tok}", tok, 2048, dict(SHAREGPT, path=f"{S}/fastchat_dummy_conversation.json"))
    case(f"messages-kto-{tok}", tok, 4096, {"path": f"{M}/llamafactory_kto_en_demo.json", "type": "chat_template"})
    case(f"sharegpt-v3-{tok}", tok, 8192,
         dict(SHAREGPT, path=f"{S}/sharegpt_v3_sample500.json", split="train[:120]"))
    case(f"messages-kto-all-roles-eos-all-{tok}", tok, 4096,
         {"path": f"{M}/llamafactory_kto_en_demo.json", "type": "chat_template", "split": "train[:80]",
          "roles_to_train": ["user", "assistant"], "train_on_eos": "all"})
    case(f"messages-kto-eos-last-drop-system-{tok}", tok, 4096,
         {"path": f"{M}/llamafactory_kto_en_demo.json", "type": "chat_template", "split": "train[:80]",
          "train_on_eos": "last", "drop_system_message": True})
    case(f"completion-{tok}", tok, 16,
         {"path": f"{A}/stanford_alpaca_data_1k.json", "type": "completion", "field": "output", "split": "train[:100]"})
    case(f"user-defined-{tok}", tok, 2048,
         {"path": f"{A}/stanford_alpaca_data_1k.json", "split": "train[:150]",
          "type": {"system_prompt": "You are terse.", "system_format": "<sys>{system}</sys>\n",
                   "field_instruction": "instruction", "field_input": "input", "field_output": "output",
                   "format": "[INST] {instruction}\n{input} [/INST] ", "no_input_format": "[INST] {instruction} [/INST] "}})
    case(f"input-output-{tok}", tok, 2048, {"path": "@OUT@/data/segments.jsonl", "type": "input_output"})

case("alpaca-chatml-qwen3", "qwen3", 2048,
     {"path": f"{A}/stanford_alpaca_data_1k.json", "type": "alpaca:chatml", "split": "train[:300]"})
case("alpaca-phi-llama3", "llama3", 2048,
     {"path": f"{A}/stanford_alpaca_data_1k.json", "type": "alpaca:phi", "split": "train[:300]"})
case("alpaca-chat-llama3", "llama3", 2048,
     {"path": f"{A}/stanford_alpaca_data_1k.json", "type": "alpaca:chat", "split": "train[50%:]"})
case("messages-kto-chatml-qwen3", "qwen3", 4096,
     {"path": f"{M}/llamafactory_kto_en_demo.json", "type": "chat_template", "chat_template": "chatml",
      "split": "train[:100]"})
case("messages-kto-eot-qwen3", "qwen3", 4096,
     {"path": f"{M}/llamafactory_kto_en_demo.json", "type": "chat_template", "split": "train[:60]",
      "train_on_eos": "none", "train_on_eot": "turn"}, eot_tokens=["<|im_end|>"])
case("messages-kto-no-thinking-qwen3", "qwen3", 4096,
     {"path": f"{M}/llamafactory_kto_en_demo.json", "type": "chat_template", "split": "train[:60]"},
     chat_template_kwargs={"enable_thinking": False})
case("glaive-toolcall-qwen3", "qwen3", 8192,
     {"path": f"{S}/llamafactory_glaive_toolcall_en_demo.json", "type": "chat_template", "split": "train[:60]",
      "field_messages": "conversations", "message_property_mappings": {"role": "from", "content": "value"},
      "roles": {"user": ["human", "observation"], "assistant": ["gpt", "function_call"]}})

SEGMENTS = [
    {"segments": [{"label": False, "text": "<|begin_of_text|>Question: what is 2+2?\n"},
                  {"label": True, "text": "Answer: 4"}, {"label": False, "text": "\n\n"}]},
    {"segments": [{"label": True, "text": "Hello world, héllo wörld!"}]},
    {"segments": [{"label": False, "text": "no "}, {"label": True, "text": "space"}, {"label": False, "text": " here"}]},
]


def config_yaml(tokenizer, sequence_len, dataset, top):
    cfg = {"base_model": f"@FIXTURES@/tokenizers/{tokenizer}", "sequence_len": sequence_len,
           "datasets": [dataset], "micro_batch_size": 1, "gradient_accumulation_steps": 1,
           "learning_rate": 1e-4, "num_epochs": 1, "output_dir": "@OUT@/model-out"}
    cfg.update(top)
    return yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True)


def main():
    out_dir, fixtures = sys.argv[1], sys.argv[2]
    data_dir = os.path.join(out_dir, "data")
    os.makedirs(data_dir, exist_ok=True)
    with open(os.path.join(data_dir, "segments.jsonl"), "w", encoding="utf-8") as f:
        for row in SEGMENTS:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")

    import datasets
    from transformers import AutoTokenizer
    from axolotl.utils.config import validate_config
    from axolotl.utils.data.wrappers import get_dataset_wrapper
    from axolotl.utils.dict import DictDefault
    import axolotl

    datasets.disable_progress_bars()
    tokenizers = {}
    manifest = {"axolotl": axolotl.__version__, "cases": []}
    for name, tok_name, seq_len, dataset, top in CASES:
        text = config_yaml(tok_name, seq_len, dataset, top)
        real = text.replace("@FIXTURES@", fixtures).replace("@OUT@", out_dir)
        cfg = validate_config(DictDefault(yaml.safe_load(real)))
        if tok_name not in tokenizers:
            tokenizers[tok_name] = AutoTokenizer.from_pretrained(os.path.join(fixtures, "tokenizers", tok_name))
        tok = tokenizers[tok_name]
        ds_cfg = cfg.datasets[0]
        rows = datasets.load_dataset("json", data_files=ds_cfg.path, split=ds_cfg.get("split") or "train")
        d_type = ds_cfg.type
        base, style = (d_type.split(":", 1) + [None])[:2] if isinstance(d_type, str) else (None, None)
        wrapped, _ = get_dataset_wrapper(ds_cfg, tok, cfg, base, rows, style)
        with open(os.path.join(data_dir, name + ".jsonl"), "w") as f:
            for sample in wrapped:
                f.write(json.dumps({"input_ids": sample["input_ids"], "labels": sample["labels"]}) + "\n")
        manifest["cases"].append({"name": name, "yaml": text, "samples": len(wrapped)})
        print(f"data_axolotl: {name}: {len(wrapped)} samples", file=sys.stderr)
    with open(os.path.join(data_dir, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
