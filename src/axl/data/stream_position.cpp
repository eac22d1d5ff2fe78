#include "axl/data/stream_position.h"

#include "axl/core/error.h"

namespace axl::data {

nlohmann::json StreamPosition::to_json() const {
  return {{"pass", pass}, {"file", file}, {"offset", offset}, {"line", line}, {"sample", sample}, {"rows", rows}};
}

StreamPosition StreamPosition::from_json(const nlohmann::json& j, const std::string& where) {
  StreamPosition p;
  try {
    p.pass = j.at("pass").get<uint64_t>();
    p.file = j.at("file").get<uint64_t>();
    p.offset = j.at("offset").get<uint64_t>();
    p.line = j.at("line").get<uint64_t>();
    p.sample = j.at("sample").get<uint64_t>();
    p.rows = j.at("rows").get<uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + ": malformed stream position (" + e.what() + ")");
  }
  return p;
}

bool StreamPosition::operator==(const StreamPosition& o) const {
  return pass == o.pass && file == o.file && offset == o.offset && line == o.line && sample == o.sample &&
         rows == o.rows;
}

nlohmann::json StreamIdentity::to_json() const { return {{"files", files}, {"sizes", sizes}, {"layout", layout}}; }

StreamIdentity StreamIdentity::from_json(const nlohmann::json& j, const std::string& where) {
  StreamIdentity id;
  try {
    id.files = j.at("files").get<std::vector<std::string>>();
    id.sizes = j.at("sizes").get<std::vector<uint64_t>>();
    id.layout = j.at("layout").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + ": malformed stream identity (" + e.what() + ")");
  }
  if (id.files.size() != id.sizes.size()) throw Error(where + ": stream identity lists files and sizes of other lengths");
  return id;
}

void StreamIdentity::check_same(const StreamIdentity& now, const std::string& where) const {
  auto differ = [&](const std::string& what) {
    return Error(where + ": the checkpoint's stream position is for other data (" + what +
                 "); resuming would repeat or skip tokens (restore the files and config, or start a new run)");
  };
  if (files.size() != now.files.size())
    throw differ(std::to_string(files.size()) + " files then, " + std::to_string(now.files.size()) + " now");
  for (size_t i = 0; i < files.size(); ++i) {
    if (files[i] != now.files[i]) throw differ("file " + std::to_string(i) + " was " + files[i] + ", now " + now.files[i]);
    if (sizes[i] != now.sizes[i])
      throw differ(files[i] + " had " + std::to_string(sizes[i]) + " bytes, now " + std::to_string(now.sizes[i]));
  }
  if (layout != now.layout) throw differ("rows were '" + layout + "', now '" + now.layout + "'");
}

nlohmann::json SavedStreamPosition::to_json() const {
  return {{"position", position.to_json()}, {"identity", identity.to_json()}};
}

SavedStreamPosition SavedStreamPosition::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("position") || !j.contains("identity"))
    throw Error(where + ": malformed stream position (needs position and identity)");
  return {StreamPosition::from_json(j["position"], where), StreamIdentity::from_json(j["identity"], where)};
}

}  // namespace axl::data
