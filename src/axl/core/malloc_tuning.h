#pragma once
// glibc malloc settings for a training process. By default glibc serves large blocks (the
// activations, a loss chunk's logits) with fresh mmap()s and gives freed heap tops back to
// the kernel, so every step faults the same memory in again, page by page. Keeping freed
// blocks in the heap for reuse makes a CPU LoRA step 1.14x faster with the trainer's default
// functions at the same peak resident set (1.17x and +12% peak without the fused functions and
// the chunked loss; bench/malloc_reuse.py, bench/results/malloc-cpu.jsonl). Set once at process start, before the first
// large allocation.
namespace axl::core {

// Serves every block from the heap and never trims it. Does nothing when the user tunes
// malloc themselves (MALLOC_MMAP_MAX_, MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_,
// MALLOC_TOP_PAD_ or GLIBC_TUNABLES set) or sets AXL_MALLOC=default. Returns whether it
// changed anything.
bool keep_freed_memory_for_reuse();

}  // namespace axl::core
