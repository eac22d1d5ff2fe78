#pragma once
// A process-wide pool of persistent worker threads for CPU work on plain buffers (tokenizing,
// data preparation). Persistent so that per-thread state (the tokenizers' thread_local word
// caches, regex scratch) stays warm from one batch to the next, as Rust's rayon pool does for
// HF tokenizers. Workers never touch torch (DESIGN.md).
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace axl {

class WorkerPool {
 public:
  static WorkerPool& shared();
  ~WorkerPool();

  // Runs fn(i) for i in [0, n) concurrently, i = 0 on the calling thread, and waits for all.
  // The first exception thrown by any fn(i) is rethrown here. Calls are serialised; fn must
  // not call run() itself.
  void run(std::size_t n, const std::function<void(std::size_t)>& fn);

 private:
  WorkerPool() = default;
  void worker_loop(std::size_t index);

  std::mutex run_mutex_;  // one run() at a time
  std::mutex m_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;  // threads_[k] is worker k + 1
  const std::function<void(std::size_t)>* job_ = nullptr;
  std::exception_ptr error_;
  uint64_t generation_ = 0;
  std::size_t wanted_ = 0, remaining_ = 0;
  bool stop_ = false;
};

}  // namespace axl
