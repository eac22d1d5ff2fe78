#pragma once
// Gradient checkpointing (`gradient_checkpointing: true`): each decoder layer runs forward
// without keeping its activations, only its input; backward runs the layer again (same RNG
// state, so dropout draws the same masks, and the same autocast) and backpropagates through
// that recompute. Memory for activations drops from every layer's to one layer's, for about
// one more forward of compute.
//
// The layer's trainable tensors (adapter weights, or the layer's own weights in a full
// fine-tune) are explicit inputs of the checkpoint, so they get gradients even when the
// layer's input does not require one (the first layer of a LoRA model, fed by frozen
// embeddings): HF needs enable_input_require_grads() for that, we do not.
#include <ATen/ATen.h>

#include <vector>

#include "axl/models/causal_lm.h"

namespace axl::train {

// A ForwardInput::layer_runner that checkpoints every layer of `model` (which must outlive
// the backward). Layers run directly where nothing needs a gradient (grad mode off, or
// neither the input nor any tensor of the layer requires one). The runner's extra inputs
// (prefix tuning's per-layer keys/values) are checkpoint inputs like the layer's own tensors.
// `offload` (`gradient_checkpointing: offload`): on CUDA each layer's input waits in pinned host
// memory, copied out and back on a side stream that overlaps compute; on the CPU it is plain
// checkpointing (the input already is in host memory).
models::LayerRunner checkpoint_every_layer(const models::CausalLM& model, bool offload = false);

// The tensors of one layer that require a gradient: norm weights, dense base weights and
// biases, and every adapter tensor of its slots.
std::vector<at::Tensor> trainable_tensors(const models::DecoderLayer& layer);

// One checkpointed call of `layer` on x; `trainable` are the tensors `layer` uses that need
// gradients.
at::Tensor checkpointed(const models::LayerFn& layer, const at::Tensor& x, const std::vector<at::Tensor>& trainable);

}  // namespace axl::train
