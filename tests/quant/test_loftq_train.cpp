// LoftQ from an Axolotl YAML through the real trainer (stories260K converted from llama2.c):
// `peft: {loftq_config: {loftq_bits: 4}}` turns it on as in Axolotl, the loss falls, the saved
// adapter carries PEFT's init_lora_weights / loftq_config, and it loads back onto the same Q.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "axl/config/load_config.h"
#include "axl/core/json_file.h"
#include "axl/models/loader.h"
#include "axl/peft/adapter_io.h"
#include "axl/quant/quantized_linear.h"
#include "axl/train/trainer.h"
#include "tests/train/stories_model.h"

namespace {

axl::train::TrainerOptions quiet() {
  axl::train::TrainerOptions opts;
  opts.log_to_stderr = false;
  return opts;
}

// A prepared run on stories260K with LoRA r=8, alpha=8 (scaling 1: LoftQ's start is W) on every
// linear layer; `keys` adds the adapter and LoftQ settings.
std::unique_ptr<axl::train::TrainingRun> prepare(const axl::test::StoriesModel& s, const std::string& out,
                                                 const std::string& keys) {
  const std::string yaml = "base_model: " + s.model + "\ndatasets:\n  - path: " + s.data +
                           "\n    type: completion\nsequence_len: 64\nseed: 5\n" + keys +
                           "lora_r: 8\nlora_alpha: 8\nlora_dropout: 0.0\nlora_target_linear: true\n"
                           "micro_batch_size: 8\ngradient_accumulation_steps: 1\nlearning_rate: 0.01\n"
                           "optimizer: adamw_torch\nlr_scheduler: constant\nmax_steps: 12\nlogging_steps: 4\n"
                           "save_strategy: 'no'\noutput_dir: " + out + "\n";
  return axl::train::prepare_run(axl::config::load_config_text(yaml, "loftq.yml").config, quiet());
}

at::Tensor logits(const axl::models::CausalLM& model) {
  axl::models::ForwardInput in;
  in.input_ids = at::arange(1, 33, at::kLong).view({1, 32});
  at::NoGradGuard no_grad;
  return model.forward(in).logits;
}

TEST(LoftqTrain, YamlLoftqTrainsSavesAndLoadsBack) {
  AXL_REQUIRE_FIXTURE(src, "llama2c-stories260K/stories260K.bin");
  const axl::test::StoriesModel* s = axl::test::stories_model("loftq-train");
  const std::string out = s->dir + "/out-loftq";
  auto run = prepare(*s, out, "adapter: lora\npeft:\n  loftq_config:\n    loftq_bits: 4\n    loftq_iter: 2\n");
  const auto summary = axl::train::train(*run, quiet());
  std::printf("{\"train\":\"stories260K lora loftq nf4 iter 2\",\"first_loss\":%.4f,\"last_loss\":%.4f}\n",
              summary.first_loss, summary.last_loss);
  EXPECT_EQ(summary.steps, 12);
  EXPECT_LT(summary.last_loss, summary.first_loss * 0.8);

  const auto saved = axl::read_json_file(out + "/adapter_config.json");
  EXPECT_EQ(saved["init_lora_weights"], "loftq");
  EXPECT_EQ(saved["loftq_config"], (nlohmann::json{{"loftq_bits", 4}, {"loftq_iter", 2}}));

  // PEFT reruns LoftQ when it loads such an adapter: the base becomes the same Q, and the
  // trained factors then give the trained model's logits.
  axl::models::CausalLM fresh = axl::models::load_causal_lm(s->model);
  axl::peft::Adapter loaded = axl::peft::load_adapter(fresh, out);
  loaded.set_training(false);
  run->adapter->set_training(false);
  int same_bases = 0;
  auto trained_slots = run->model.slots();
  auto fresh_slots = fresh.slots();
  for (std::size_t i = 0; i < trained_slots.size(); ++i)
    if (at::equal(trained_slots[i]->base->dense_weight(), fresh_slots[i]->base->dense_weight())) ++same_bases;
  EXPECT_EQ(same_bases, static_cast<int>(trained_slots.size()));
  EXPECT_LT((logits(fresh) - logits(run->model)).abs().max().item<double>(), 1e-5);
}

TEST(LoftqTrain, QuantizedBaseIsQuantizedFromLoftqQ) {
  AXL_REQUIRE_FIXTURE(src, "llama2c-stories260K/stories260K.bin");
  const axl::test::StoriesModel* s = axl::test::stories_model("loftq-train");
  // Double quantisation off: re-quantising Q then gives Q's codes back exactly.
  const std::string loftq = "peft:\n  loftq_config:\n    loftq_bits: 4\n";
  auto run = prepare(*s, s->dir + "/out-qlora",
                     "adapter: qlora\nload_in_4bit: true\nbnb_config_kwargs:\n  bnb_4bit_use_double_quant: false\n"
                     "  bnb_4bit_compute_dtype: float32\n" + loftq);
  // The dense model with LoftQ alone (no quantized load) has the same Q in every slot.
  auto dense = prepare(*s, s->dir + "/out-dense", "adapter: lora\n" + loftq);
  int quantized = 0, same = 0;
  auto slots = run->model.slots();
  auto dense_slots = dense->model.slots();
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (!std::dynamic_pointer_cast<axl::quant::QuantizedBase>(slots[i]->base)) continue;
    ++quantized;
    if (at::equal(slots[i]->base->dense_weight(), dense_slots[i]->base->dense_weight())) ++same;
  }
  EXPECT_EQ(quantized, 5 * 7);
  EXPECT_EQ(same, quantized);
  const auto summary = axl::train::train(*run, quiet());
  std::printf("{\"train\":\"stories260K qlora loftq nf4\",\"first_loss\":%.4f,\"last_loss\":%.4f}\n",
              summary.first_loss, summary.last_loss);
  EXPECT_LT(summary.last_loss, summary.first_loss * 0.8);
}

}  // namespace
