#!/usr/bin/env python3
"""Hugging Face side of scripts/gpu-suite.sh bench-1b / bench-8b (bench/gpu_train.cpp is ours).

A randomly initialised transformers model of the architecture in --config (bf16, SDPA
attention), optionally with bitsandbytes NF4 bases (--bits 4, QLoRA, double quantisation,
bf16 compute), LoRA r 16 / alpha 32 on all 7 projections through PEFT, trained with a plain
PyTorch loop (forward with labels, backward, torch's fused AdamW lr 1e-4, no clipping) on
--micro-batch packed rows of --seq tokens: position_ids restart at every sample, with the same
sample lengths as ours, and no attention mask, so transformers builds its packed-sequence
(block-causal) mask. Prints one JSON line like ours: tokens/s after --warmup steps, peak GPU
memory allocated/reserved during training, MFU with the same FLOP count.
"""
import argparse
import json
import sys
import time

import torch


def packed_lengths(rows, seq):
    """The same 31-bit LCG sample lengths (128..2048, cut at each row's end) as gpu_train.cpp."""
    state, rows_out = 12345, []
    for _ in range(rows):
        left, row = seq, []
        while left > 0:
            state = (1103515245 * state + 12345) % 2147483648
            n = min(left, 128 + state % 1921)
            row.append(n)
            left -= n
        rows_out.append(row)
    return rows_out


def quantize_linears_4bit(model):
    """Replaces every decoder nn.Linear by a bitsandbytes Linear4bit (NF4, double quant), as
    from_pretrained(load_in_4bit) does; quantised on the GPU from the random bf16 weights."""
    import bitsandbytes as bnb

    for layer in model.model.layers:
        for parent in (layer.self_attn, layer.mlp):
            for name, lin in list(parent.named_children()):
                if not isinstance(lin, torch.nn.Linear):
                    continue
                q = bnb.nn.Linear4bit(lin.in_features, lin.out_features, bias=False, compute_dtype=torch.bfloat16,
                                      compress_statistics=True, quant_type="nf4", device="meta")
                q.weight = bnb.nn.Params4bit(lin.weight.data, requires_grad=False, compress_statistics=True,
                                             quant_type="nf4").to("cuda")
                setattr(parent, name, q)
    model.is_loaded_in_4bit = True  # PEFT picks its bnb LoRA layers by this flag
    torch.cuda.empty_cache()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--name", default="")
    ap.add_argument("--bits", type=int, default=16, choices=[16, 4])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--seq", type=int, default=2048)
    ap.add_argument("--micro-batch", type=int, default=4)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--gradient-checkpointing", action="store_true")
    ap.add_argument("--peak-tflops", type=float, default=989.4)
    ap.add_argument("--device", default="cuda", help="cpu: a dry run of the script with a tiny --config")
    a = ap.parse_args()
    row = {"bench": "gpu_train", "side": "transformers+peft", "name": a.name or a.config, "bits": a.bits}
    try:
        from peft import LoraConfig, get_peft_model
        from transformers import LlamaConfig, LlamaForCausalLM
        import transformers, peft

        row.update(transformers=transformers.__version__, peft=peft.__version__, torch=torch.__version__)
        if a.bits == 4:
            try:
                import bitsandbytes
                row["bitsandbytes"] = bitsandbytes.__version__
            except Exception as e:  # the wheel did not fit the carry, or does not load there
                row["missing"] = f"bitsandbytes: {e}"
                print(json.dumps(row), flush=True)
                return 0
        t_setup = time.time()
        cfg = json.load(open(a.config))
        config = LlamaConfig(**cfg)
        config.use_cache = False
        torch.manual_seed(0)
        with torch.device(a.device):
            model = LlamaForCausalLM._from_config(config, attn_implementation="sdpa", dtype=torch.bfloat16)
        if a.bits == 4:
            quantize_linears_4bit(model)
        model.requires_grad_(False)
        if a.gradient_checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            model.enable_input_require_grads()
        lc = LoraConfig(r=a.rank, lora_alpha=2 * a.rank, lora_dropout=0.0, task_type="CAUSAL_LM",
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
        model = get_peft_model(model, lc)
        model.train()
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=1e-4, fused=True)

        rows = packed_lengths(a.micro_batch, a.seq)
        pos = torch.tensor([[p for n in r for p in range(n)] for r in rows], device=a.device)
        attn_pairs = sum(0.5 * n * n for r in rows for n in r)
        try:
            from transformers.masking_utils import find_packed_sequence_indices
            row["packed_mask_detected"] = find_packed_sequence_indices(pos) is not None
        except Exception:
            row["packed_mask_detected"] = None
        gen = torch.Generator().manual_seed(1234)
        setup_s = time.time() - t_setup

        cuda = a.device == "cuda"
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        times, losses = [], []
        for _ in range(a.steps):
            ids = torch.randint(config.vocab_size, (a.micro_batch, a.seq), generator=gen).to(a.device)
            t0 = time.time()
            loss = model(input_ids=ids, position_ids=pos, labels=ids).loss
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            losses.append(loss.item())  # syncs
            times.append(time.time() - t0)
        step_s = sum(times[a.warmup:]) / (a.steps - a.warmup)
        tokens = a.micro_batch * a.seq
        h, L = config.hidden_size, config.num_hidden_layers
        hd = getattr(config, "head_dim", None) or h // config.num_attention_heads
        q_dim, kv_dim = config.num_attention_heads * hd, config.num_key_value_heads * hd
        matmul_params = L * (2 * h * q_dim + 2 * h * kv_dim + 3 * h * config.intermediate_size) + config.vocab_size * h
        flops = 4.0 * matmul_params * tokens + 12.0 * q_dim * attn_pairs * L
        row.update(lora_r=a.rank, seq=a.seq, micro_batch=a.micro_batch, packing=True,
                   samples_per_step=sum(len(r) for r in rows), steps=a.steps, timed_steps=a.steps - a.warmup,
                   gradient_checkpointing=a.gradient_checkpointing, setup_s=setup_s, step_s=step_s,
                   tokens_per_s=tokens / step_s,
                   peak_allocated_gib=torch.cuda.max_memory_allocated() / 2**30 if cuda else None,
                   peak_reserved_gib=torch.cuda.max_memory_reserved() / 2**30 if cuda else None,
                   matmul_params=matmul_params, flops_per_token=flops / tokens,
                   mfu=flops / step_s / (a.peak_tflops * 1e12), peak_tflops=a.peak_tflops,
                   loss_first=losses[0], loss_last=losses[-1],
                   trainable=sum(p.numel() for p in params))
    except Exception as e:
        row["error"] = f"{type(e).__name__}: {e}"
        print(json.dumps(row), flush=True)
        return 1
    print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
