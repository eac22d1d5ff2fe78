#pragma once
// The one precompiled header for libtorch users: ATen plus the autograd pieces we use.
// Never include <torch/torch.h>; it pulls in the whole C++ frontend.
#include <ATen/ATen.h>
#include <ATen/core/Generator.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/generated/variable_factories.h>

#include "axl/core/torch_compat.h"
