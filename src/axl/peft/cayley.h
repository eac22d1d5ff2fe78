#pragma once
// Orthogonal blocks for OFT and BOFT: skew-symmetric matrices from their parameters, the
// Cayley transform (exact and PEFT's Neumann-series form), and rotating features block by block.
// All batched over a leading block dimension: [n, b, b].
#include <ATen/ATen.h>

namespace axl::peft {

// PEFT 0.19.1's OFT packing: row k of `packed` [n, b(b-1)/2] fills the strict upper triangle
// (row-major, torch.triu_indices order) of U; returns U - U^T.
at::Tensor skew_from_packed(const at::Tensor& packed, int64_t block_size);
// The inverse: the strict upper triangles of [n, b, b] as [n, b(b-1)/2].
at::Tensor packed_from_skew(const at::Tensor& skew);
// (m - m^T) / 2: the skew part of free square blocks (OFT in PEFT 0.12, BOFT).
at::Tensor skew_part(const at::Tensor& m);

// (I - S)(I + S)^-1 for each block.
at::Tensor cayley(const at::Tensor& skew);
// PEFT's truncated series I + 2S + 2S^2 + ... + 2S^(t-2) + S^(t-1) (t = terms; for t = 3 the
// last power is S^3, as PEFT's loop gives). It approximates (I + S)(I - S)^-1.
at::Tensor cayley_neumann(const at::Tensor& skew, int64_t terms);

// x [..., n*b] times block_diag(blocks) with blocks [n, b, b] (each row of x, cut in n pieces
// of b, multiplied by its block).
at::Tensor rotate_blocks(const at::Tensor& x, const at::Tensor& blocks);
// block_diag(blocks) as a dense [n*b, n*b] matrix.
at::Tensor block_diagonal(const at::Tensor& blocks);

// PEFT's multiplicative dropout for orthogonal blocks: int(p * n) blocks chosen at random are
// replaced by the identity (training only; the caller decides).
at::Tensor drop_blocks_to_identity(const at::Tensor& blocks, double p);

// COFT's projection (constrained OFT): each skew block whose Frobenius norm exceeds
// eps / sqrt(n) is scaled down to that norm; `skew` [n, b, b].
at::Tensor coft_project(const at::Tensor& skew, double eps);

}  // namespace axl::peft
