"""References for tests/core/test_gguf_export.cpp, from the gguf package (gguf-py, llama.cpp's
own Python library), never from our code:

1. quant-input.safetensors: fixed float32 tensors (random rows over many magnitudes, plus
   edge blocks: zeros, exact rounding ties, a negative extreme, values near float16's limits);
   quant-expected.safetensors: gguf.quants.quantize of each as F16, BF16, Q8_0 and Q4_0, raw
   bytes (uint8), named "<tensor>.<TYPE>".
2. stories-<outtype>.safetensors: for stories260K converted by `axolotl convert llama2c`, the
   bytes convert_hf_to_gguf's conventions give every GGUF tensor (llama.cpp name, q/k rows
   permuted per head, 1-D tensors F32, rows not a multiple of 32 -> F16 for q8_0/q4_0),
   computed here with numpy and gguf.quants.quantize.
3. reader-<outtype>.json: gguf.GGUFReader's view of our own export of that model (`axolotl export
   gguf`): every field's value types and contents, every tensor's name, type, ne and bytes'
   length, so the test can check our reader and gguf-py read our file alike.

Usage: gguf_export_reference.py OUT_DIR AXL_BIN FIXTURES_DIR
"""
import json
import os
import subprocess
import sys

import gguf
import numpy as np
from safetensors.numpy import load_file, save_file

OUTTYPES = {"f32": gguf.GGMLQuantizationType.F32, "f16": gguf.GGMLQuantizationType.F16,
            "bf16": gguf.GGMLQuantizationType.BF16, "q8_0": gguf.GGMLQuantizationType.Q8_0,
            "q4_0": gguf.GGMLQuantizationType.Q4_0}
QUANT_TYPES = ["F16", "BF16", "Q8_0", "Q4_0"]


def quant_inputs():
    rng = np.random.default_rng(1234)
    scales = np.logspace(-4, 3, 16, dtype=np.float32)[:, None]
    rows = (rng.standard_normal((16, 256)).astype(np.float32) * scales).astype(np.float32)
    edge = np.zeros((8, 32), dtype=np.float32)
    edge[1] = np.arange(32, dtype=np.float32) - 15.5            # q8 ties after scaling
    edge[2] = (np.arange(32, dtype=np.float32) - 16) * 0.5        # negative extreme first
    edge[2, 0] = -8.0
    edge[3] = np.linspace(-65504, 65519, 32, dtype=np.float32)   # float16 limits, overflow
    edge[4] = np.float32(2.0 ** -24) * (np.arange(32, dtype=np.float32) - 16) * 0.75  # f16 subnormals
    edge[5, :] = 1.0
    edge[5, 7] = -1.0                                             # tied |max|, first one wins
    edge[6] = rng.standard_normal(32).astype(np.float32) * 1e-30  # tiny scales
    edge[7] = (np.arange(32, dtype=np.float32) + 0.5) * np.float32(1.0 / 1024)  # f16 ties
    return {"rows": rows, "edge": edge}


def hf_to_gguf_name(hf):
    fixed = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    if hf in fixed:
        return fixed[hf]
    parts = hf.split(".")
    layer, rest = parts[2], ".".join(parts[3:])
    m = {"input_layernorm.weight": "attn_norm.weight", "self_attn.q_proj.weight": "attn_q.weight",
         "self_attn.k_proj.weight": "attn_k.weight", "self_attn.v_proj.weight": "attn_v.weight",
         "self_attn.o_proj.weight": "attn_output.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
         "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
         "mlp.down_proj.weight": "ffn_down.weight"}
    return f"blk.{layer}.{m[rest]}"


def permute(w, n_head):
    # HF row s*hd/2 + j -> GGUF row 2j + s, per head.
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def expected_tensors(hf_dir, outtype):
    cfg = json.load(open(os.path.join(hf_dir, "config.json")))
    weights = load_file(os.path.join(hf_dir, "model.safetensors"))
    out = {}
    for hf, w in weights.items():
        if hf == "lm_head.weight" and cfg.get("tie_word_embeddings"):
            continue
        w = w.astype(np.float32)
        if hf.endswith("q_proj.weight"):
            w = permute(w, cfg["num_attention_heads"])
        elif hf.endswith("k_proj.weight"):
            w = permute(w, cfg["num_key_value_heads"])
        qtype = OUTTYPES[outtype]
        if w.ndim == 1:
            qtype = gguf.GGMLQuantizationType.F32
        elif qtype in (gguf.GGMLQuantizationType.Q8_0, gguf.GGMLQuantizationType.Q4_0) and w.shape[-1] % 32:
            qtype = gguf.GGMLQuantizationType.F16
        data = gguf.quants.quantize(np.ascontiguousarray(w), qtype)
        out[hf_to_gguf_name(hf)] = np.frombuffer(data.tobytes(), dtype=np.uint8).copy()
    return out


def field_json(f):
    types = [int(t) for t in f.types]
    value = f.contents()
    if isinstance(value, float):
        value = float(np.float32(value)) if types[0] == int(gguf.GGUFValueType.FLOAT32) else value
    return {"types": types, "value": value}


def main():
    out, axl, fixtures = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    inputs = quant_inputs()
    save_file(inputs, os.path.join(out, "quant-input.safetensors"))
    expected = {}
    for name, x in inputs.items():
        for t in QUANT_TYPES:
            q = gguf.quants.quantize(x, gguf.GGMLQuantizationType[t])
            expected[f"{name}.{t}"] = np.frombuffer(q.tobytes(), dtype=np.uint8).copy()
    save_file(expected, os.path.join(out, "quant-expected.safetensors"))

    stories = os.path.join(out, "stories-hf")
    src = os.path.join(fixtures, "llama2c-stories260K")
    subprocess.run([axl, "convert", "llama2c", "--checkpoint", os.path.join(src, "stories260K.bin"),
                    "--tokenizer", os.path.join(src, "tok512.model"), "--out", stories], check=True,
                   capture_output=True)
    for outtype in OUTTYPES:
        save_file(expected_tensors(stories, outtype), os.path.join(out, f"stories-{outtype}.safetensors"))
        path = os.path.join(out, f"stories-{outtype}.gguf")
        subprocess.run([axl, "export", "gguf", "--model", stories, "--outtype", outtype, "--out", path],
                       check=True, capture_output=True)
        r = gguf.GGUFReader(path)
        fields = {name: field_json(f) for name, f in r.fields.items() if not name.startswith("GGUF.")}
        tensors = [{"name": t.name, "type": int(t.tensor_type), "ne": [int(d) for d in t.shape],
                    "n_bytes": int(t.n_bytes)} for t in r.tensors]
        json.dump({"alignment": int(r.alignment), "fields": fields, "tensors": tensors},
                  open(os.path.join(out, f"reader-{outtype}.json"), "w"))
    print(f"gguf_export_reference: wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
