#pragma once
// The C entry points libaxl_torch.so exports for the front end. Each returns the process
// exit code and prints its own one-line error; no exception crosses the boundary.
#include "axl/cli/command_options.h"

#define AXL_EXPORT extern "C" __attribute__((visibility("default")))

AXL_EXPORT int axl_forward_main(const axl::cli::ForwardOptions* opts);
AXL_EXPORT int axl_merge_main(const axl::cli::MergeOptions* opts);
AXL_EXPORT int axl_generate_main(const axl::cli::GenerateOptions* opts);
AXL_EXPORT int axl_train_main(const axl::cli::TrainOptions* opts);
AXL_EXPORT int axl_inference_main(const axl::cli::InferenceOptions* opts);
