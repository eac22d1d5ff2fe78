#!/usr/bin/env python3
"""Preprocessing throughput: our `axolotl preprocess` (parse, template, tokenize, mask, pack, write)
against the bare Rust Hugging Face tokenizer (PyPI `tokenizers`, the floor under every Python
Axolotl preprocess) on the same text, and against Python Axolotl's own `axolotl preprocess` on
the same config. One JSON line per measurement.

Cases (Llama 3 tokenizer, sample_packing on):
  alpaca       fixture stanford_alpaca_data_1k.json, type alpaca (1000 rows, ~104k tokens)
  alpaca_x10   the same rows 10 times (~1.04M tokens: the "1M tokens under 0.5 s" goal)
  alpaca_x100  the same rows 100 times (~10.4M tokens)
  sharegpt     fixture sharegpt_v3_sample500.json, type chat_template (the tokenizer's Llama 3
               template), conversations/from/value as in the parity test (500 rows, ~715k tokens)

Per case:
  ours   `axolotl preprocess --threads T --rebuild-cache`, a fresh dataset_prepared_path per run,
         T = 1 and all cores: prepare_s / prepare_cpu_s (the binary's own "prepared in": datasets
         read, templated, tokenized, masked, length rules, packing plan, cache written; the
         tokenizer load is reported apart as tokenizer_load_s) and wall_s / cpu_s (the whole
         process). Median of --runs runs.
  rust   tokenizers.Tokenizer.from_file + encode_batch on the rendered prompts (the text our
         tokenizer sees: alpaca prompts rendered as Axolotl's alpaca prompter does, chat rendered
         by transformers' apply_chat_template), RAYON_NUM_THREADS=1 and all cores; best of --runs.
  axolotl `axolotl preprocess CFG` of Axolotl 0.19 (.venv-axolotl) on the same config (alpaca and
         sharegpt; alpaca_x10/x100 only with --axolotl-large): wall_s and tokens/s, then the
         multiset of (input_ids, labels) it saved compared with ours (train.bin).
  Ratios: ours/rust tokens/s at equal threads: prepare wall, process wall, and CPU seconds per
         token (prepare; whole process); axolotl wall / ours wall and CPU / CPU.

Every measurement also carries cpu_s (user+sys of the process(es)) and the 1-minute load
average, because on a shared 2-core machine wall time mostly measures the neighbours.

usage: .venv-peer/bin/python bench/preprocess_throughput.py AXOLOTL_BIN FIXTURES_DIR
           [--runs 3] [--cases alpaca,alpaca_x10,alpaca_x100,sharegpt] [--axolotl PATH|none]
           [--axolotl-large] [--append FILE] [--label TEXT]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

ALPACA_INPUT = ("Below is an instruction that describes a task, paired with an input that provides further context. "
                "Write a response that appropriately completes the request.\n\n"
                "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n")
ALPACA_NO_INPUT = ("Below is an instruction that describes a task. Write a response that appropriately completes "
                   "the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n")
SHAREGPT_ROLES = {"human": "user", "gpt": "assistant", "system": "system"}


def children_cpu():
    r = os.times()
    return r.children_user + r.children_system


def load1():
    return round(os.getloadavg()[0], 2)


def model_dir(tmp, fixtures):
    """The llama3 tokenizer folder plus a tiny config.json (Axolotl's preprocess reads the model
    config; we read only the tokenizer), so both sides get the same base_model."""
    d = os.path.join(tmp, "llama3")
    os.makedirs(d, exist_ok=True)
    src = os.path.join(fixtures, "tokenizers", "llama3")
    for name in os.listdir(src):
        os.symlink(os.path.join(src, name), os.path.join(d, name))
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 128256,
                   "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 2,
                   "num_key_value_heads": 1, "max_position_embeddings": 8192, "bos_token_id": 128000,
                   "eos_token_id": 128001, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
                   "tie_word_embeddings": False}, f)
    return d


def make_cases(tmp, fixtures, names):
    alpaca = os.path.join(fixtures, "datasets", "alpaca", "stanford_alpaca_data_1k.json")
    sharegpt = os.path.join(fixtures, "datasets", "sharegpt", "sharegpt_v3_sample500.json")
    cases = {}
    with open(alpaca) as f:
        rows = json.load(f)
    for name, times in (("alpaca", 1), ("alpaca_x10", 10), ("alpaca_x100", 100)):
        if name not in names:
            continue
        path = alpaca
        if times > 1:
            path = os.path.join(tmp, f"{name}.json")
            with open(path, "w") as f:
                json.dump(rows * times, f)
        cases[name] = {"path": path, "rows": rows * times, "seq": 2048,
                       "dataset": f"  - path: {path}\n    type: alpaca\n"}
    if "sharegpt" in names:
        with open(sharegpt) as f:
            rows = json.load(f)
        cases["sharegpt"] = {"path": sharegpt, "rows": rows, "seq": 8192,
                             "dataset": f"  - path: {sharegpt}\n    type: chat_template\n"
                                        "    field_messages: conversations\n    message_property_mappings:\n"
                                        "      role: from\n      content: value\n"}
    return cases


def write_config(path, base, case, prepared):
    with open(path, "w") as f:
        f.write(f"base_model: {base}\nsequence_len: {case['seq']}\nsample_packing: true\n"
                f"dataset_prepared_path: {prepared}\ndatasets:\n{case['dataset']}"
                "val_set_size: 0\nmicro_batch_size: 1\ngradient_accumulation_steps: 1\nlearning_rate: 0.0001\n"
                f"num_epochs: 1\noutput_dir: {os.path.dirname(path)}/out\n")


def rendered_texts(case_name, case, base):
    """What our tokenizer sees for each sample, rendered the way the prompt strategy does."""
    if case_name.startswith("alpaca"):
        out = []
        for r in case["rows"]:
            fmt = ALPACA_INPUT if r.get("input") else ALPACA_NO_INPUT
            out.append(fmt.format(instruction=r["instruction"], input=r.get("input", "")) + r["output"])
        return out, True
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(base)
    out = []
    for r in case["rows"]:
        msgs = [{"role": SHAREGPT_ROLES[m["from"]], "content": m["value"]} for m in r["conversations"]]
        out.append(tok.apply_chat_template(msgs, tokenize=False))
    return out, False  # the template writes <|begin_of_text|> itself


RUST_CHILD = r"""
import json, sys, time
from tokenizers import Tokenizer
path, texts_file, add_special, runs = sys.argv[1], sys.argv[2], sys.argv[3] == "1", int(sys.argv[4])
t0 = time.perf_counter()
tok = Tokenizer.from_file(path)
load_s = time.perf_counter() - t0
texts = json.load(open(texts_file))
best, best_cpu = 1e30, 1e30
for _ in range(runs):
    c0, t0 = time.process_time(), time.perf_counter()
    enc = tok.encode_batch(texts, add_special_tokens=add_special)
    t, c = time.perf_counter() - t0, time.process_time() - c0
    if t < best: best, best_cpu = t, c
print(json.dumps({"tokens": sum(len(e.ids) for e in enc), "encode_s": best, "cpu_s": best_cpu, "load_s": load_s}))
"""


def run_rust(tokenizer_json, texts_file, add_special, threads, runs):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="true")
    out = subprocess.run([sys.executable, "-c", RUST_CHILD, tokenizer_json, texts_file, "1" if add_special else "0",
                          str(runs)], env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_ours(axl, cfg_path, prepared_root, threads, runs):
    prep, prep_cpu, load, load_cpu, wall, cpu, last = [], [], [], [], [], [], ""
    for i in range(runs):
        fresh = os.path.join(prepared_root, f"t{threads}-{i}")
        c0, t0 = children_cpu(), time.perf_counter()
        last = subprocess.run([axl, "preprocess", cfg_path, "--threads", str(threads), "--rebuild-cache",
                               f"--dataset-prepared-path={fresh}"], capture_output=True, text=True, check=True).stdout
        wall.append(time.perf_counter() - t0)
        cpu.append(children_cpu() - c0)
        prep.append(float(re.search(r"prepared in ([0-9.e+-]+) s", last).group(1)))
        # Older binaries (the "before" column) print neither CPU time nor the tokenizer load.
        m = re.search(r"prepared in .*, ([0-9.e+-]+) s CPU\)", last)
        prep_cpu.append(float(m.group(1)) if m else float("nan"))
        m = re.search(r"tokenizer loaded in ([0-9.e+-]+) s \(([0-9.e+-]+) s CPU\)", last)
        load.append(float(m.group(1)) if m else float("nan"))
        load_cpu.append(float(m.group(2)) if m else float("nan"))
    m = re.search(r"total: (\d+) rows, (\d+) samples, kept (\d+) .*?; (\d+) tokens, (\d+) trainable", last)
    packed = re.search(r"sample packing: (\d+) rows", last)
    store = os.path.join(fresh, os.listdir(fresh)[0], "train.bin")
    return {"rows": int(m.group(1)), "kept": int(m.group(3)), "tokens": int(m.group(4)),
            "trainable": int(m.group(5)), "packed_rows": int(packed.group(1)) if packed else None,
            "prepare_s": statistics.median(prep), "prepare_cpu_s": statistics.median(prep_cpu),
            "load_s": statistics.median(load), "load_cpu_s": statistics.median(load_cpu),
            "wall_s": statistics.median(wall), "cpu_s": statistics.median(cpu), "store": store}


def read_store(path):
    """(input_ids, labels) per record from our train.bin (tokenized_store_file.h's layout)."""
    with open(path, "rb") as f:
        data = f.read()
    magic, _version, nseq, records = struct.unpack_from("<8sIIQ", data, 0)
    assert magic == b"AXLTOKS\0", path
    seqs = {}
    for s in range(nseq):
        name, off_pos, tok_pos, count = struct.unpack_from("<40sQQQ", data, 64 + 64 * s)
        offsets = struct.unpack_from(f"<{records + 1}Q", data, off_pos)
        tokens = struct.unpack_from(f"<{count}i", data, tok_pos)
        seqs[name.rstrip(b"\0").decode()] = [tokens[offsets[r]:offsets[r + 1]] for r in range(records)]
    return list(zip(seqs["input_ids"], seqs["labels"]))


AXOLOTL_DUMP = r"""
import glob, json, os, sys
from datasets import load_from_disk
root = sys.argv[1]
d = [p for p in glob.glob(os.path.join(root, "*")) if os.path.isdir(p)][0]
ds = load_from_disk(d)
json.dump(ds.select_columns(["input_ids", "labels"]).to_dict(), open(sys.argv[2], "w"))
"""


def run_axolotl(axolotl_bin, cfg_path, prepared, tmp):
    env = dict(os.environ, AXOLOTL_DO_NOT_TRACK="1", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", DO_NOT_TRACK="1")
    c0, t0 = children_cpu(), time.perf_counter()
    r = subprocess.run([axolotl_bin, "preprocess", cfg_path], capture_output=True, text=True, env=env,
                       cwd=os.path.dirname(cfg_path))
    wall, cpu = time.perf_counter() - t0, children_cpu() - c0
    if r.returncode != 0:
        return {"error": (r.stdout + r.stderr)[-600:]}
    dump = os.path.join(tmp, "axolotl-samples.json")
    python = os.path.join(os.path.dirname(axolotl_bin), "python")
    r = subprocess.run([python, "-c", AXOLOTL_DUMP, prepared, dump], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        return {"error": "reading its prepared dataset: " + r.stderr[-600:]}
    with open(dump) as f:
        d = json.load(f)
    samples = [(tuple(i), tuple(l)) for i, l in zip(d["input_ids"], d["labels"])]
    return {"wall_s": wall, "cpu_s": cpu, "samples": samples}


def compare(ours, theirs):
    """Multiset equality of (input_ids, labels): both sides shuffle with their own RNG."""
    a, b = sorted(ours), sorted(theirs)
    if a == b:
        return {"equal": True, "samples": len(a)}
    sa, sb = set(a), set(b)
    return {"equal": False, "ours_samples": len(a), "axolotl_samples": len(b),
            "only_ours": len(sa - sb), "only_axolotl": len(sb - sa)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("axl")
    ap.add_argument("fixtures")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cases", default="alpaca,alpaca_x10,alpaca_x100,sharegpt")
    ap.add_argument("--axolotl", default=os.path.join(REPO, ".venv-axolotl", "bin", "axolotl"))
    ap.add_argument("--axolotl-large", action="store_true", help="also run Axolotl on alpaca_x10 / x100")
    ap.add_argument("--append", help="also append the JSON lines to this file")
    ap.add_argument("--label", help="a tag put in every line (e.g. which build was measured)")
    args = ap.parse_args()
    axl = os.path.abspath(args.axl)
    cores = os.cpu_count() or 1
    names = args.cases.split(",")
    sink = open(args.append, "a") if args.append else None

    def emit(rec):
        rec = {k: (None if isinstance(v, float) and v != v else v) for k, v in rec.items()}  # NaN: not measured
        rec["load1"] = load1()
        if args.label:
            rec["label"] = args.label
        line = json.dumps(rec)
        print(line, flush=True)
        if sink:
            sink.write(line + "\n")
            sink.flush()

    with tempfile.TemporaryDirectory() as tmp:
        base = model_dir(tmp, args.fixtures)
        tokenizer_json = os.path.join(base, "tokenizer.json")
        for name, case in make_cases(tmp, args.fixtures, names).items():
            work = os.path.join(tmp, name)
            os.makedirs(work)
            cfg = os.path.join(work, "cfg.yml")
            write_config(cfg, base, case, os.path.join(work, "prepared"))
            texts, add_special = rendered_texts(name, case, base)
            texts_file = os.path.join(work, "texts.json")
            with open(texts_file, "w") as f:
                json.dump(texts, f)
            ours_by_threads = {}
            for threads in sorted({1, cores}):
                o = run_ours(axl, cfg, os.path.join(work, "ours"), threads, args.runs)
                ours_by_threads[threads] = o
                rust = run_rust(tokenizer_json, texts_file, add_special, threads, args.runs)
                tps = o["tokens"] / o["prepare_s"]
                rust_tps = rust["tokens"] / rust["encode_s"]
                emit({"bench": "preprocess_throughput", "case": name, "side": "ours", "threads": threads,
                      "rows": o["rows"], "tokens": o["tokens"], "trainable": o["trainable"],
                      "packed_rows": o["packed_rows"], "prepare_s": round(o["prepare_s"], 4),
                      "prepare_cpu_s": round(o["prepare_cpu_s"], 4), "tokenizer_load_s": round(o["load_s"], 4),
                      "tokenizer_load_cpu_s": round(o["load_cpu_s"], 4),
                      "wall_s": round(o["wall_s"], 4), "cpu_s": round(o["cpu_s"], 4),
                      "samples_per_s": round(o["rows"] / o["prepare_s"]), "tokens_per_s": round(tps),
                      "wall_tokens_per_s": round(o["tokens"] / o["wall_s"]), "runs": args.runs})
                emit({"bench": "preprocess_throughput", "case": name, "side": "rust_tokenizers", "threads": threads,
                      "texts": len(texts), "tokens": rust["tokens"], "encode_s": round(rust["encode_s"], 4),
                      "cpu_s": round(rust["cpu_s"], 4), "load_s": round(rust["load_s"], 4),
                      "tokens_per_s": round(rust_tps)})
                emit({"bench": "preprocess_throughput", "case": name, "side": "ratio", "threads": threads,
                      "ours_prepare_over_rust": round(tps / rust_tps, 2),
                      "ours_wall_over_rust": round((o["tokens"] / o["wall_s"]) / rust_tps, 2),
                      # both with their tokenizer load: our whole process vs Tokenizer.from_file + encode_batch
                      "ours_wall_over_rust_with_load": round((o["tokens"] / o["wall_s"]) /
                                                             (rust["tokens"] / (rust["load_s"] + rust["encode_s"])), 2),
                      # CPU seconds per token (rust encode_batch / our preparing; / our whole process)
                      "ours_prepare_cpu_over_rust": round((rust["cpu_s"] / rust["tokens"]) /
                                                          (o["prepare_cpu_s"] / o["tokens"]), 2),
                      "ours_process_cpu_over_rust": round((rust["cpu_s"] / rust["tokens"]) /
                                                          (o["cpu_s"] / o["tokens"]), 2)})
            large = name in ("alpaca_x10", "alpaca_x100")
            if args.axolotl == "none" or not os.path.exists(args.axolotl) or (large and not args.axolotl_large):
                continue
            prepared = os.path.join(work, "axolotl-prepared")
            write_config(cfg, base, case, prepared)
            a = run_axolotl(args.axolotl, cfg, prepared, work)
            if "error" in a:
                emit({"bench": "preprocess_throughput", "case": name, "side": "axolotl", "error": a["error"]})
                continue
            o = ours_by_threads[cores]
            a_tokens = sum(len(i) for i, _ in a["samples"])
            emit({"bench": "preprocess_throughput", "case": name, "side": "axolotl", "samples": len(a["samples"]),
                  "tokens": a_tokens, "wall_s": round(a["wall_s"], 3), "cpu_s": round(a["cpu_s"], 3),
                  "wall_tokens_per_s": round(a_tokens / a["wall_s"]),
                  "axolotl_wall_over_ours_wall": round(a["wall_s"] / o["wall_s"], 1),
                  "axolotl_cpu_over_ours_cpu": round(a["cpu_s"] / o["cpu_s"], 1), "ours_threads": cores})
            emit({"bench": "preprocess_throughput", "case": name, "side": "parity",
                  **compare(read_store(o["store"]), a["samples"])})
            shutil.rmtree(prepared, ignore_errors=True)
    if sink:
        sink.close()


if __name__ == "__main__":
    main()
