#!/usr/bin/env python3
"""Generate extra tiny Hugging Face reference fixtures (transformers 5.x).

Usage:
    .venv-peer/bin/python tests/peers/make_hf_reference.py OUT_DIR

Writes, for each model below, OUT_DIR/<Name>/ with
    config.json, generation_config.json, model.safetensors   (save_pretrained, safe_serialization)
    reference.safetensors                                    (same layout as /work/shared/fixtures/hf-tiny)

Models:
    Qwen3ForCausalLM              q_norm/k_norm, tied lm_head, rope_theta 1e6
    Gemma2ForCausalLM             4 layers (sliding, full, sliding, full), sliding_window 6,
                                  query_pre_attn_scalar 24, attn softcap 2.0, final softcap 3.0
    LlamaRope3SlidingForCausalLM  MistralForCausalLM, sliding_window 5, llama3 rope
                                  (factor 8, low 1, high 4, original_max_position_embeddings 8)

Conventions (identical to the hf-tiny README):
  * weights: transformers initialiser with initializer_range 0.1 right after torch.manual_seed(0);
    then every parameter the initialiser leaves constant (norm weights, biases) gets N(0, 0.01)
    noise from a torch.Generator seeded 1, parameters visited in sorted-name order.
  * input_ids [2, 16] = torch.randint(0, 256, generator=Generator().manual_seed(1234)).
  * attention_mask all ones; pad_attention_mask zeroes row 1 positions 12..15; pad_labels is
    input_ids with -100 where masked. Position ids are 0..15 for both rows (the model's default).
  * float32, eager attention, eval mode, torch.no_grad(), CPU.
  * hidden_states is [L+1, B, T, H]: entry i < L is the input of decoder layer i (entry 0 is
    the embedding output, times sqrt(hidden) for Gemma2), the last entry is the output of the
    final norm. It is captured with our own forward hooks (pre-hooks on every decoder layer and a
    forward hook on model.model.norm), so the layout does not depend on how a transformers version
    assembles output_hidden_states; the script also asserts that it equals transformers'
    output_hidden_states (which in 5.x has the same layout).
  * The saved model is reloaded with from_pretrained and must reproduce logits and pad_logits
    bit for bit.
"""

import json
import os
import sys

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
import transformers
from safetensors.torch import save as st_save
from transformers import (
    Gemma2Config,
    Gemma2ForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen3Config,
    Qwen3ForCausalLM,
)

VOCAB = 256
BATCH, SEQ = 2, 16
PAD_ROW, PAD_FROM = 1, 12

COMMON = dict(
    vocab_size=VOCAB,
    hidden_size=64,
    intermediate_size=128,
    num_attention_heads=4,
    num_key_value_heads=2,
    initializer_range=0.1,
    attention_dropout=0.0,
    bos_token_id=1,
    eos_token_id=2,
    pad_token_id=None,
    use_cache=True,
)


def qwen3_config():
    return Qwen3Config(
        **COMMON,
        num_hidden_layers=2,
        head_dim=16,
        hidden_act="silu",
        max_position_embeddings=128,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        attention_bias=False,
        use_sliding_window=False,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
    )


def gemma2_config():
    return Gemma2Config(
        **COMMON,
        num_hidden_layers=4,
        head_dim=32,
        hidden_activation="gelu_pytorch_tanh",
        max_position_embeddings=128,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        attention_bias=False,
        query_pre_attn_scalar=24,
        sliding_window=6,
        attn_logit_softcapping=2.0,
        final_logit_softcapping=3.0,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
    )


def mistral_llama3_sliding_config():
    return MistralConfig(
        **COMMON,
        num_hidden_layers=2,
        head_dim=16,
        hidden_act="silu",
        max_position_embeddings=64,
        rms_norm_eps=1e-5,
        tie_word_embeddings=False,
        sliding_window=5,
        rope_parameters={
            "rope_type": "llama3",
            "rope_theta": 10000.0,
            "factor": 8.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 8,
        },
    )


MODELS = [
    ("Qwen3ForCausalLM", Qwen3ForCausalLM, qwen3_config),
    ("Gemma2ForCausalLM", Gemma2ForCausalLM, gemma2_config),
    ("LlamaRope3SlidingForCausalLM", MistralForCausalLM, mistral_llama3_sliding_config),
]


def make_inputs():
    g = torch.Generator().manual_seed(1234)
    input_ids = torch.randint(0, VOCAB, (BATCH, SEQ), generator=g, dtype=torch.int64)
    attention_mask = torch.ones(BATCH, SEQ, dtype=torch.int64)
    pad_attention_mask = attention_mask.clone()
    pad_attention_mask[PAD_ROW, PAD_FROM:] = 0
    pad_labels = input_ids.masked_fill(pad_attention_mask == 0, -100)
    return input_ids, attention_mask, pad_attention_mask, pad_labels


def build_model(cls, config):
    config._attn_implementation = "eager"
    torch.manual_seed(0)
    model = cls(config)
    model.to(torch.float32)
    # Noise on everything the initialiser left constant (norm weights at 1 or 0, biases at 0).
    g = torch.Generator().manual_seed(1)
    noised = []
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            if p.numel() > 1 and bool((p == p.reshape(-1)[0]).all()):
                p.add_(torch.randn(p.shape, generator=g, dtype=torch.float32) * 0.01)
                noised.append(name)
    model.eval()
    return model, noised


class HiddenCapture:
    """Records the input of every decoder layer and the output of the final norm."""

    def __init__(self, model):
        self.layer_inputs = {}
        self.norm_out = None
        self.handles = []
        for i, layer in enumerate(model.model.layers):
            self.handles.append(layer.register_forward_pre_hook(self._pre(i), with_kwargs=True))
        self.handles.append(model.model.norm.register_forward_hook(self._norm_hook))

    def _pre(self, i):
        def hook(module, args, kwargs):
            x = args[0] if args else kwargs["hidden_states"]
            self.layer_inputs[i] = x.detach().clone()

        return hook

    def _norm_hook(self, module, args, output):
        self.norm_out = output.detach().clone()

    def reset(self):
        self.layer_inputs, self.norm_out = {}, None

    def stacked(self):
        n = len(self.layer_inputs)
        return torch.stack([self.layer_inputs[i] for i in range(n)] + [self.norm_out]).contiguous()

    def remove(self):
        for h in self.handles:
            h.remove()


def run_reference(model, input_ids, attention_mask, pad_attention_mask, pad_labels):
    cap = HiddenCapture(model)
    with torch.no_grad():
        cap.reset()
        out = model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            labels=input_ids,
            output_hidden_states=True,
            use_cache=False,
        )
        hidden = cap.stacked()
        pad = model(
            input_ids=input_ids,
            attention_mask=pad_attention_mask,
            labels=pad_labels,
            use_cache=False,
        )
    cap.remove()

    L = model.config.num_hidden_layers
    assert hidden.shape == (L + 1, BATCH, SEQ, model.config.hidden_size), hidden.shape
    # transformers' own output_hidden_states must agree with the README layout.
    hf_hidden = torch.stack(out.hidden_states)
    assert hf_hidden.shape == hidden.shape, (hf_hidden.shape, hidden.shape)
    assert torch.equal(hf_hidden, hidden), "output_hidden_states layout differs from the README's"

    ref = {
        "input_ids": input_ids.contiguous(),
        "attention_mask": attention_mask.contiguous(),
        "logits": out.logits.float().contiguous(),
        "loss": out.loss.float().reshape(1).contiguous(),
        "hidden_states": hidden.float(),
        "pad_attention_mask": pad_attention_mask.contiguous(),
        "pad_labels": pad_labels.contiguous(),
        "pad_logits": pad.logits.float().contiguous(),
        "pad_loss": pad.loss.float().reshape(1).contiguous(),
    }
    return ref


def check_loss(ref):
    """Independent recomputation of the causal-LM losses from the stored logits."""
    for lk, lab, logit in (("loss", "input_ids", "logits"), ("pad_loss", "pad_labels", "pad_logits")):
        logits = ref[logit][:, :-1].reshape(-1, VOCAB)
        labels = ref[lab][:, 1:].reshape(-1)
        keep = labels != -100
        lp = torch.log_softmax(logits.double(), -1)[keep]
        want = -lp.gather(1, labels[keep][:, None]).mean()
        assert abs(want.item() - ref[lk].item()) < 1e-5 * max(1.0, abs(want.item())), (lk, want, ref[lk])


def save_deterministic(tensors, path, metadata):
    """safetensors.torch.save, but with the __metadata__ keys sorted.

    The Rust serializer writes the metadata map in hash order, which changes from run to run;
    re-emitting the (compact) JSON header with sorted metadata keys keeps its length, the
    tensor entries and the data untouched, and makes the file byte-for-byte reproducible.
    """
    data = st_save(tensors, metadata=metadata)
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    assert len(text) <= n, (len(text), n)
    text = text + b" " * (n - len(text))
    with open(path, "wb") as f:
        f.write(data[:8] + text + data[8 + n :])


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    out_root = sys.argv[1]
    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    input_ids, attention_mask, pad_attention_mask, pad_labels = make_inputs()

    for name, cls, make_config in MODELS:
        out_dir = os.path.join(out_root, name)
        os.makedirs(out_dir, exist_ok=True)
        model, noised = build_model(cls, make_config())
        ref = run_reference(model, input_ids, attention_mask, pad_attention_mask, pad_labels)
        check_loss(ref)

        model.save_pretrained(out_dir, safe_serialization=True)
        meta = {
            "format": "pt",
            "torch": torch.__version__,
            "arch": name,
            "hf_class": cls.__name__,
            "transformers": transformers.__version__,
            "generator": f"tests/peers/make_hf_reference.py (transformers {transformers.__version__}, CPU, float32)",
            "noised": ",".join(noised),
        }
        save_deterministic(ref, os.path.join(out_dir, "reference.safetensors"), meta)

        # Reload through from_pretrained: must reproduce the stored logits exactly.
        reloaded = cls.from_pretrained(out_dir, attn_implementation="eager", dtype=torch.float32)
        reloaded.eval()
        with torch.no_grad():
            lg = reloaded(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits
            plg = reloaded(input_ids=input_ids, attention_mask=pad_attention_mask, use_cache=False).logits
        assert torch.equal(lg, ref["logits"]), f"{name}: reloaded logits differ"
        assert torch.equal(plg, ref["pad_logits"]), f"{name}: reloaded pad_logits differ"
        sd_a, sd_b = model.state_dict(), reloaded.state_dict()
        assert sd_a.keys() == sd_b.keys()
        assert all(torch.equal(sd_a[k], sd_b[k]) for k in sd_a), f"{name}: reloaded weights differ"

        print(
            f"{name} ({cls.__name__}): loss {ref['loss'].item():.6f}  pad_loss {ref['pad_loss'].item():.6f}  "
            f"hidden_states {tuple(ref['hidden_states'].shape)}  noised {len(noised)} params; reload exact"
        )


if __name__ == "__main__":
    main()
