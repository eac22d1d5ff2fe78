#pragma once
// A counting wrapper around libtorch's CPU allocator, for benchmarks: installed before any
// tensor work, it records the bytes of live CPU tensors and their peak, so a benchmark can
// report the peak tensor memory of a step (activations, gradients, temporaries) apart from
// what RSS also counts (the allocator's cached pages, thread stacks, mapped weights).
#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <unordered_map>

namespace axl::bench {

class TrackingCpuAllocator final : public c10::Allocator {
 public:
  // Installs the wrapper as the CPU allocator (call once, before tensors are made).
  static TrackingCpuAllocator& install() {
    static TrackingCpuAllocator self(c10::GetCPUAllocator());
    c10::SetCPUAllocator(&self, /*priority=*/100);
    return self;
  }

  c10::DataPtr allocate(size_t n) override {
    c10::DataPtr inner = inner_->allocate(n);
    void* data = inner.get();
    const c10::Device device = inner.device();
    // The context is the data pointer itself, as raw_allocate (oneDNN's bf16 GEMMs) requires:
    // sizes and the inner deleters live in a table keyed by it.
    const c10::DeleterFnPtr inner_deleter = inner.get_deleter();
    void* inner_context = inner.release_context();  // ours to free now, through the table
    {
      std::lock_guard<std::mutex> lock(mutex_);
      blocks_[data] = {n, inner_deleter, inner_context};
    }
    add(static_cast<int64_t>(n));
    return {data, data, &release, device};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &release; }
  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }

  int64_t live_bytes() const { return live_.load(); }
  int64_t peak_bytes() const { return peak_.load(); }
  // Starts a new peak from what is live now (e.g. before the measured steps).
  void reset_peak() { peak_.store(live_.load()); }

 private:
  struct Block {
    size_t bytes;
    c10::DeleterFnPtr deleter;
    void* context;
  };
  explicit TrackingCpuAllocator(c10::Allocator* inner) : inner_(inner) { self_ = this; }
  static void release(void* data) {
    Block b{};
    {
      std::lock_guard<std::mutex> lock(self_->mutex_);
      auto it = self_->blocks_.find(data);
      if (it == self_->blocks_.end()) return;
      b = it->second;
      self_->blocks_.erase(it);
    }
    self_->add(-static_cast<int64_t>(b.bytes));
    if (b.deleter) b.deleter(b.context);
  }
  void add(int64_t n) {
    const int64_t now = live_.fetch_add(n) + n;
    int64_t peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
  }

  static inline TrackingCpuAllocator* self_ = nullptr;
  std::mutex mutex_;
  std::unordered_map<void*, Block> blocks_;
  c10::Allocator* inner_;
  std::atomic<int64_t> live_{0}, peak_{0};
};

}  // namespace axl::bench
