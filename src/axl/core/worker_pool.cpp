#include "axl/core/worker_pool.h"

namespace axl {

WorkerPool& WorkerPool::shared() {
  static WorkerPool pool;
  return pool;
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lk(m_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::worker_loop(std::size_t index) {
  uint64_t seen = 0;
  for (;;) {
    std::unique_lock<std::mutex> lk(m_);
    wake_.wait(lk, [&] { return stop_ || (generation_ != seen && index < wanted_); });
    if (stop_) return;
    seen = generation_;
    const auto* job = job_;
    lk.unlock();
    try {
      (*job)(index);
    } catch (...) {
      std::lock_guard<std::mutex> g(m_);
      if (!error_) error_ = std::current_exception();
    }
    lk.lock();
    if (--remaining_ == 0) done_.notify_all();
  }
}

void WorkerPool::run(std::size_t n, const std::function<void(std::size_t)>& fn) {
  std::lock_guard<std::mutex> serial(run_mutex_);
  if (n <= 1) {
    if (n == 1) fn(0);
    return;
  }
  {
    std::lock_guard<std::mutex> lk(m_);
    while (threads_.size() < n - 1) {
      std::size_t index = threads_.size() + 1;
      threads_.emplace_back([this, index] { worker_loop(index); });
    }
    job_ = &fn;
    error_ = nullptr;
    wanted_ = n;
    remaining_ = n - 1;
    ++generation_;
  }
  wake_.notify_all();
  std::exception_ptr own;
  try {
    fn(0);
  } catch (...) {
    own = std::current_exception();
  }
  std::unique_lock<std::mutex> lk(m_);
  done_.wait(lk, [&] { return remaining_ == 0; });
  job_ = nullptr;
  if (own) std::rethrow_exception(own);
  if (error_) std::rethrow_exception(error_);
}

}  // namespace axl
