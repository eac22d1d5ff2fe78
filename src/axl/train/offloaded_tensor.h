#pragma once
// A device tensor parked in pinned host memory (offloaded activation checkpoints). The copy
// out and the copy back run on a side stream, so they overlap the compute stream's work;
// the compute stream waits only where it needs the data. Device-generic (c10 streams and
// events), so it compiles without CUDA headers; meant for CUDA tensors.
#include <ATen/ATen.h>
#include <c10/core/Event.h>
#include <c10/core/Stream.h>

#include <memory>

namespace axl::train {

class OffloadedTensor {
 public:
  // Starts copying x to pinned host memory on the side stream (after the work that made x);
  // x's device memory is not reused before the copy has read it.
  explicit OffloadedTensor(const at::Tensor& x);
  OffloadedTensor(const OffloadedTensor&) = delete;
  OffloadedTensor& operator=(const OffloadedTensor&) = delete;

  // Starts the copy back to the device (once); restore() then finds it under way or done.
  void prefetch();
  // The tensor on its device, usable on the current stream.
  at::Tensor restore();

 private:
  at::Device device_;
  c10::Stream side_;
  at::Tensor host_, back_;
  std::unique_ptr<c10::Event> back_ready_;
};

}  // namespace axl::train
