#include "axl/train/param_groups.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

namespace axl::train {

bool hf_excludes_from_decay(const std::string& name) {
  static const std::regex patterns[] = {
      std::regex("bias"), std::regex("layernorm"), std::regex("rmsnorm"),
      std::regex("(^|\\.)norm($|\\.)"), std::regex("_norm($|\\.)")};
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& p : patterns)
    if (std::regex_search(lower, p)) return true;
  return false;
}

std::vector<NamedParam> full_finetune_parameters(models::CausalLM& model) {
  // Norm modules are excluded whatever they are called (GPT-2's ln_1 / ln_f are LayerNorm
  // modules whose names match no pattern; HF excludes them by module type).
  std::set<const c10::TensorImpl*> norm_tensors;
  auto add_norm = [&](const models::Norm& n) {
    if (n.weight.defined()) norm_tensors.insert(n.weight.unsafeGetTensorImpl());
    if (n.bias.defined()) norm_tensors.insert(n.bias.unsafeGetTensorImpl());
  };
  for (const auto& layer : model.layers)
    for (const models::Norm* n : {&layer.attn_norm, &layer.mlp_norm, &layer.attn_out_norm,
                                  &layer.mlp_out_norm, &layer.q_norm, &layer.k_norm})
      add_norm(*n);
  add_norm(model.final_norm);

  std::vector<NamedParam> out;
  for (auto& [name, tensor] : model.named_tensors()) {
    at::Tensor t = tensor;
    t.requires_grad_(true);
    bool decay = !hf_excludes_from_decay(name) && !norm_tensors.count(t.unsafeGetTensorImpl());
    out.push_back({name, t, decay});
  }
  return out;
}

std::vector<NamedParam> with_decay_flags(std::vector<NamedParam> params) {
  for (auto& p : params) p.decay = !hf_excludes_from_decay(p.name);
  return params;
}

}  // namespace axl::train
