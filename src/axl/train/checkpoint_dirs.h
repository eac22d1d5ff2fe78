#pragma once
// The checkpoint-N folders of an output_dir: a checkpoint appears only complete (written into a
// temporary folder beside it, synced, then renamed into place), so a run killed while saving
// leaves at most a temporary folder, which resuming ignores and the next run removes.
#include <cstdint>
#include <string>

namespace axl::train {

// "checkpoint-N" for step N.
std::string checkpoint_name(int64_t step);

// A fresh temporary folder name beside `final_dir` ("<final_dir>.tmp-<pid>-<random>"), not created.
std::string temporary_folder_for(const std::string& final_dir);

// Syncs every file under `tmp_dir` and the folder itself, then renames it to `final_dir`
// (replacing an older folder of that name) and syncs the parent, so after a crash either the
// old or the whole new folder is there. Throws axl::Error naming the folder.
void publish_folder(const std::string& tmp_dir, const std::string& final_dir);

// The newest complete checkpoint-N folder of `output_dir` (one with trainer_state.json), or "".
// Temporary folders of unfinished saves are ignored.
std::string latest_checkpoint(const std::string& output_dir);

// Keeps the newest `limit` checkpoint-N folders (limit <= 0: keeps all).
void rotate_checkpoints(const std::string& output_dir, int64_t limit);

// Removes the temporary folders that killed saves left in `output_dir`; returns how many.
int remove_unfinished_checkpoints(const std::string& output_dir);

// Removes a folder and everything under it (symlinks are removed, not followed); a missing
// folder is fine. Not std::filesystem::remove_all: libtorch.so exports its own copy of that
// symbol, which wins the dynamic lookup in our processes and crashes when it recurses.
void remove_folder(const std::string& dir);

}  // namespace axl::train
