"""References for tests/quant's LoftQ: PEFT's own loftq_init (peft/utils/loftq_utils.py) on fixed
float32 weights, run on the CPU. PEFT sends the work to "cuda" whenever bitsandbytes is
installed; a torch-function mode turns those moves into CPU moves, so bitsandbytes' CPU
quantiser (NF4, blocksize 64, no double quantisation; LLM.int8 rows) does the quantising.

Usage: loftq_reference.py OUT
Writes OUT/loftq.safetensors: for each case <case>.weight, <case>.q (the dequantised base),
<case>.lora_A, <case>.lora_B; OUT/cases.json lists the cases with bits, rank and iterations.
"""
import json
import os
import sys
import warnings

os.environ.setdefault("TORCH_COMPILE_DISABLE", "1")
import torch
from torch.overrides import TorchFunctionMode
from safetensors.torch import save_file
from peft.utils.loftq_utils import loftq_init

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
warnings.filterwarnings("ignore")


def _cpu(d):
    return "cpu" if isinstance(d, (str, torch.device)) and str(d).startswith(("cuda", "xpu")) else d


class CudaToCpu(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func in (torch.Tensor.to, torch.Tensor.cuda):
            if func is torch.Tensor.cuda:
                return args[0]
            args = tuple(_cpu(a) for a in args)
            if "device" in kwargs:
                kwargs["device"] = _cpu(kwargs["device"])
        return func(*args, **kwargs)


def weight(seed, out, inp):
    g = torch.Generator().manual_seed(seed)
    # A low-rank part plus noise, as trained weights look: LoftQ's factors then matter.
    low = torch.randn(out, 4, generator=g) @ torch.randn(4, inp, generator=g) * 0.05
    return (torch.randn(out, inp, generator=g) * 0.02 + low).float()


# (name, bits, rank, iterations, out, in, compare): "exact" = the same Q and B A;
# "bnb_cpu_bug" = bitsandbytes 0.50.2's CPU quantize_4bit mis-blocks 2-D
# weights whose rows are not a multiple of 64 (relative error 0.42 instead of 0.09 on the
# flattened blocks its format defines), so PEFT's start is worse than ours there.
CASES = [("nf4_r8_i1", 4, 8, 1, 64, 128, "exact"), ("nf4_r8_i5", 4, 8, 5, 64, 128, "exact"),
         ("nf4_r4_i3", 4, 4, 3, 96, 192, "exact"), ("int8_r8_i1", 8, 8, 1, 64, 128, "exact"),
         ("int8_r8_i2", 8, 8, 2, 64, 128, "exact"), ("nf4_r4_i3_cols80", 4, 4, 3, 96, 80, "bnb_cpu_bug")]
tensors, cases = {}, []
with CudaToCpu():
    for i, (name, bits, rank, iters, out, inp, compare) in enumerate(CASES):
        w = weight(100 + i, out, inp)
        q, a, b = loftq_init(w.clone(), num_bits=bits, reduced_rank=rank, num_iter=iters)
        tensors[f"{name}.weight"] = w
        tensors[f"{name}.q"] = q.float().contiguous()
        tensors[f"{name}.lora_A"] = a.float().contiguous()
        tensors[f"{name}.lora_B"] = b.float().contiguous()
        err = (w - q - b @ a).norm().item() / w.norm().item()
        cases.append({"name": name, "bits": bits, "rank": rank, "iterations": iters, "compare": compare,
                      "relative_error": err})
save_file(tensors, f"{OUT}/loftq.safetensors")
with open(f"{OUT}/cases.json", "w") as f:
    json.dump(cases, f, indent=1)
print(json.dumps(cases))
