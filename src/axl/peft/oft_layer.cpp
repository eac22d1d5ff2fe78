#include "axl/peft/oft_layer.h"

#include "axl/peft/cayley.h"

namespace axl::peft {

OftLayer::OftLayer(at::Tensor w, OftSettings s) : weight(std::move(w)), settings(s) {}

at::Tensor OftLayer::rotation_blocks() const {
  if (settings.coft) {
    // PEFT overwrites the parameters with their projection before every use.
    at::NoGradGuard no_grad;
    at::Tensor w = weight;  // a handle: copy_ writes the live parameter
    w.copy_(packed_from_skew(coft_project(skew_from_packed(weight, settings.block_size), settings.eps)));
  }
  const at::Tensor skew = skew_from_packed(weight, settings.block_size);
  at::Tensor q = settings.use_cayley_neumann ? cayley_neumann(skew, settings.neumann_terms) : cayley(skew);
  if (settings.block_share) q = q.expand({settings.blocks, settings.block_size, settings.block_size});
  return q;
}

at::Tensor OftLayer::forward(const at::Tensor& x, const models::LinearSlot&, const BaseFn& base) {
  at::Tensor q = rotation_blocks();
  if (training_ && settings.module_dropout > 0 && q.size(0) > 1 && !settings.block_share)
    q = drop_blocks_to_identity(q, settings.module_dropout);
  return base(rotate_blocks(x.to(weight.scalar_type()), q).to(x.scalar_type()));
}

at::Tensor OftLayer::merged_weight(const at::Tensor& w) const {
  // y = x R W^T, so the merged weight is W R^T; float32 then back, as PEFT on the CPU.
  const at::Tensor r = block_diagonal(rotation_blocks()).to(w.device());
  return at::matmul(w.to(at::kFloat), r.t()).to(w.scalar_type());
}

}  // namespace axl::peft
