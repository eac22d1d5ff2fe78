#pragma once
// The torch side of --adapter/--adapter-weights/--combination: loads the chosen PEFT adapters
// onto a model as an AdapterSet ("default", "adapter2", ...). Without weights all are active
// together; with weights their LoRA combination ("weighted") is the one active adapter.
#include <memory>
#include <string>

#include "axl/cli/command_options.h"
#include "axl/models/causal_lm.h"
#include "axl/peft/adapter_set.h"

namespace axl::cli {

// Null when no adapter is chosen. Throws axl::Error naming the folder when an adapter does not
// fit the model (saying so when its adapter_config.json names another base model than the
// first's), and for weights over non-LoRA adapters.
std::unique_ptr<peft::AdapterSet> load_cli_adapters(models::CausalLM& model, const AdapterChoice& choice);

// One line for stderr: "adapter DIR" or "adapters A + B", "0.7 A + 0.3 B (linear)".
std::string describe_cli_adapters(const AdapterChoice& choice, peft::AdapterSet* set);

}  // namespace axl::cli
