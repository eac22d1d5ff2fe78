#include "axl/config/model_source.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "axl/core/error.h"

namespace axl::config {

namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

bool looks_like_path(const std::string& s) {
  return s.empty() || s[0] == '/' || s[0] == '.' || s[0] == '~' ||
         s.find('\\') != std::string::npos || std::count(s.begin(), s.end(), '/') > 1;
}

bool is_commit_hash(const std::string& s) {
  if (s.size() != 40) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string read_ref(const fs::path& file) {
  std::ifstream in(file);
  std::string commit;
  in >> commit;
  return commit;
}

}  // namespace

std::string hf_hub_cache_dir() {
  if (auto c = env("HF_HUB_CACHE"); !c.empty()) return c;
  if (auto h = env("HF_HOME"); !h.empty()) return (fs::path(h) / "hub").string();
  if (auto x = env("XDG_CACHE_HOME"); !x.empty()) return (fs::path(x) / "huggingface" / "hub").string();
  return (fs::path(env("HOME")) / ".cache" / "huggingface" / "hub").string();
}

ModelSource resolve_model_source(const std::string& spec, const std::optional<std::string>& revision,
                                 const std::string& key, const std::string& where) {
  ModelSource src;
  src.spec = spec;
  std::error_code ec;
  if (fs::is_directory(spec, ec)) {
    src.dir = fs::absolute(spec).lexically_normal().string();
    src.how = "local directory";
    return src;
  }
  const std::string prefix = where + ": " + key + " '" + spec + "': ";
  if (looks_like_path(spec))
    throw Error(prefix + "no such directory (looked for " + fs::absolute(spec).string() +
                "); point " + key + " at a model folder or a hub id such as ORG/NAME");

  // A hub id: the cache folder name replaces '/' with "--".
  std::string repo = "models--";
  for (char c : spec) repo += (c == '/') ? std::string("--") : std::string(1, c);
  const fs::path cache = hf_hub_cache_dir();
  const fs::path base = cache / repo;
  const std::string rev = revision.value_or("main");
  fs::path snapshot;
  std::string looked;
  if (is_commit_hash(rev)) {
    snapshot = base / "snapshots" / rev;
    looked = snapshot.string();
  } else {
    const fs::path ref = base / "refs" / rev;
    looked = ref.string();
    const std::string commit = fs::exists(ref, ec) ? read_ref(ref) : "";
    if (!commit.empty()) {
      snapshot = base / "snapshots" / commit;
      looked += " -> " + snapshot.string();
    }
  }
  if (!snapshot.empty() && fs::is_directory(snapshot, ec)) {
    src.dir = snapshot.string();
    src.how = "Hugging Face cache, revision " + rev + " (" + snapshot.filename().string() + ")";
    return src;
  }
  throw Error(prefix + "not a local directory (" + fs::absolute(spec).string() +
              ") and not in the Hugging Face cache (looked for " + looked + "; cache " +
              cache.string() + " from HF_HUB_CACHE/HF_HOME, revision " + rev +
              "); download it on a connected machine (huggingface-cli download " + spec +
              ") or set " + key + " to a local model folder");
}

}  // namespace axl::config
