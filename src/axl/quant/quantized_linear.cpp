#include "axl/quant/quantized_linear.h"

#include <torch/csrc/autograd/custom_function.h>

#include <map>
#include <mutex>
#include <utility>

#include "axl/quant/dequant_cuda.h"

namespace axl::quant {

namespace {

std::mutex workspace_mutex;
std::map<std::pair<std::string, int>, at::Tensor>& workspaces() {
  static std::map<std::pair<std::string, int>, at::Tensor> w;
  return w;
}

// The weight of `base` dequantised into the workspace, in x's dtype and on x's device.
at::Tensor dequantized(const QuantizedBase& base, const at::Tensor& like) {
  at::Tensor w = dequant_workspace(base.out_features(), base.in_features(), like.scalar_type(), like.device());
  base.dequantize_into(w);
  return w;
}

// y = x W^T with W dequantised on the fly. The base pointer travels as an integer: slots own
// their bases for the model's lifetime, which every autograd graph over the model is within.
struct QuantizedMatmul : public torch::autograd::Function<QuantizedMatmul> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, int64_t base_ptr) {
    ctx->saved_data["base"] = base_ptr;
    const auto* base = reinterpret_cast<const QuantizedBase*>(base_ptr);
    return at::linear(x, dequantized(*base, x));
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto* base = reinterpret_cast<const QuantizedBase*>(ctx->saved_data["base"].toInt());
    at::Tensor g = grads[0];
    at::Tensor gx = at::matmul(g, dequantized(*base, g));
    return {gx, at::Tensor()};
  }
};

}  // namespace

at::Tensor dequant_workspace(int64_t out, int64_t in, at::ScalarType dtype, at::Device device) {
  std::lock_guard<std::mutex> lock(workspace_mutex);
  at::Tensor& buf = workspaces()[{device.str(), static_cast<int>(dtype)}];
  const int64_t n = out * in;
  if (!buf.defined() || buf.numel() < n) buf = at::empty({n}, at::TensorOptions().dtype(dtype).device(device));
  return buf.slice(0, 0, n).view({out, in});
}

void release_dequant_workspaces() {
  std::lock_guard<std::mutex> lock(workspace_mutex);
  workspaces().clear();
}

at::Tensor QuantizedBase::forward(const at::Tensor& x) const {
  return QuantizedMatmul::apply(x, reinterpret_cast<int64_t>(this));
}

at::Tensor QuantizedBase::dense_weight() const {
  at::Tensor w = at::empty({out_features(), in_features()}, at::TensorOptions().dtype(compute_dtype).device(device()));
  dequantize_into(w);
  return w;
}

Linear4bit::Linear4bit(Quantized4bit q_in, at::ScalarType dtype) : q(std::move(q_in)) {
  compute_dtype = dtype;
  if (q.shape.size() != 2) throw std::logic_error("Linear4bit needs a 2-D weight shape");
}

void Linear4bit::dequantize_into(at::Tensor& out) const {
  if (out.is_cuda() && dequantize_4bit_cuda_available()) {
    dequantize_4bit_cuda(q, out);
    return;
  }
  dequantize_4bit_into(q, out);
}

Linear8bit::Linear8bit(Int8Rowwise q_in, at::ScalarType dtype) : q(std::move(q_in)) { compute_dtype = dtype; }

void Linear8bit::dequantize_into(at::Tensor& out) const { dequantize_int8_rowwise_into(q, out); }

}  // namespace axl::quant
