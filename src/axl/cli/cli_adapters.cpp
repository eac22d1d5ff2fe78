#include "axl/cli/cli_adapters.h"

#include <filesystem>
#include <iostream>
#include <sstream>

#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/peft/weighted_adapter.h"

namespace axl::cli {

namespace {

std::string base_model_of(const std::string& dir) {
  try {
    const nlohmann::json j = read_json_file((std::filesystem::path(dir) / "adapter_config.json").string());
    if (j.contains("base_model_name_or_path") && j["base_model_name_or_path"].is_string())
      return j["base_model_name_or_path"].get<std::string>();
  } catch (const Error&) {
  }
  return "";  // load_adapter reports an unreadable config itself
}

std::string name_for(std::size_t i) { return i == 0 ? "default" : "adapter" + std::to_string(i + 1); }

}  // namespace

std::unique_ptr<peft::AdapterSet> load_cli_adapters(models::CausalLM& model, const AdapterChoice& c) {
  if (c.dirs.empty()) return nullptr;
  if (!c.weights.empty() && c.weights.size() != c.dirs.size())
    throw Error("--adapter-weights: " + std::to_string(c.weights.size()) + " weights for " +
                std::to_string(c.dirs.size()) + " adapters");
  auto set = std::make_unique<peft::AdapterSet>(model);
  const std::string first_base = base_model_of(c.dirs.front());
  std::vector<std::string> names;
  for (std::size_t i = 0; i < c.dirs.size(); ++i) {
    const std::string base = base_model_of(c.dirs[i]);
    // Names of one model differ between machines (hub id, local path), so a different name
    // alone only warns; an adapter that does not fit the model fails to load below.
    const bool other_base = i > 0 && !base.empty() && !first_base.empty() && base != first_base;
    if (other_base)
      std::cerr << "axolotl: warning: adapter " << c.dirs[i] << " names base model '" << base << "', adapter "
                << c.dirs.front() << " names '" << first_base << "'\n";
    try {
      set->load(c.dirs[i], name_for(i));
    } catch (const Error& e) {
      if (!other_base) throw;
      throw Error(std::string(e.what()) + " (this adapter was made for base model '" + base + "', not '" +
                  first_base + "')");
    }
    names.push_back(name_for(i));
  }
  if (c.weights.empty()) {
    set->set_active(names);
  } else {
    peft::WeightedAdapterOptions o;
    o.combination_type = c.combination.empty() ? peft::default_combination_type(*set, names) : c.combination;
    if (c.svd_rank > 0) o.svd_rank = c.svd_rank;
    peft::add_weighted_adapter(*set, names, c.weights, "weighted", o);
    set->set_active("weighted");
  }
  for (const auto& n : set->names()) set->get(n).set_training(false);
  return set;
}

std::string describe_cli_adapters(const AdapterChoice& c, peft::AdapterSet* set) {
  if (!set) return "no adapter";
  if (c.dirs.size() == 1 && c.weights.empty()) return "adapter " + c.dirs.front();
  std::ostringstream os;
  os << "adapters ";
  for (std::size_t i = 0; i < c.dirs.size(); ++i) {
    if (i) os << " + ";
    if (!c.weights.empty()) os << c.weights[i] << " ";
    os << c.dirs[i];
  }
  if (c.weights.empty()) return os.str() + " (all active)";
  std::vector<std::string> sources = set->names();
  sources.pop_back();  // "weighted" itself
  const std::string type = c.combination.empty() ? peft::default_combination_type(*set, sources) : c.combination;
  os << " (" << type << ", rank " << set->get("weighted").config->to_json().value("r", 0) << ")";
  return os.str();
}

}  // namespace axl::cli
