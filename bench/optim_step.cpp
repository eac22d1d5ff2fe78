// Optimizer step time and state memory on one 2048x2048 float32 weight (CPU or CUDA).
// Prints one JSON line per optimizer: ms per step (median of timed steps) and state bytes per
// parameter element. Usage: bench_optim_step [cuda] [steps]
#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "axl/train/optimizer.h"

int main(int argc, char** argv) {
  const bool cuda = argc > 1 && std::string(argv[1]) == "cuda";
  const int steps = argc > 2 ? std::stoi(argv[2]) : 10;
  const at::Device dev = cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  const char* kinds[] = {"adamw_torch", "adamw_torch_fused", "adamw_bnb_8bit", "paged_adamw_8bit", "paged_adamw_32bit",
                         "lion_32bit",  "lion_8bit",         "adafactor"};
  for (const char* kind : kinds) {
    axl::train::OptimizerOptions o;
    o.kind = axl::train::optimizer_kind_from_name(kind);
    o.lr = 1e-3;
    o.weight_decay = 0.01;
    at::Tensor w = at::randn({2048, 2048}, at::TensorOptions().device(dev));
    std::vector<axl::train::NamedParam> ps = {{"model.layers.0.mlp.up_proj.weight", w, true}};
    axl::train::Optimizer opt(ps, o);
    std::vector<double> ms;
    for (int s = 0; s < steps + 2; ++s) {
      w.mutable_grad() = at::randn_like(w);
      if (cuda) (void)w.view(-1)[0].item<float>();  // waits for queued kernels
      const auto t0 = std::chrono::steady_clock::now();
      opt.step();
      if (cuda) (void)w.view(-1)[0].item<float>();  // waits for queued kernels
      const auto t1 = std::chrono::steady_clock::now();
      if (s >= 2) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    const double bytes = static_cast<double>(axl::train::state_bytes(opt.state().at(ps[0].name)));
    std::printf("{\"bench\":\"optim_step\",\"device\":\"%s\",\"optimizer\":\"%s\",\"elements\":%lld,\"ms_per_step\":%.3f,"
                "\"state_bytes_per_element\":%.4f}\n",
                cuda ? "cuda" : "cpu", kind, static_cast<long long>(w.numel()), ms[ms.size() / 2], bytes / w.numel());
  }
  return 0;
}
