#!/usr/bin/env python3
"""Writes tests/tokenizer/component_cases.inc: small hand-written tokenizer.json snippets, one
per component type, with the ids / tokens / offsets / decoded text the live HF `tokenizers`
(0.22.2, .venv-peer) gives for a few inputs. The C++ unit tests replay them. Rerun after editing
the cases:  .venv-peer/bin/python tests/peers/tokenizer_component_cases.py
"""
import json, os, sys
import tokenizers
from tokenizers import Tokenizer

ALPHA = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,!?'-_\u2581#\u00e9"


def char_vocab(extra=()):
    v = {}
    for c in ALPHA:
        v.setdefault(c, len(v))
    for t in extra:
        v.setdefault(t, len(v))
    return v


def bpe(merges, extra=(), **kw):
    toks = list(extra)
    for a, b in merges:
        toks.append(a + b)
    m = {"type": "BPE", "dropout": None, "unk_token": "[UNK]", "continuing_subword_prefix": None,
         "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
         "vocab": char_vocab(["[UNK]", "[CLS]", "[SEP]", "<s>", "</s>"] + toks), "merges": [f"{a} {b}" for a, b in merges]}
    m.update(kw)
    return m


def byte_level_bpe(merges):
    from tokenizers.pre_tokenizers import ByteLevel
    alphabet = ByteLevel.alphabet()
    v = {c: i for i, c in enumerate(sorted(alphabet))}
    for a, b in merges:
        v.setdefault(a + b, len(v))
    return {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
            "vocab": v, "merges": [[a, b] for a, b in merges]}


def tok(model, normalizer=None, pre=None, post=None, decoder=None, added=()):
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": list(added),
            "normalizer": normalizer, "pre_tokenizer": pre, "post_processor": post, "decoder": decoder,
            "model": model}


def added(content, id, special=True, lstrip=False, rstrip=False, single_word=False, normalized=False):
    return {"id": id, "content": content, "single_word": single_word, "lstrip": lstrip, "rstrip": rstrip,
            "normalized": normalized, "special": special}


WS = {"type": "WhitespaceSplit"}
MERGES = [("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o"), ("w", "o"), ("r", "l"), ("wo", "rl"), ("worl", "d")]
base = bpe(MERGES)
v = base["vocab"]
CASES = [
    # name, tokenizer json, inputs
    ("nfc_lowercase", tok(base, {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Lowercase"}]}, WS),
     ["HeLLo WORLD", "Cafe\u0301 E\u0301"]),
    ("nfkc", tok(base, {"type": "NFKC"}, WS), ["\uff48\uff45llo \u2460"]),
    ("strip_prepend_replace", tok(base, {"type": "Sequence", "normalizers": [
        {"type": "Strip", "strip_left": True, "strip_right": True},
        {"type": "Prepend", "prepend": "\u2581"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}, None),
     ["  hello world  ", "hello"]),
    ("replace_regex", tok(base, {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "}, WS),
     ["hello \t\n world"]),
    ("split_isolated", tok(base, None, {"type": "Split", "pattern": {"Regex": "[0-9]+|[a-z]+"}, "behavior": "Isolated", "invert": False}),
     ["hello123world, hi"]),
    ("split_removed", tok(base, None, {"type": "Split", "pattern": {"String": " "}, "behavior": "Removed", "invert": False}),
     ["hello  world "]),
    ("split_merged_prev", tok(base, None, {"type": "Split", "pattern": {"String": "l"}, "behavior": "MergedWithPrevious", "invert": False}),
     ["hello world"]),
    ("split_merged_next", tok(base, None, {"type": "Split", "pattern": {"String": "l"}, "behavior": "MergedWithNext", "invert": False}),
     ["hello world"]),
    ("split_contiguous", tok(base, None, {"type": "Split", "pattern": {"String": "l"}, "behavior": "Contiguous", "invert": False}),
     ["hello world"]),
    ("split_invert", tok(base, None, {"type": "Split", "pattern": {"Regex": "[a-z]+"}, "behavior": "Removed", "invert": True}),
     ["hello, world!"]),
    ("metaspace_always", tok(bpe(MERGES + [("\u2581", "hello")]), None,
                             {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
                             decoder={"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}),
     ["hello world", " hello"]),
    ("metaspace_first_nosplit", tok(bpe(MERGES + [("\u2581", "hello")]), None,
                                    {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False},
                                    decoder={"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False},
                                    added=[added("<s>", v["<s>"])]),
     ["hello world", "<s>hello"]),
    ("digits", tok(base, None, {"type": "Sequence", "pretokenizers": [WS, {"type": "Digits", "individual_digits": False}]}),
     ["abc123def 45"]),
    ("digits_individual", tok(base, None, {"type": "Digits", "individual_digits": True}), ["a123"]),
    ("whitespace", tok(base, None, {"type": "Whitespace"}), ["hello, world!! it's"]),
    ("punctuation", tok(base, None, {"type": "Punctuation", "behavior": "Isolated"}), ["hi,, there!?"]),
    ("byte_level_regex", tok(byte_level_bpe([("\u0120", "h"), ("\u0120h", "i"), ("h", "i"), ("\u00c3", "\u00a9")]), None,
                             {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
                             post={"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
                             decoder={"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}),
     ["hi hi  caf\u00e9 \U0001F600", "hi"]),
    ("byte_level_noregex", tok(byte_level_bpe([("\u0120", "h"), ("\u0120h", "i"), ("h", "i")]), None,
                               {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
                               decoder={"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}),
     ["hi hi"]),
    ("bpe_byte_fallback_fuse_unk", tok(bpe(MERGES, extra=[f"<0x{b:02X}>" for b in range(256)], byte_fallback=True), None, WS,
                                       decoder={"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]}),
     ["hello \u00fcber \u4f60"]),
    ("bpe_unk_fused", tok(bpe(MERGES, fuse_unk=True), None, WS), ["h\u00fc\u00fc\u00fcllo \u4f60\u4f60"]),
    ("bpe_unk_unfused", tok(bpe(MERGES, fuse_unk=False), None, WS), ["h\u00fc\u00fcllo"]),
    ("bpe_ignore_merges", tok(bpe([("h", "e"), ("l", "l")], extra=["hello"], ignore_merges=True), None, WS), ["hello helloo"]),
    ("bpe_subword_affixes", tok(bpe([("h", "##e"), ("he", "##l"), ("##l", "##o</w>")],
                                    extra=["##e", "##l", "##o", "##o</w>", "##l</w>", "o</w>", "he", "hel", "##lo</w>"],
                                    continuing_subword_prefix="##", end_of_word_suffix="</w>"), None, WS,
                                decoder={"type": "BPEDecoder", "suffix": "</w>"}),
     ["hello"]),
    ("wordpiece", tok({"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 8,
                       "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "hello": 3, "he": 4, "##llo": 5, "##l": 6, "##o": 7, "world": 8, ",": 9, "un": 10, "##aff": 11, "##able": 12}},
                      None, {"type": "BertPreTokenizer"},
                      post={"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1]},
                      decoder={"type": "WordPiece", "prefix": "##", "cleanup": True}),
     ["hello, world unaffable helol xyz", "abcdefghijk"]),
    ("unigram", tok({"type": "Unigram", "unk_id": 0, "byte_fallback": False,
                     "vocab": [["<unk>", 0.0], ["\u2581", -2.0], ["\u2581he", -3.0], ["llo", -3.5], ["\u2581hello", -4.0], ["h", -5.0], ["e", -5.0], ["l", -5.0], ["o", -5.0], ["\u2581w", -4.0], ["orld", -4.5], ["\u2581world", -9.5]]},
                    None, {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
                    decoder={"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}),
     ["hello world", "hexyz hello"]),
    ("unigram_byte_fallback", tok({"type": "Unigram", "unk_id": 0, "byte_fallback": True,
                                   "vocab": [["<unk>", 0.0], ["a", -1.0], ["b", -2.0], ["ab", -2.5]] + [[f"<0x{b:02X}>", -10.0] for b in range(256)]},
                                  None, None, decoder={"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]}),
     ["ab\u00e9ba"]),
    ("template_processing", tok(base, None, WS, post={"type": "TemplateProcessing",
                                                       "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                                                       "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                                                       "special_tokens": {"<s>": {"id": "<s>", "ids": [v["<s>"]], "tokens": ["<s>"]}, "</s>": {"id": "</s>", "ids": [v["</s>"]], "tokens": ["</s>"]}}},
                                added=[added("<s>", v["<s>"]), added("</s>", v["</s>"])]),
     ["hello world"]),
    ("roberta_processing", tok(byte_level_bpe([("\u0120", "h"), ("\u0120h", "i"), ("h", "i")]), None,
                               {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
                               post={"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0], "trim_offsets": True, "add_prefix_space": False}),
     ["hi  hi"]),
    ("post_sequence", tok(byte_level_bpe([("\u0120", "h"), ("\u0120h", "i"), ("h", "i")]), None,
                          {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
                          post={"type": "Sequence", "processors": [
                              {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
                              {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "!", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                               "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                               "special_tokens": {"!": {"id": "!", "ids": [0], "tokens": ["!"]}}}]}),
     ["hi hi"]),
    ("added_tokens_flags", tok(base, {"type": "Lowercase"}, WS, decoder={"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "Strip", "content": " ", "start": 1, "stop": 1}]},
                               added=[added("[CLS]", v["[CLS]"], lstrip=True, rstrip=True),
                                      added("HELLO", len(v), special=False, normalized=True),
                                      added("wor", len(v) + 1, special=False, single_word=True),
                                      added("[SEP]", v["[SEP]"])]),
     ["hi  [CLS]  there HeLLo wor world[SEP]x", "hello"]),
]


def main():
    out = ["// Generated by tests/peers/tokenizer_component_cases.py with HF tokenizers " + tokenizers.__version__ + ".",
           "// Each case: a tokenizer.json, inputs, and what the live `tokenizers` returned.", ""]
    cases = []
    for name, tj, inputs in CASES:
        t = Tokenizer.from_str(json.dumps(tj))
        res = []
        for text in inputs:
            e = t.encode(text, add_special_tokens=False)
            es = t.encode(text, add_special_tokens=True)
            res.append({"text": text, "ids": e.ids, "tokens": e.tokens, "offsets": [list(o) for o in e.offsets],
                        "ids_with_special": es.ids, "offsets_with_special": [list(o) for o in es.offsets],
                        "decoded": t.decode(es.ids, skip_special_tokens=False),
                        "decoded_skip": t.decode(es.ids, skip_special_tokens=True)})
        cases.append({"name": name, "tokenizer": tj, "results": res})
    blob = json.dumps(cases, ensure_ascii=False)
    out.append('static const char* kComponentCases = R"AXLJSON(' + blob + ')AXLJSON";')
    path = os.path.join(os.path.dirname(__file__), "..", "tokenizer", "component_cases.inc")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {path}: {len(cases)} cases")


if __name__ == "__main__":
    main()
