#include "axl/train/offloaded_tensor.h"

#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <stdexcept>

namespace axl::train {

namespace {
c10::Stream side_stream(const at::Device& device) {
  return c10::impl::VirtualGuardImpl(device.type()).getStreamFromGlobalPool(device);
}
c10::Stream current_stream(const at::Device& device) {
  return c10::impl::VirtualGuardImpl(device.type()).getStream(device);
}
}  // namespace

OffloadedTensor::OffloadedTensor(const at::Tensor& x) : device_(x.device()), side_(side_stream(x.device())) {
  host_ = at::empty(x.sizes(), x.options().device(at::kCPU).pinned_memory(true));
  c10::Event made(device_.type());
  made.record(current_stream(device_));
  made.block(side_);
  {
    c10::StreamGuard on_side(side_);
    host_.copy_(x, /*non_blocking=*/true);
  }
  x.record_stream(side_);  // the allocator keeps x's block until the side stream is past the copy
}

void OffloadedTensor::prefetch() {
  if (back_.defined() || !host_.defined()) return;  // under way, or already restored
  {
    // Allocated on the side stream, which fills it: a block freed on the compute stream could
    // still be in use by compute work queued before now, which the side stream does not wait
    // for. record_stream: the compute stream uses it next, and the allocator must not hand the
    // block out again before that use is done.
    c10::StreamGuard on_side(side_);
    back_ = at::empty(host_.sizes(), host_.options().device(device_).pinned_memory(false));
    back_.copy_(host_, /*non_blocking=*/true);
  }
  back_.record_stream(current_stream(device_));
  back_ready_ = std::make_unique<c10::Event>(device_.type());
  back_ready_->record(side_);
}

at::Tensor OffloadedTensor::restore() {
  if (!host_.defined()) throw std::logic_error("OffloadedTensor restored twice");
  prefetch();
  back_ready_->block(current_stream(device_));
  at::Tensor out = back_;
  back_ = at::Tensor();
  host_ = at::Tensor();  // one restore per offload: the pinned buffer goes back now
  return out;
}

}  // namespace axl::train
