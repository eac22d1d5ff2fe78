#include "axl/peft/cayley.h"

#include <cmath>

namespace axl::peft {

namespace {

at::Tensor eye_like_blocks(const at::Tensor& blocks) {
  const int64_t b = blocks.size(-1);
  return at::eye(b, blocks.options()).expand(blocks.sizes());
}

// Flat positions (row * b + col) of the strict upper triangle, in torch.triu_indices order.
at::Tensor upper_positions(int64_t b, const at::Device& device) {
  const at::Tensor idx = at::triu_indices(b, b, 1, at::TensorOptions(at::kLong).device(device));
  return idx[0] * b + idx[1];
}

}  // namespace

at::Tensor skew_from_packed(const at::Tensor& packed, int64_t block_size) {
  const int64_t n = packed.size(0), b = block_size;
  const at::Tensor upper =
      at::zeros({n, b * b}, packed.options()).index_copy(1, upper_positions(b, packed.device()), packed).view({n, b, b});
  return upper - upper.transpose(-2, -1);
}

at::Tensor packed_from_skew(const at::Tensor& skew) {
  const int64_t n = skew.size(0), b = skew.size(-1);
  return skew.reshape({n, b * b}).index_select(1, upper_positions(b, skew.device()));
}

at::Tensor skew_part(const at::Tensor& m) { return 0.5 * (m - m.transpose(-2, -1)); }

at::Tensor cayley(const at::Tensor& skew) {
  const at::Tensor eye = eye_like_blocks(skew);
  // Q (I + S) = I - S, solved from the right as PEFT does (no explicit inverse).
  return at::linalg_solve(eye + skew, eye - skew, /*left=*/false);
}

at::Tensor cayley_neumann(const at::Tensor& skew, int64_t terms) {
  at::Tensor r = eye_like_blocks(skew).clone();
  if (terms <= 1) return r;
  r = r + 2.0 * skew;
  if (terms <= 2) return r;
  at::Tensor power = at::matmul(skew, skew);
  r = r + 2.0 * power;
  for (int64_t k = 3; k < terms - 1; ++k) {
    power = at::matmul(power, skew);
    r = r + 2.0 * power;
  }
  power = at::matmul(power, skew);
  return r + power;
}

at::Tensor rotate_blocks(const at::Tensor& x, const at::Tensor& blocks) {
  const int64_t n = blocks.size(0), b = blocks.size(-1);
  // [rows, n, b] -> [n, rows, b] @ [n, b, b] -> back: one batched GEMM over the blocks.
  at::Tensor rows = x.reshape({-1, n, b}).transpose(0, 1);
  at::Tensor rotated = at::bmm(rows, blocks).transpose(0, 1);
  return rotated.reshape(x.sizes());
}

at::Tensor block_diagonal(const at::Tensor& blocks) { return at::block_diag(blocks.unbind(0)); }

at::Tensor drop_blocks_to_identity(const at::Tensor& blocks, double p) {
  const int64_t n = blocks.size(0);
  const auto to_replace = static_cast<int64_t>(p * static_cast<double>(n));
  if (to_replace == 0) return blocks;
  at::Tensor mask = at::zeros({n}, blocks.options());
  mask.index_put_({at::randperm(n, at::TensorOptions(at::kLong).device(blocks.device())).slice(0, 0, to_replace)}, 1.0);
  mask = mask.view({n, 1, 1});
  return (1 - mask) * blocks + mask * eye_like_blocks(blocks);
}

at::Tensor coft_project(const at::Tensor& skew, double eps) {
  const double scaled_eps = eps / std::sqrt(static_cast<double>(skew.size(0)));
  const at::Tensor norm = skew.pow(2).sum({-2, -1}, /*keepdim=*/true).sqrt();
  return at::where(norm <= scaled_eps, skew, scaled_eps * (skew / norm));
}

}  // namespace axl::peft
