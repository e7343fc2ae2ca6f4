// Hints to the kernel about large buffers, and how much freed memory the allocator keeps.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>

namespace postino::base {

// Asks for transparent huge pages (2 MiB) for the whole 2 MiB blocks inside [data, data +
// bytes) before they are first written: a list of 100,000 messages (6.4 MB) is then about
// three page faults instead of 1,600, and a page fault is dear on virtual machines (15 µs
// on the reference machine). Does nothing for smaller buffers or where THP is off.
void advise_huge_pages(const void* data, std::size_t bytes);

// Maps the pages of [data, data + bytes) now, in one call (MADV_POPULATE_WRITE), for a
// buffer about to be filled: its small pages at the edges of the huge ones are otherwise a
// page fault each (a list of 100,000 messages: some 500). Does nothing on kernels before
// 5.14.
void populate_pages(void* data, std::size_t bytes);

// Keeps up to `bytes` of freed memory in each of the C library's heaps for reuse, and
// serves allocations below min(bytes, 32 MiB) from them. glibc's defaults give memory freed
// at the top of a heap back to the system once 128 KiB (or the largest block freed so far)
// is free there, and map a block of 128 KiB or more afresh: a burst of work then takes its
// memory anew each time, a page fault a page, and a page fault is dear on virtual machines
// (an IMAP EXPUNGE of 10,000 messages: some 3,700 of them, a fifth of its time). 0 leaves
// glibc's defaults. False where the allocator is not glibc's (the sanitizers' own).
bool keep_freed_memory(std::size_t bytes);

// Gives the freed memory the heaps keep back to the system (malloc_trim).
void return_freed_memory();

// Calls `give_back` (return_freed_memory) every `every` on a thread of its own, so that
// what keep_freed_memory keeps after a burst is not kept for good; until destroyed. An
// interval of 0 never calls it.
class FreedMemoryReturner {
 public:
  explicit FreedMemoryReturner(std::chrono::milliseconds every,
                               std::function<void()> give_back = return_freed_memory);
  ~FreedMemoryReturner();
  FreedMemoryReturner(const FreedMemoryReturner&) = delete;
  FreedMemoryReturner& operator=(const FreedMemoryReturner&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace postino::base
