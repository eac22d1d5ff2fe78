"""Renders Axolotl's named chat templates (axolotl==0.19.0, installed --no-deps as data) with
transformers' own Jinja environment (jinja2 ImmutableSandboxedEnvironment, trim_blocks,
lstrip_blocks, its tojson override, raise_exception and strftime_now globals, the
{% generation %} tag, loop controls) for the golden conversations of
$AXOLOTL_FIXTURES/golden/chat_template_renders.json. tests/chat/test_named_templates.cpp
renders our own named templates on the same inputs and compares byte for byte; it also
renders every Axolotl template's own text with our interpreter.

usage: chat_axolotl_templates.py FIXTURES_DIR OUT_DIR  -> OUT_DIR/axolotl_named_renders.json
"""
import datetime
import importlib.metadata
import importlib.util
import json
import os
import sys

import jinja2
from transformers.utils.chat_template_utils import _compile_jinja_template

NAMES = ["alpaca", "chatml", "llama3", "llama4", "mistral_v1", "mistral_v2v3", "mistral_v3_tekken",
         "mistral_v7_tekken", "gemma", "gemma3", "phi_3", "phi_35", "phi_4", "qwen_25", "qwen3",
         "deepseek_v2", "deepseek_v3", "cohere", "metharme"]

# The special tokens each family's tokenizer defines (None: the tokenizer has none).
SPECIAL = {
    "alpaca": ("<s>", "</s>"), "chatml": ("<s>", "<|im_end|>"),
    "llama3": ("<|begin_of_text|>", "<|eot_id|>"), "llama4": ("<|begin_of_text|>", "<|eot|>"),
    "mistral_v1": ("<s>", "</s>"), "mistral_v2v3": ("<s>", "</s>"), "mistral_v3_tekken": ("<s>", "</s>"),
    "mistral_v7_tekken": ("<s>", "</s>"), "gemma": ("<bos>", "<eos>"), "gemma3": ("<bos>", "<eos>"),
    "phi_3": ("<s>", "<|endoftext|>"), "phi_35": ("<s>", "<|endoftext|>"), "phi_4": (None, "<|im_end|>"),
    "qwen_25": (None, "<|im_end|>"), "qwen3": (None, "<|im_end|>"),
    "deepseek_v2": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    "deepseek_v3": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    "cohere": ("<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>"), "metharme": ("<s>", "</s>"),
}
CLOCK = datetime.datetime(2024, 7, 26, 0, 0, 0)


def axolotl_templates():
    """Every template Axolotl ships: the NAMES we re-implement, and the rest, whose text our
    interpreter renders as is (an interpreter check on more real templates)."""
    spec = importlib.util.find_spec("axolotl")  # located, not imported: only its data is used
    folder = os.path.join(spec.submodule_search_locations[0], "utils", "chat_templates", "templates")
    out = {}
    for file in sorted(os.listdir(folder)):
        if file.endswith(".jinja"):
            with open(os.path.join(folder, file), encoding="utf-8") as f:
                out[file[:-len(".jinja")]] = f.read()
    return out


def conversations(fixtures):
    with open(os.path.join(fixtures, "golden", "chat_template_renders.json"), encoding="utf-8") as f:
        golden = json.load(f)
    convs = {}
    for case in golden["cases"]:
        cid = case["conversation_id"]
        entry = convs.setdefault(cid, {"messages": case["messages"], "tools": None})
        if case["tools"] is not None:
            # OpenAI-style tool schemas, as Axolotl datasets give them.
            entry["tools"] = [{"type": "function", "function": t} for t in case["tools"]]
    convs.update(constructed_conversations())
    variants = []
    for cid, entry in convs.items():
        variants.append((cid, entry["messages"], entry["tools"]))
        if entry["messages"] and entry["messages"][0]["role"] == "system":
            variants.append((cid + "/no-system", entry["messages"][1:], entry["tools"]))
    return variants


def constructed_conversations():
    """CONSTRUCTED (not from the fixtures): the shapes the golden records lack, so the tool,
    multi-part and reasoning branches of the templates are compared too."""
    tools = [{"type": "function", "function": {
        "name": "get_weather", "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
    call = {"id": "call12345", "type": "function",
            "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
    str_call = {"id": "call67890", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\": \"Lyon\"}"}}
    return {
        "constructed-tool-call-roundtrip": {"tools": tools, "messages": [
            {"role": "system", "content": "You are a weather bot."},
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call12345", "content": "{\"temp\": 21}"},
            {"role": "assistant", "content": "It is 21°C in Paris."}]},
        "constructed-tool-call-string-args": {"tools": tools, "messages": [
            {"role": "user", "content": "And Lyon?"},
            {"role": "assistant", "content": None, "tool_calls": [str_call, str_call]},
            {"role": "tool", "tool_call_id": "call67890", "content": "sunny"},
            {"role": "tool", "tool_call_id": "call67890", "content": "18C"},
            {"role": "assistant", "content": "Sunny, 18C."}]},
        "constructed-multipart-content": {"tools": None, "messages": [
            {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "user", "content": [{"type": "text", "text": "Describe "}, {"type": "image"},
                                         {"type": "text", "text": " this picture."}]},
            {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]}]},
        "constructed-reasoning": {"tools": None, "messages": [
            {"role": "user", "content": "2+2?"},
            {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n4"},
            {"role": "user", "content": "3+3?"},
            {"role": "assistant", "content": "6", "reasoning_content": "add again"}]},
    }


def main():
    fixtures, out_dir = sys.argv[1], sys.argv[2]
    sources = axolotl_templates()
    cases = []
    for name in sources:
        compiled = _compile_jinja_template(sources[name])
        uses_tools = "tools" in sources[name]
        bos, eos = SPECIAL.get(name, ("<s>", "</s>"))
        special = {k: v for k, v in (("bos_token", bos), ("eos_token", eos)) if v is not None}
        extras = [{}]
        if name == "qwen3":
            extras.append({"enable_thinking": False})
        for cid, messages, tools in conversations(fixtures):
            for extra in extras:
                for gen in (False, True):
                    if extra and not gen:
                        continue
                    case = {"template": name, "named": name in NAMES, "conversation_id": cid, "messages": messages,
                            "tools": tools if uses_tools else None, "add_generation_prompt": gen,
                            "special_tokens": special, "extra": extra,
                            "output": None, "error": None, "error_type": None}
                    try:
                        case["output"] = compiled.render(
                            messages=messages, tools=case["tools"], documents=None, add_generation_prompt=gen,
                            **special, **extra, strftime_now=lambda fmt: CLOCK.strftime(fmt))
                    except Exception as e:  # the C++ side must raise the same error
                        case["error"] = str(e)
                        case["error_type"] = f"{type(e).__module__}.{type(e).__name__}"
                    cases.append(case)
    os.makedirs(out_dir, exist_ok=True)
    result = {
        "versions": {"axolotl": importlib.metadata.version("axolotl"), "jinja2": jinja2.__version__,
                     "transformers": importlib.metadata.version("transformers")},
        "clock": CLOCK.isoformat(),
        "axolotl_sources": sources,
        "cases": cases,
    }
    path = os.path.join(out_dir, "axolotl_named_renders.json")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
    os.replace(path + ".tmp", path)
    errors = sum(c["error"] is not None for c in cases)
    print(f"chat_axolotl_templates: {len(cases)} renders ({errors} raise) -> {path}")


if __name__ == "__main__":
    main()
