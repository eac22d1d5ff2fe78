#pragma once
// Internal steps of load_config: reading the typed top-level fields and the dataset entries,
// then Axolotl's derived values and exclusions. Each throws axl::Error with the location.
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "axl/config/config.h"
#include "axl/config/yaml_reader.h"

namespace axl::config {

void read_top_level_fields(const Origin& origin, const YAML::Node& root, Config& cfg);
// `key` is datasets or test_datasets; unknown keys in entries were reported by the key scan.
std::vector<DatasetConfig> read_datasets(const Origin& origin, const YAML::Node& root, const char* key,
                                         std::vector<std::string>& warnings);
// pretraining_dataset: a bare path or a list of entries (type defaults to pretrain).
std::vector<DatasetConfig> read_pretraining_datasets(const Origin& origin, const YAML::Node& root,
                                                     std::vector<std::string>& warnings);
// Exclusions and derived values (batch sizes, warmup, save/eval steps, precision, attention).
void derive_values(const Origin& origin, const YAML::Node& root, const std::string& device, Config& cfg,
                   std::vector<std::string>& warnings);

}  // namespace axl::config
