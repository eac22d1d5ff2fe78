#pragma once
// What we do with each key of Axolotl's schema: implement it, accept it as having no effect
// here (reported as unused), or stop because it is not implemented yet. Keys outside Axolotl's
// schema are not here: the loader warns about them (an error with `strict: true`).
#include <string>

namespace axl::config {

enum class KeySupport { Implemented, Unused, Unimplemented };

struct KeyInfo {
  KeySupport support;
  std::string note;  // why unused / what is missing
};

// Only meaningful for keys of Axolotl's schema (schema::is_top_level_key / is_dataset_key).
// An unimplemented key stops the run only when set to a truthy value (not null, false, 0,
// "" or empty): an explicit `load_in_4bit: false` is harmless.
KeyInfo top_level_key_support(const std::string& key);
KeyInfo dataset_key_support(const std::string& key);

}  // namespace axl::config
