#include "axl/core/json_file.h"

#include <fstream>
#include <sstream>

#include "axl/core/error.h"

namespace axl {

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::size_t line = 1;
    for (std::size_t i = 0; i < e.byte && i < text.size(); ++i)
      if (text[i] == '\n') ++line;
    throw Error(path + ":" + std::to_string(line) + ": invalid JSON: " + e.what());
  }
}

}  // namespace axl
