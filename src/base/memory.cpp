#include "base/memory.hpp"

#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older C library headers lack it
#endif

namespace postino::base {

void populate_pages(void* data, std::size_t bytes) {
  if (bytes == 0) return;
  constexpr std::uintptr_t page = 4096;
  const auto begin = reinterpret_cast<std::uintptr_t>(data) & ~(page - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes + page - 1) & ~(page - 1);
  (void)::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
}

void advise_huge_pages(const void* data, std::size_t bytes) {
  constexpr std::uintptr_t huge = std::uintptr_t{2} << 20;
  const auto begin = (reinterpret_cast<std::uintptr_t>(data) + huge - 1) & ~(huge - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes) & ~(huge - 1);
  if (end <= begin) return;
  // A hint: refused (THP off, an old kernel), the buffer is simply made of small pages.
  (void)::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

bool keep_freed_memory(std::size_t bytes) {
  if (bytes == 0) return true;
  // glibc's own ceiling for the threshold it raises by itself (DEFAULT_MMAP_THRESHOLD_MAX
  // on 64-bit systems): larger blocks are still mapped, and unmapped when freed.
  constexpr std::size_t most_from_heaps = 32 * 1024 * 1024;
  const auto as_int = [](std::size_t n) {
    return static_cast<int>(std::min<std::size_t>(n, std::numeric_limits<int>::max()));
  };
  return ::mallopt(M_TRIM_THRESHOLD, as_int(bytes)) == 1 &&
         ::mallopt(M_MMAP_THRESHOLD, as_int(std::min(bytes, most_from_heaps))) == 1;
}

void return_freed_memory() {
  (void)::malloc_trim(0);
}

FreedMemoryReturner::FreedMemoryReturner(std::chrono::milliseconds every,
                                         std::function<void()> give_back) {
  if (every.count() <= 0) return;  // never
  thread_ = std::thread([this, every, give_back = std::move(give_back)] {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, every, [this] { return stopping_; })) {
      lock.unlock();
      give_back();
      lock.lock();
    }
  });
}

FreedMemoryReturner::~FreedMemoryReturner() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace postino::base
