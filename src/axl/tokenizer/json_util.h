#pragma once
// Typed access to tokenizer.json fields with errors that name the component and the key.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace axl::tokenizer {

// j["type"] of a component; `kind` is e.g. "pre_tokenizer" (for the error message).
std::string component_type(const nlohmann::json& j, const std::string& kind);
std::string json_string(const nlohmann::json& j, const char* key, const std::string& what);
// A string field that may be missing or null.
std::string json_string_or(const nlohmann::json& j, const char* key, const std::string& fallback);
bool json_bool(const nlohmann::json& j, const char* key, bool fallback);
int64_t json_int(const nlohmann::json& j, const char* key, const std::string& what);
const nlohmann::json& json_array(const nlohmann::json& j, const char* key, const std::string& what);

}  // namespace axl::tokenizer
