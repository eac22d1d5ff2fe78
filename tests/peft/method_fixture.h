#pragma once
// The checks every PEFT method's fixture test makes, in one place: load the adapter folder on
// the hf-tiny base, compare logits / loss (with the method's regularisation, as PEFT adds it
// inside the forward) / every trainable tensor's gradient with the reference; save and reload
// (identical logits); merge (against the reference's merged logits or the adapter's own) and
// unmerge (bit-exact base back); and `axolotl forward --adapter --grads` writing the same.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "axl/core/tensor_io.h"
#include "axl/models/loader.h"
#include "axl/peft/adapter_io.h"
#include "tests/fixtures.h"

namespace axl::test {

inline double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() != b.sizes()) return INFINITY;
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

inline at::Tensor logits_for(const models::CausalLM& model, const at::Tensor& ids) {
  models::ForwardInput in;
  in.input_ids = ids;
  return model.forward(in).logits;
}

struct MethodErrors {
  double logits = 0, loss = 0, grads = 0, merged = -1;  // merged < 0: not merged
  std::size_t grad_count = 0;
};

// Where a fixture keeps what: methods/<m>/ holds reference.safetensors with logits, loss and the
// gradients; the parent's dora/ and ia3/ keep logits/loss in the parent reference
// (dora_logits, ...) and gradients in <adapter>/grads.safetensors.
struct MethodFixture {
  std::string base_dir;      // the hf-tiny model folder
  std::string adapter_dir;   // the PEFT adapter folder
  std::map<std::string, at::Tensor> ref;    // logits/loss (and merged_logits) source
  std::map<std::string, at::Tensor> grads;  // gradient references, by adapter key
  std::string logits_key = "logits", loss_key = "loss";
  at::Tensor input_ids;

  static MethodFixture methods_folder(const std::string& llama_dir, const std::string& method) {
    MethodFixture f;
    f.base_dir = llama_dir;
    f.adapter_dir = llama_dir + "/methods/" + method;
    f.ref = load_safetensors(f.adapter_dir + "/reference.safetensors");
    for (const auto& [k, t] : f.ref)
      if (k != "logits" && k != "loss" && k != "merged_logits" && k != "ce_loss" && k != "orth_reg_loss")
        f.grads[k] = t;
    f.input_ids = load_safetensors(llama_dir + "/reference.safetensors").at("input_ids");
    return f;
  }
  static MethodFixture parent_folder(const std::string& llama_dir, const std::string& method) {
    MethodFixture f;
    f.base_dir = llama_dir;
    f.adapter_dir = llama_dir + "/" + method;
    f.ref = load_safetensors(llama_dir + "/reference.safetensors");
    f.grads = load_safetensors(f.adapter_dir + "/grads.safetensors");
    f.logits_key = method + "_logits";
    f.loss_key = method + "_loss";
    f.input_ids = f.ref.at("input_ids");
    return f;
  }
};

// Forward + backward of loss (+ regularisation) with labels = input_ids against the fixture;
// then save/reload, merge and unmerge checks (merge skipped when the config cannot merge).
inline MethodErrors check_method_fixture(const MethodFixture& f) {
  MethodErrors e;
  models::CausalLM model = models::load_causal_lm(f.base_dir);
  const at::Tensor base_logits = [&] {
    at::NoGradGuard ng;
    return logits_for(model, f.input_ids);
  }();
  {
    peft::Adapter adapter = peft::load_adapter(model, f.adapter_dir);
    adapter.set_training(false);
    at::Tensor logits = logits_for(model, f.input_ids);
    at::Tensor loss = models::causal_lm_loss(logits, f.input_ids);
    at::Tensor reg = adapter.regularization_loss();
    if (reg.defined()) loss = loss + reg;
    e.logits = max_abs_diff(logits.detach(), f.ref.at(f.logits_key));
    e.loss = std::abs(loss.item<double>() - f.ref.at(f.loss_key).item<double>());
    loss.backward();
    auto trainable = adapter.trainable();
    EXPECT_EQ(trainable.size(), f.grads.size()) << "trainable tensors vs reference gradients";
    for (const auto& [key, g] : f.grads) {
      auto it = trainable.find(key);
      EXPECT_NE(it, trainable.end()) << "reference gradient " << key << " has no trainable tensor";
      if (it == trainable.end() || !it->second.grad().defined()) {
        ADD_FAILURE() << "no gradient for " << key;
        continue;
      }
      e.grads = std::max(e.grads, max_abs_diff(it->second.grad(), g));
      ++e.grad_count;
    }

    // Save and load back: identical logits.
    at::NoGradGuard ng;
    const at::Tensor adapted = logits_for(model, f.input_ids);
    const std::string saved = scratch_dir("method_roundtrip") + "/" + std::filesystem::path(f.adapter_dir).filename().string();
    peft::save_adapter(adapter, saved);
    {
      models::CausalLM fresh = models::load_causal_lm(f.base_dir);
      peft::Adapter again = peft::load_adapter(fresh, saved);
      EXPECT_TRUE(at::equal(logits_for(fresh, f.input_ids), adapted)) << "save/load round trip of " << f.adapter_dir;
    }

    if (adapter.config->can_merge()) {
      adapter.merge();
      const at::Tensor merged = logits_for(model, f.input_ids);
      e.merged = max_abs_diff(merged, f.ref.count("merged_logits") ? f.ref.at("merged_logits") : adapted);
      EXPECT_LE(max_abs_diff(merged, adapted), 1e-4) << "merged vs adapter logits";
      adapter.unmerge();
      EXPECT_TRUE(at::equal(logits_for(model, f.input_ids), adapted)) << "unmerge is not exact";
    }
  }  // the adapter leaves: the base model is back, bit for bit
  at::NoGradGuard ng;
  EXPECT_TRUE(at::equal(logits_for(model, f.input_ids), base_logits)) << "base not restored after detach";
  return e;
}

// `axolotl forward --adapter DIR --grads` on the fixture: max error of logits, loss, gradients
// (every reference gradient present, nothing else). Skips without AXL_BUILD_DIR.
inline MethodErrors check_forward_command(const MethodFixture& f, const std::string& name) {
  MethodErrors e;
  const char* b = std::getenv("AXL_BUILD_DIR");
  const std::string bin = b ? std::string(b) + "/bin/axolotl" : std::string();
  if (bin.empty() || !std::filesystem::exists(bin)) {
    e.logits = -1;
    return e;
  }
  const std::string out = scratch_dir("method_cli_" + name);
  const std::string cmd = bin + " forward --model " + f.base_dir + " --adapter " + f.adapter_dir + " --input " +
                          f.base_dir + "/reference.safetensors --out " + out + "/f.safetensors --grads " + out +
                          "/g.safetensors";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto fw = load_safetensors(out + "/f.safetensors");
  auto g = load_safetensors(out + "/g.safetensors");
  e.logits = max_abs_diff(fw.at("logits"), f.ref.at(f.logits_key));
  e.loss = max_abs_diff(fw.at("loss"), f.ref.at(f.loss_key));
  for (const auto& [k, t] : f.grads) {
    if (!g.count(k)) {
      ADD_FAILURE() << "forward --grads wrote no " << k;
      continue;
    }
    e.grads = std::max(e.grads, max_abs_diff(g.at(k), t));
    ++e.grad_count;
  }
  EXPECT_EQ(g.size(), f.grads.size());
  return e;
}

// The parity assertions every method's fixture test makes: the fixture errors (logits, loss,
// gradients and, for a mergeable method, merged logits) within 1e-4 with `grad_count`
// gradients compared, then the same through `axolotl forward --grads` when the binary is there.
// Prints both; returns the fixture errors for a test's own further checks.
inline MethodErrors expect_fixture_parity(const MethodFixture& f, const std::string& name, std::size_t grad_count,
                                          bool mergeable = true) {
  MethodErrors e = check_method_fixture(f);
  EXPECT_LE(e.logits, 1e-4) << name;
  EXPECT_LE(e.loss, 1e-4) << name;
  EXPECT_LE(e.grads, 1e-4) << name;
  if (mergeable) EXPECT_LE(e.merged, 1e-4) << name;
  else EXPECT_LT(e.merged, 0) << name << ": prompt-learning methods do not merge";
  EXPECT_EQ(e.grad_count, grad_count) << name;
  std::printf("%s: logits %.2e loss %.2e grads %.2e (%zu) merged %.2e\n", name.c_str(), e.logits, e.loss, e.grads,
              e.grad_count, e.merged);
  MethodErrors c = check_forward_command(f, name);
  if (c.logits >= 0) {
    EXPECT_LE(c.logits, 1e-4) << name;
    EXPECT_LE(c.loss, 1e-4) << name;
    EXPECT_LE(c.grads, 1e-4) << name;
    EXPECT_EQ(c.grad_count, grad_count) << name;
    std::printf("%s forward --grads: logits %.2e loss %.2e grads %.2e\n", name.c_str(), c.logits, c.loss, c.grads);
  }
  return e;
}

}  // namespace axl::test
