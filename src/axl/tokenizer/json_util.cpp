#include "axl/tokenizer/json_util.h"

#include "axl/core/error.h"

namespace axl::tokenizer {

std::string component_type(const nlohmann::json& j, const std::string& kind) {
  if (!j.is_object()) throw Error("tokenizer.json: " + kind + " must be an object, got " + std::string(j.type_name()));
  auto it = j.find("type");
  if (it == j.end() || !it->is_string()) throw Error("tokenizer.json: " + kind + " has no \"type\"");
  return it->get<std::string>();
}

std::string json_string(const nlohmann::json& j, const char* key, const std::string& what) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) throw Error(what + ": \"" + key + "\" must be a string");
  return it->get<std::string>();
}

std::string json_string_or(const nlohmann::json& j, const char* key, const std::string& fallback) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

bool json_bool(const nlohmann::json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return fallback;
  return it->get<bool>();
}

int64_t json_int(const nlohmann::json& j, const char* key, const std::string& what) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) throw Error(what + ": \"" + key + "\" must be an integer");
  return it->get<int64_t>();
}

const nlohmann::json& json_array(const nlohmann::json& j, const char* key, const std::string& what) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) throw Error(what + ": \"" + key + "\" must be an array");
  return *it;
}

}  // namespace axl::tokenizer
