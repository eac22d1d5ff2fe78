// The torch side of `axolotl train`: runs the trainer on the config the front end validated.
// SIGINT/SIGTERM ask the loop to stop after the current step and save a checkpoint.
#include <atomic>
#include <csignal>

#include "axl/cli/torch_entry.h"
#include "axl/cli/torch_runtime.h"
#include "axl/core/device.h"
#include "axl/core/error.h"
#include "axl/train/trainer.h"

namespace axl::cli {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void request_stop(int) { g_stop.store(true); }

void run_train(const TrainOptions& o) {
  if (!o.config) throw Error("train: no config");
  apply_common_options(o.common);
  train::TrainerOptions to;
  to.device = parse_device(o.common.device);
  to.stop_requested = &g_stop;
  auto run = train::prepare_run(*o.config, to);
  auto old_int = std::signal(SIGINT, request_stop);
  auto old_term = std::signal(SIGTERM, request_stop);
  try {
    train::train(*run, to);
  } catch (...) {
    std::signal(SIGINT, old_int);
    std::signal(SIGTERM, old_term);
    throw;
  }
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
}

}  // namespace
}  // namespace axl::cli

AXL_EXPORT int axl_train_main(const axl::cli::TrainOptions* opts) {
  return axl::cli::guarded([&] { axl::cli::run_train(*opts); });
}
