"""References for tests/quant: bitsandbytes' own CPU quantisation of fixed tensors (NF4/FP4,
with and without double quantisation, several blocksizes, three dtypes; LLM.int8 row-wise),
the hf-tiny Llama quantised by transformers (BitsAndBytesConfig on CPU) with its logits, and,
when given one, a checkpoint written by `axolotl quantize` loaded back by transformers.

Usage: quant_reference.py FIXTURES OUT [OURS_DIR]
"""
import json
import os
import sys

os.environ.setdefault("TORCH_COMPILE_DISABLE", "1")  # plain ops: faster, no recompilation noise
import torch
import bitsandbytes.functional as F
from safetensors.torch import save_file

FIX, OUT = sys.argv[1], sys.argv[2]
OURS = sys.argv[3] if len(sys.argv) > 3 else None
os.makedirs(OUT, exist_ok=True)

# (name, shape, dtype): odd sizes leave a partial last block and an odd element count.
SHAPES = [("f32_64x64", (64, 64), torch.float32), ("f32_33x17", (33, 17), torch.float32),
          ("bf16_96x128", (96, 128), torch.bfloat16), ("f16_40x72", (40, 72), torch.float16),
          ("f32_300x256", (300, 256), torch.float32)]
BLOCKSIZES = [32, 64, 128, 256, 4096]



def dequant_formula(packed, absmax, code, blocksize, n, state2=None, offset=None):
    b = packed.reshape(-1).view(torch.uint8)
    q = torch.stack([b >> 4, b & 15], 1).reshape(-1).long()[:n]
    if state2 is not None:
        nested = state2.absmax.repeat_interleave(state2.blocksize)[: absmax.numel()]
        scales = state2.code[absmax.long()] * nested + offset
    else:
        scales = absmax.float()
    return code[q] * scales.repeat_interleave(blocksize)[:n]


def formula_logits(model_dir, ids):
    """transformers' dense model with every 4-bit weight of the checkpoint dequantised by the
    format's formula (what the checkpoint means, independent of bitsandbytes' CPU kernels)."""
    from safetensors import safe_open
    from transformers import AutoConfig, AutoModelForCausalLM as M
    cfg = AutoConfig.from_pretrained(model_dir)
    del cfg.quantization_config
    model = M.from_config(cfg, torch_dtype=torch.float32)
    f = safe_open(f"{model_dir}/model.safetensors", "pt")
    keys = set(f.keys())
    state = {}
    for k in keys:
        if ".weight." in k or k.endswith(".SCB") or k.endswith(".weight_format"):
            continue
        qs = [x for x in keys if x.startswith(k + ".quant_state.bitsandbytes__")]
        if not qs:
            state[k] = f.get_tensor(k)
            continue
        meta = json.loads(bytes(f.get_tensor(qs[0]).numpy()).decode())
        n = 1
        for d in meta["shape"]:
            n *= d
        st2, off = None, None
        if "nested_blocksize" in meta:
            class S: pass
            st2 = S()
            st2.absmax = f.get_tensor(k + ".nested_absmax")
            st2.code = f.get_tensor(k + ".nested_quant_map")
            st2.blocksize = meta["nested_blocksize"]
            off = torch.tensor(meta["nested_offset"], dtype=torch.float32)
        w = dequant_formula(f.get_tensor(k), f.get_tensor(k + ".absmax"), f.get_tensor(k + ".quant_map"),
                            meta["blocksize"], n, st2, off)
        state[k] = w.reshape(meta["shape"])
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected, unexpected
    with torch.no_grad():
        return model(ids).logits.float().contiguous()


gen = torch.Generator().manual_seed(1234)
tensors, cases = {}, []
for name, shape, dtype in SHAPES:
    x = (torch.randn(shape, generator=gen) * 0.05).to(dtype)
    x.view(-1)[5] = 0.0  # exact zeros and a repeated extreme value occur in real weights
    tensors[f"{name}.input"] = x
    for qt in ("nf4", "fp4"):
        for bs in BLOCKSIZES:
            for dq in (False, True):
                key = f"{name}.{qt}.{bs}.{'dq' if dq else 'plain'}"
                packed, st = F.quantize_4bit(x.clone(), blocksize=bs, compress_statistics=dq, quant_type=qt)
                tensors[key + ".packed"] = packed
                tensors[key + ".absmax"] = st.absmax
                tensors[key + ".quant_map"] = st.code
                # The format's definition, code[q] * block scale in float32 (bitsandbytes 0.50.2's
                # AVX-512 CPU dequantize_4bit disagrees with it for some shapes and blocksizes).
                tensors[key + ".dequant"] = dequant_formula(packed, st.absmax, st.code, bs, x.numel(),
                                                            st.state2 if dq else None, st.offset if dq else None)
                case = {"key": key, "input": f"{name}.input", "quant_type": qt, "blocksize": bs, "double_quant": dq}
                if dq:
                    tensors[key + ".nested_absmax"] = st.state2.absmax
                    tensors[key + ".nested_quant_map"] = st.state2.code
                    case["offset"] = st.offset.item()
                cases.append(case)
    cb, scb, _ = F.int8_vectorwise_quant(x.clone().reshape(shape[0], -1))
    tensors[f"{name}.int8.codes"] = cb
    tensors[f"{name}.int8.scb"] = scb
tensors["table.nf4"] = F.get_4bit_type("nf4", device="cpu")
tensors["table.fp4"] = F.get_4bit_type("fp4", device="cpu")
tensors["table.dynamic"] = F.create_dynamic_map()
save_file({k: v.contiguous() for k, v in tensors.items()}, f"{OUT}/codec_cases.safetensors")
json.dump(cases, open(f"{OUT}/codec_cases.json", "w"), indent=1)

# A pre-quantized Hugging Face checkpoint, as transformers writes it.
from transformers import AutoModelForCausalLM, BitsAndBytesConfig

llama = f"{FIX}/hf-tiny/LlamaForCausalLM"
ids = torch.tensor([[1, 17, 42, 99, 3, 250, 7, 64, 128, 5]])
for qt, dq in (("nf4", True), ("fp4", False)):
    cfg = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=qt, bnb_4bit_use_double_quant=dq,
                             bnb_4bit_compute_dtype=torch.float32)
    m = AutoModelForCausalLM.from_pretrained(llama, quantization_config=cfg, device_map="cpu")
    d = f"{OUT}/llama-bnb-{qt}"
    m.save_pretrained(d)
    with torch.no_grad():
        save_file({"input_ids": ids, "logits": formula_logits(d, ids),
                   "bnb_cpu_logits": m(ids).logits.float().contiguous()}, f"{d}/logits.safetensors")

if OURS:
    m = AutoModelForCausalLM.from_pretrained(OURS, device_map="cpu")
    q = m.model.layers[0].self_attn.q_proj
    assert type(q).__name__ == "Linear4bit", type(q)
    with torch.no_grad():
        save_file({"input_ids": ids, "logits": formula_logits(OURS, ids),
                   "bnb_cpu_logits": m(ids).logits.float().contiguous()},
                  f"{OUT}/ours_transformers_logits.safetensors")
print("quant references written to", OUT)
