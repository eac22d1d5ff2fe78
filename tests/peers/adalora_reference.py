"""PEFT 0.19.1's own AdaLoRA rank allocation on a tiny case, for tests/peft/test_methods_adalora.cpp.

Three fake "modules" (init_r 4) get seeded lora_A / lora_E / lora_B values and gradients at every
step (standing in for training); PEFT's AdaLoraModel.update_and_allocate then updates the
importance averages and masks lora_E on its budget schedule. Written to OUT/allocator.safetensors:
step<s>.<module>.lora_{A,E,B} and .grad_{A,E,B} (the inputs), step<s>.<module>.E_after (lora_E
after the step) and, at steps where a rank pattern exists, step<s>.<module>.kept (uint8).
Usage: adalora_reference.py OUT_DIR
"""
import sys
import types

import torch
from safetensors.torch import save_file

from peft import AdaLoraConfig
from peft.tuners.adalora.layer import RankAllocator
from peft.tuners.adalora.model import AdaLoraModel

SHAPES = {"m0": (6, 5), "m1": (6, 7), "m2": (8, 5)}  # module -> (in, out)
INIT_R, STEPS = 4, 10


class Holder(torch.nn.Module):
    def __init__(self, in_f, out_f):
        super().__init__()
        self.lora_A = torch.nn.ParameterDict({"default": torch.nn.Parameter(torch.zeros(INIT_R, in_f))})
        self.lora_B = torch.nn.ParameterDict({"default": torch.nn.Parameter(torch.zeros(out_f, INIT_R))})
        self.lora_E = torch.nn.ParameterDict({"default": torch.nn.Parameter(torch.zeros(INIT_R, 1))})


def main(out_dir):
    model = torch.nn.Module()
    for name, (i, o) in SHAPES.items():
        model.add_module(name, Holder(i, o))
    config = AdaLoraConfig(init_r=INIT_R, target_r=2, tinit=2, tfinal=3, deltaT=2, beta1=0.8, beta2=0.7,
                           total_step=STEPS, target_modules=["x"])
    peft_self = types.SimpleNamespace(
        peft_config={"default": config}, trainable_adapter_name="default", model=model,
        rankallocator=RankAllocator(model, config, "default"))
    gen = torch.Generator().manual_seed(42)
    out = {}
    for step in range(1, STEPS + 1):
        for name in SHAPES:
            holder = getattr(model, name)
            for part in "AEB":
                p = getattr(holder, "lora_" + part)["default"]
                with torch.no_grad():
                    if part == "E" and step > 1:
                        p.add_(0.1 * torch.randn(p.shape, generator=gen))  # masked rows move again, as with Adam
                    else:
                        p.copy_(torch.randn(p.shape, generator=gen))
                p.grad = torch.randn(p.shape, generator=gen)
                out[f"step{step}.{name}.lora_{part}"] = p.detach().clone()
                out[f"step{step}.{name}.grad_{part}"] = p.grad.clone()
        AdaLoraModel.update_and_allocate(peft_self, step)
        for name in SHAPES:
            out[f"step{step}.{name}.E_after"] = getattr(model, name).lora_E["default"].detach().clone()
            if config.rank_pattern:
                kept = config.rank_pattern[f"{name}.lora_E.default"]
                out[f"step{step}.{name}.kept"] = torch.tensor(kept, dtype=torch.uint8)
    save_file(out, f"{out_dir}/allocator.safetensors")


if __name__ == "__main__":
    main(sys.argv[1])
