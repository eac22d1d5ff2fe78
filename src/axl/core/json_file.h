#pragma once
// Reading JSON files with errors that name the file (and the line, for syntax errors).
#include <nlohmann/json.hpp>
#include <string>

namespace axl {

nlohmann::json read_json_file(const std::string& path);

}  // namespace axl
