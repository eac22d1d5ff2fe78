// checkpoint-N folders: atomic publishing, the newest complete one, rotation, and the
// leftovers of a save that was killed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "axl/core/error.h"
#include "axl/train/checkpoint_dirs.h"
#include "tests/fixtures.h"

namespace {

namespace fs = std::filesystem;
using namespace axl::train;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A complete checkpoint as far as these helpers care: a folder with trainer_state.json.
void complete(const fs::path& dir, const std::string& tag = "{}") { write(dir / "trainer_state.json", tag); }

TEST(CheckpointDirs, PublishRenamesIntoPlaceAndReplacesAnOlderFolder) {
  const fs::path out = axl::test::scratch_dir("ckpt-publish");
  const std::string final_dir = (out / checkpoint_name(4)).string();
  EXPECT_EQ(checkpoint_name(4), "checkpoint-4");
  std::string tmp = temporary_folder_for(final_dir);
  EXPECT_EQ(tmp.rfind(final_dir + ".tmp-", 0), 0u);
  complete(tmp, "new");
  write(fs::path(tmp) / "optimizer" / "state.bin", "x");
  publish_folder(tmp, final_dir);
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_EQ(read(fs::path(final_dir) / "trainer_state.json"), "new");
  EXPECT_EQ(read(fs::path(final_dir) / "optimizer" / "state.bin"), "x");

  tmp = temporary_folder_for(final_dir);
  complete(tmp, "newer");
  publish_folder(tmp, final_dir);
  EXPECT_EQ(read(fs::path(final_dir) / "trainer_state.json"), "newer");
  EXPECT_FALSE(fs::exists(fs::path(final_dir) / "optimizer"));  // the older folder is gone whole
  EXPECT_EQ(std::distance(fs::directory_iterator(out), fs::directory_iterator()), 1);

  EXPECT_THROW(publish_folder((out / "missing").string(), (out / "checkpoint-9").string()), std::exception);
}

TEST(CheckpointDirs, LatestIgnoresUnfinishedSavesAndCleanupRemovesThem) {
  const fs::path out = axl::test::scratch_dir("ckpt-latest");
  EXPECT_EQ(latest_checkpoint(out.string()), "");
  EXPECT_EQ(latest_checkpoint((out / "absent").string()), "");
  complete(out / "checkpoint-2");
  complete(out / "checkpoint-10");  // numeric, not lexical, order
  // A save killed half-way: a temporary folder (even one holding trainer_state.json), a
  // folder an older version of the trainer left without trainer_state.json, and a replaced
  // folder not yet removed.
  complete(out / "checkpoint-12.tmp-123-456");
  write(out / "checkpoint-12.tmp-123-456" / "adapter_model.safetensors", "trunc");
  write(out / "checkpoint-14" / "adapter_model.safetensors", "trunc");
  complete(out / "checkpoint-10.old-checkpoint-10.tmp-1-2");
  write(out / "checkpoint-20.json", "a file, not a folder");
  EXPECT_EQ(latest_checkpoint(out.string()), (out / "checkpoint-10").string());

  EXPECT_EQ(remove_unfinished_checkpoints(out.string()), 2);
  EXPECT_FALSE(fs::exists(out / "checkpoint-12.tmp-123-456"));
  EXPECT_FALSE(fs::exists(out / "checkpoint-10.old-checkpoint-10.tmp-1-2"));
  EXPECT_TRUE(fs::exists(out / "checkpoint-14"));  // not ours to judge: kept, but never resumed from
  EXPECT_TRUE(fs::exists(out / "checkpoint-20.json"));
  EXPECT_EQ(remove_unfinished_checkpoints(out.string()), 0);
  EXPECT_EQ(remove_unfinished_checkpoints((out / "absent").string()), 0);
}

TEST(CheckpointDirs, RotationKeepsTheNewest) {
  const fs::path out = axl::test::scratch_dir("ckpt-rotate");
  for (int s : {3, 9, 12, 6}) complete(out / checkpoint_name(s));
  complete(out / "checkpoint-1.tmp-1-1");
  rotate_checkpoints(out.string(), 0);  // no limit
  EXPECT_TRUE(fs::exists(out / "checkpoint-3"));
  rotate_checkpoints(out.string(), 2);
  EXPECT_FALSE(fs::exists(out / "checkpoint-3"));
  EXPECT_FALSE(fs::exists(out / "checkpoint-6"));
  EXPECT_TRUE(fs::exists(out / "checkpoint-9"));
  EXPECT_TRUE(fs::exists(out / "checkpoint-12"));
  EXPECT_TRUE(fs::exists(out / "checkpoint-1.tmp-1-1"));  // a temporary folder is no checkpoint
}

}  // namespace
