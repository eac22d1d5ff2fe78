#pragma once
// Raw-pointer entry points of the CUDA kernels in this folder (built by nvcc; no CUDA or ATen
// types cross this line). Each returns 0 or the cudaError_t of the launch. `dtype`: 0 float32,
// 1 bfloat16, 2 float16 (kCudaF32/...). Row-major contiguous unless strides are passed.
// The ATen glue (kernels/*_cuda.cpp) checks shapes, dtypes and devices before calling these.
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { kCudaF32 = 0, kCudaBF16 = 1, kCudaF16 = 2 };

// y = norm(x) * w (weight_offset 0: Llama, rounds the normalised x to the dtype first) or
// norm(x) * (1 + w) in float32 (weight_offset 1: Gemma). inv_rms: float32 [rows], may be null.
int axl_cuda_rms_norm_forward(int dtype, const void* x, const void* w, void* y, float* inv_rms,
                              int64_t rows, int64_t cols, float eps, int weight_offset, void* stream);
// dx [rows, cols]; dw_partial: float32 [grid_rows, cols] zeroed by the caller, summed over
// its first dimension by the caller (grid_rows = axl_cuda_rms_norm_backward_grid(rows)).
int axl_cuda_rms_norm_backward(int dtype, const void* dy, const void* x, const void* w,
                               const float* inv_rms, void* dx, float* dw_partial, int64_t rows,
                               int64_t cols, int weight_offset, void* stream);
int64_t axl_cuda_rms_norm_backward_grid(int64_t rows);

// Rotate-half RoPE on x [B, H, T, D] with strides (sb, sh, st; the last dimension has stride
// 1), cos/sin contiguous [B, T, rot]; writes the first `rot` features of out (same index
// space, its own strides). out may be x (in place). backward != 0 applies the transpose
// (the gradient of the forward rotation).
int axl_cuda_rope(int dtype, const void* x, const int64_t* x_strides, const void* cos,
                  const void* sin, void* out, const int64_t* out_strides, int64_t batch,
                  int64_t heads, int64_t seq, int64_t rot, int backward, void* stream);

// h = silu(gate) * up, elementwise over n values.
int axl_cuda_swiglu_forward(int dtype, const void* gate, const void* up, void* h, int64_t n, void* stream);
// d_gate, d_up from dh; may alias gate and up (each element is read before it is written).
int axl_cuda_swiglu_backward(int dtype, const void* dh, const void* gate, const void* up,
                             void* d_gate, void* d_up, int64_t n, void* stream);

// Per row of logits [rows, vocab] (row stride `row_stride` elements): an online softmax over
// the vocabulary in chunks gives lse (float32 [rows]) and loss[row] = lse - logit[target]
// (0 where target == ignore_index; NaN where the target is outside [0, vocab)).
int axl_cuda_cross_entropy_forward(int dtype, const void* logits, int64_t row_stride,
                                   const int64_t* targets, float* loss, float* lse,
                                   int64_t rows, int64_t vocab, int64_t ignore_index, void* stream);
// grad [rows, vocab] contiguous = grad_scale[0] * (softmax - onehot(target)), 0 on ignored
// rows. grad may be the logits themselves (row_stride == vocab).
int axl_cuda_cross_entropy_backward(int dtype, const void* logits, int64_t row_stride,
                                    const int64_t* targets, const float* lse,
                                    const float* grad_scale, void* grad, int64_t rows,
                                    int64_t vocab, int64_t ignore_index, void* stream);

#ifdef __cplusplus
}
#endif
