// The persistent worker pool: every index runs once per call, errors come back to the caller,
// and the same threads serve later calls (what keeps the tokenizers' thread caches warm).
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "axl/core/worker_pool.h"

TEST(WorkerPool, RunsEveryIndexOnce) {
  std::vector<std::atomic<int>> hits(5);
  axl::WorkerPool::shared().run(5, [&](std::size_t i) { hits[i]++; });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST(WorkerPool, RethrowsTheFirstError) {
  EXPECT_THROW(axl::WorkerPool::shared().run(3, [](std::size_t i) {
    if (i == 2) throw std::runtime_error("boom");
  }), std::runtime_error);
  // The pool still works afterwards.
  std::atomic<int> n{0};
  axl::WorkerPool::shared().run(3, [&](std::size_t) { n++; });
  EXPECT_EQ(n.load(), 3);
}

TEST(WorkerPool, ReusesItsThreads) {
  auto ids_of_run = [] {
    std::mutex m;
    std::set<std::thread::id> ids;
    axl::WorkerPool::shared().run(3, [&](std::size_t i) {
      if (i == 0) return;  // the caller
      std::lock_guard<std::mutex> g(m);
      ids.insert(std::this_thread::get_id());
    });
    return ids;
  };
  auto first = ids_of_run();
  auto second = ids_of_run();
  EXPECT_EQ(first.size(), 2u);
  EXPECT_EQ(first, second);
}
