"""Our GGUF export (`axolotl export gguf`) loaded by llama.cpp itself (llama-cpp-python in .venv-peer).

Usage: gguf_export_llamacpp_check.py AXOLOTL_BIN SCRATCH_DIR   (AXOLOTL_FIXTURES: the fixtures)

Model: stories260K converted by `axolotl convert llama2c`, exported as f32, f16, bf16, q8_0 and q4_0.
Prompts and the teacher-forced text are tokenised by llama.cpp (vocab-only load of our f32 export,
BOS added as the GGUF says).

a. f32: llama.cpp with a float32 KV cache must give the same 64 greedy ids as `axolotl generate`
   on the HF folder, for every prompt.
b. Teacher-forced top-1 agreement over 256 positions, llama.cpp at its defaults (float16 KV cache;
   f16/bf16/q8_0/q4_0 matmuls with reduced-precision activations): gated >= 95% against `axolotl
   forward` on `axolotl convert gguf` of the same file (the same weights, so what is left is
   llama.cpp's arithmetic); the agreement with the original float32 model is recorded too.
c. LoRA: `axolotl train` runs a few LoRA steps on stories260K (a small alpaca file written here);
   `axolotl export gguf --config` merges that adapter and exports f32: llama.cpp's 64 greedy ids
   must equal `axolotl generate --adapter`'s. `axolotl export gguf --adapter` writes llama.cpp's
   adapter GGUF: Llama(model_path=f32 base, lora_path=adapter) must give the same greedy ids too;
   max |logit| differences are recorded, and how far the adapter moves the logits (so a no-op
   adapter cannot pass unnoticed).
d. gpt2-style BPE: SmolLM2-135M-Instruct (the Q4_1 GGUF of gguf_llamacpp_check.py) converted by
   `axolotl convert gguf` and exported again as f32: every tokenizer.* field must equal the
   original GGUF's, and llama.cpp on our export must give `axolotl generate`'s 64 greedy ids.
e. One JSON line on stdout; exit 1 if a check fails.
"""
import json
import os
import subprocess
import sys

import numpy as np

import gguf_llamacpp_check as base
from gguf_llamacpp_check import axl_logits, llama, llama_logits, run

N_NEW = 64
base.N_NEW = N_NEW  # base.llama_greedy generates this many
SEQ_LEN = 256
MIN_AGREEMENT = 0.95
THREADS = 2
OUTTYPES = ["f32", "f16", "bf16", "q8_0", "q4_0"]
PROMPTS = ["Once upon a time", "Lily and her dog went to the park. They", "The sun was hot and"]
STORY = (
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her "
    "friends. One day, she saw a big red ball under a tree. She ran to the ball and picked it up. It was "
    "shiny and round. Lily wanted to show the ball to her mom, so she ran home as fast as she could. Her mom "
    "smiled and said, \"What a nice ball! Where did you find it?\" Lily told her mom about the tree in the "
    "park. Then they went back to the park together and played with the ball all afternoon. They threw it "
    "high in the sky and laughed when it bounced on the grass. When the sun went down, Lily was tired but "
    "happy. She gave her mom a big hug and said, \"Thank you for playing with me.\" Her mom hugged her back "
    "and they walked home, holding hands. The next day, Lily took the ball to school to show her friends. "
    "Tom, Sue and Ben wanted to play too. They all played together and had lots of fun. The teacher said "
    "they could keep the ball in the class, so everyone could play with it. Lily was proud and happy."
)
ALPACA = [{"instruction": f"Tell a short story about a {a} who likes {b}.", "input": "",
           "output": f"Once upon a time there was a {a}. The {a} liked {b} very much. Every day the {a} "
                     f"played with {b} and was happy. The end."}
          for a in ("cat", "dog", "bird", "frog", "girl", "boy", "bear", "fish")
          for b in ("apples", "the sun", "toys", "music")]


def log(msg):
    print(f"gguf_export_llamacpp_check: {msg}", file=sys.stderr, flush=True)


def axl_generate(axl, model, prompt_ids, adapter=None):
    cmd = [axl, "generate", "--model", model, "--prompt-ids", " ".join(map(str, prompt_ids)),
           "--max-new-tokens", str(N_NEW), "--temperature", "0", "--output-ids", "--ignore-eos",
           "--threads", str(THREADS)]
    if adapter:
        cmd += ["--adapter", adapter]
    lines = [l for l in run(cmd).splitlines() if l.strip()]
    assert len(lines) == 1, lines
    return [int(x) for x in lines[0].split()]


def axl_forward(axl, model, ids, scratch, tag, adapter=None):
    if not adapter:
        return axl_logits(axl, model, ids, scratch, tag)
    from safetensors.numpy import load_file, save_file
    inp, out = os.path.join(scratch, f"{tag}.in.safetensors"), os.path.join(scratch, f"{tag}.out.safetensors")
    save_file({"input_ids": np.asarray([ids], dtype=np.int64)}, inp)
    run([axl, "forward", "--model", model, "--adapter", adapter, "--input", inp, "--out", out,
         "--threads", str(THREADS)])
    return load_file(out)["logits"][0]


def greedy_check(llm, axl, model, prompts, adapter=None):
    entries, ok = [], True
    for ids in prompts:
        ref = base.llama_greedy(llm, ids)
        ours = axl_generate(axl, model, ids, adapter)
        same = next((j for j in range(N_NEW) if j >= len(ours) or j >= len(ref) or ref[j] != ours[j]), None)
        entries.append({"prompt_ids": ids, "match": f"{N_NEW if same is None else same}/{N_NEW}",
                        **({} if same is None else {"llama_cpp": ref, "axolotl": ours})})
        ok = ok and same is None and len(ref) == N_NEW
    return entries, ok


def llama_with_lora(path, lora):
    from llama_cpp import Llama
    return Llama(model_path=path, lora_path=lora, n_ctx=512, n_batch=512, n_threads=THREADS,
                 n_threads_batch=THREADS, logits_all=True, seed=0, verbose=False, type_k=0, type_v=0)


TOKENIZER_KEYS = ["tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type",
                  "tokenizer.ggml.merges", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                  "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id",
                  "tokenizer.ggml.add_bos_token", "tokenizer.chat_template"]


def smollm2_check(axl, scratch):
    import gguf
    q41 = base.find_gguf()
    hf = os.path.join(scratch, "smollm2-hf")
    run([axl, "convert", "gguf", "--input", q41, "--out", hf])
    ours = os.path.join(scratch, "smollm2-export-f32.gguf")
    run([axl, "export", "gguf", "--model", hf, "--outtype", "f32", "--out", ours])
    a, b = gguf.GGUFReader(q41), gguf.GGUFReader(ours)
    differ = [k for k in TOKENIZER_KEYS if (k in a.fields) != (k in b.fields)
              or (k in a.fields and a.fields[k].contents() != b.fields[k].contents())]
    vocab = llama(ours, vocab_only=True)
    prompts = [vocab.tokenize(p.encode(), add_bos=False, special=True) for p in base.PROMPTS]
    del vocab
    entries, g_ok = greedy_check(llama(ours, f32_kv=True), axl, hf, prompts[:1])
    return {"tokenizer_fields_differing": differ, "greedy": entries}, g_ok and not differ


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    axl, scratch = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    fixtures = os.path.abspath(os.environ.get("AXOLOTL_FIXTURES", "../shared/fixtures"))
    os.makedirs(scratch, exist_ok=True)
    import llama_cpp
    result, ok = {"llama_cpp_python": llama_cpp.__version__, "model": "stories260K"}, True

    hf = os.path.join(scratch, "stories")
    src = os.path.join(fixtures, "llama2c-stories260K")
    run([axl, "convert", "llama2c", "--checkpoint", os.path.join(src, "stories260K.bin"),
         "--tokenizer", os.path.join(src, "tok512.model"), "--out", hf])
    ggufs = {}
    for t in OUTTYPES:
        ggufs[t] = os.path.join(scratch, f"stories-{t}.gguf")
        run([axl, "export", "gguf", "--model", hf, "--outtype", t, "--out", ggufs[t]])
    vocab = llama(ggufs["f32"], vocab_only=True)
    prompts = [vocab.tokenize(p.encode(), add_bos=True, special=False) for p in PROMPTS]
    text = vocab.tokenize(STORY.encode(), add_bos=True, special=False)
    del vocab
    if len(text) < SEQ_LEN:
        sys.exit(f"gguf_export_llamacpp_check: STORY is {len(text)} tokens, need {SEQ_LEN}")
    seq = text[:SEQ_LEN]

    # a. f32 greedy
    entries, g_ok = greedy_check(llama(ggufs["f32"], f32_kv=True), axl, hf, prompts)
    result["f32_greedy"] = entries
    ok = ok and g_ok
    log(f"f32 greedy: {[e['match'] for e in entries]}")

    # b. teacher-forced per outtype
    base_logits = axl_logits(axl, hf, seq, scratch, "base")
    tf = {}
    for t in OUTTYPES:
        back = os.path.join(scratch, f"back-{t}")
        run([axl, "convert", "gguf", "--input", ggufs[t], "--out", back])
        la = llama_logits(llama(ggufs[t], logits_all=True), seq)
        lb = axl_logits(axl, back, seq, scratch, f"back-{t}")
        same_weights = float((la.argmax(-1) == lb.argmax(-1)).mean())
        vs_original = float((la.argmax(-1) == base_logits.argmax(-1)).mean())
        tf[t] = {"top1_vs_same_weights": same_weights, "top1_vs_original_f32": vs_original,
                 "max_abs_logit_diff_same_weights": float(np.abs(la - lb).max()),
                 "ours_dequantized_vs_original_top1": float((lb.argmax(-1) == base_logits.argmax(-1)).mean())}
        if t != "f32" and same_weights < MIN_AGREEMENT:
            ok = False
        log(f"{t}: teacher-forced top-1 {same_weights:.4f} (same weights), {vs_original:.4f} (original f32)")
    la = llama_logits(llama(ggufs["f32"], logits_all=True, f32_kv=True), seq)
    tf["f32"]["f32_kv_max_abs_logit_diff"] = float(np.abs(la - base_logits).max())
    tf["f32"]["f32_kv_top1_vs_original"] = float((la.argmax(-1) == base_logits.argmax(-1)).mean())
    result["teacher_forced"] = tf
    result["positions"] = SEQ_LEN

    # c. LoRA: train, merge-export through --config, adapter GGUF
    data = os.path.join(scratch, "alpaca.json")
    json.dump(ALPACA, open(data, "w"))
    out_dir = os.path.join(scratch, "lora-out")
    cfg = os.path.join(scratch, "lora.yml")
    with open(cfg, "w") as f:
        f.write(f"base_model: {hf}\ndatasets:\n  - path: {data}\n    type: alpaca\nsequence_len: 512\nseed: 42\n"
                "adapter: lora\nlora_r: 8\nlora_alpha: 16\nlora_dropout: 0.0\nlora_target_linear: true\n"
                "micro_batch_size: 4\ngradient_accumulation_steps: 1\nmax_steps: 30\noptimizer: adamw_torch\n"
                "lr_scheduler: constant\nlearning_rate: 0.01\nweight_decay: 0.0\nlogging_steps: 10\n"
                f"save_steps: 1000\noutput_dir: {out_dir}\n")
    run([axl, "train", cfg, "--threads", str(THREADS)])
    merged = os.path.join(scratch, "merged-f32.gguf")
    run([axl, "export", "gguf", "--config", cfg, "--outtype", "f32", "--out", merged])
    entries, g_ok = greedy_check(llama(merged, f32_kv=True), axl, hf, prompts, adapter=out_dir)
    lora_logits = axl_forward(axl, hf, seq, scratch, "lora", adapter=out_dir)
    lm = llama_logits(llama(merged, logits_all=True, f32_kv=True), seq)
    result["merged_f32"] = {"greedy": entries, "max_abs_logit_diff": float(np.abs(lm - lora_logits).max()),
                            "top1_agreement": float((lm.argmax(-1) == lora_logits.argmax(-1)).mean()),
                            "adapter_moves_logits_by": float(np.abs(lora_logits - base_logits).max())}
    ok = ok and g_ok
    log(f"merged (--config) greedy: {[e['match'] for e in entries]}")

    adapter = os.path.join(scratch, "lora-adapter.gguf")
    run([axl, "export", "gguf", "--model", hf, "--adapter", out_dir, "--outtype", "f32", "--out", adapter])
    lora_llm = llama_with_lora(ggufs["f32"], adapter)
    entries, g_ok = greedy_check(lora_llm, axl, hf, prompts, adapter=out_dir)
    la = llama_logits(lora_llm, seq)
    result["adapter_gguf"] = {"greedy": entries, "max_abs_logit_diff": float(np.abs(la - lora_logits).max()),
                              "top1_agreement": float((la.argmax(-1) == lora_logits.argmax(-1)).mean())}
    ok = ok and g_ok
    log(f"adapter GGUF greedy: {[e['match'] for e in entries]}")

    result["smollm2_gpt2_bpe"], s_ok = smollm2_check(axl, scratch)
    ok = ok and s_ok
    log(f"SmolLM2 re-export: tokenizer fields differing {result['smollm2_gpt2_bpe']['tokenizer_fields_differing']}, "
        f"greedy {[e['match'] for e in result['smollm2_gpt2_bpe']['greedy']]}")

    result["ok"] = ok
    print(json.dumps(result))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
