#include "axl/train/checkpoint_dirs.h"

#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <regex>
#include <utility>
#include <vector>

#include "axl/core/error.h"

namespace axl::train {

namespace fs = std::filesystem;

namespace {

const std::regex& checkpoint_pattern() {
  static const std::regex re(R"(checkpoint-(\d+))");
  return re;
}

// checkpoint-N.tmp-... (our temporary folders) and checkpoint-N.old-... (a replaced folder
// not yet removed when the run died).
const std::regex& leftover_pattern() {
  static const std::regex re(R"(checkpoint-\d+\.(tmp|old)-.*)");
  return re;
}

// The checkpoint-N folders of `dir`, oldest step first.
std::vector<std::pair<int64_t, fs::path>> checkpoints_in(const std::string& dir) {
  std::vector<std::pair<int64_t, fs::path>> found;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return found;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::smatch m;
    const std::string n = e.path().filename().string();
    if (e.is_directory() && std::regex_match(n, m, checkpoint_pattern()))
      found.emplace_back(std::stoll(m[1].str()), e.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

void fsync_path(const fs::path& p, bool directory) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0) throw Error(p.string() + ": cannot open to sync (" + std::strerror(errno) + ")");
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw Error(p.string() + ": sync failed (" + std::strerror(err) + ")");
}

int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  return ::remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

void rename_or_throw(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) throw Error(to.string() + ": cannot rename " + from.string() + " into place (" + ec.message() + ")");
}

}  // namespace

std::string checkpoint_name(int64_t step) { return "checkpoint-" + std::to_string(step); }

std::string temporary_folder_for(const std::string& final_dir) {
  std::random_device rd;
  return final_dir + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
}

void publish_folder(const std::string& tmp_dir, const std::string& final_dir) {
  for (const auto& e : fs::recursive_directory_iterator(tmp_dir)) {
    if (e.is_regular_file()) fsync_path(e.path(), false);
    else if (e.is_directory()) fsync_path(e.path(), true);
  }
  fsync_path(tmp_dir, true);
  // rename() does not replace a non-empty folder: move an older one aside first, and remove
  // it only once the new one is in place.
  std::string old_dir;
  if (fs::exists(final_dir)) {
    old_dir = final_dir + ".old-" + fs::path(tmp_dir).filename().string();
    rename_or_throw(final_dir, old_dir);
  }
  rename_or_throw(tmp_dir, final_dir);
  fsync_path(fs::path(final_dir).parent_path().empty() ? fs::path(".") : fs::path(final_dir).parent_path(), true);
  if (!old_dir.empty()) remove_folder(old_dir);
}

std::string latest_checkpoint(const std::string& output_dir) {
  auto found = checkpoints_in(output_dir);
  for (auto it = found.rbegin(); it != found.rend(); ++it)
    if (fs::exists(it->second / "trainer_state.json")) return it->second.string();
  return "";
}

void rotate_checkpoints(const std::string& output_dir, int64_t limit) {
  if (limit <= 0) return;
  auto found = checkpoints_in(output_dir);
  for (size_t i = 0; i + static_cast<size_t>(limit) < found.size(); ++i) remove_folder(found[i].second.string());
}

int remove_unfinished_checkpoints(const std::string& output_dir) {
  std::error_code ec;
  if (!fs::is_directory(output_dir, ec)) return 0;
  std::vector<fs::path> leftovers;
  for (const auto& e : fs::directory_iterator(output_dir)) {
    const std::string n = e.path().filename().string();
    if (e.is_directory() && std::regex_match(n, leftover_pattern())) leftovers.push_back(e.path());
  }
  for (const auto& p : leftovers) remove_folder(p.string());
  return static_cast<int>(leftovers.size());
}

void remove_folder(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) return;
  // Depth first (files before their folder), never following symlinks.
  if (::nftw(dir.c_str(), remove_entry, 32, FTW_DEPTH | FTW_PHYS) != 0)
    throw Error(dir + ": cannot remove (" + std::strerror(errno) + ")");
}

}  // namespace axl::train
