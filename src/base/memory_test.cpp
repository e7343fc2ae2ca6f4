// advise_huge_pages marks the whole 2 MiB blocks of a buffer for huge pages, and nothing
// of a buffer too small to hold one.
#include "base/memory.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace postino::base {
namespace {

// The VmFlags of the mapping that holds `address` (/proc/self/smaps), "" if none found.
std::string flags_at(const void* address) {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t from = 0, to = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> from >> dash >> to && dash == '-') {
      inside = from <= at && at < to;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

TEST(AdviseHugePages, MarksTheWholeBlocksInside) {
  constexpr std::size_t mib = 1 << 20;
  void* area =
      ::mmap(nullptr, 16 * mib, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(area, MAP_FAILED);
  auto* bytes = static_cast<char*>(area);
  const auto aligned = reinterpret_cast<char*>(
      (reinterpret_cast<std::uintptr_t>(bytes) + 2 * mib - 1) & ~std::uintptr_t(2 * mib - 1));
  if (flags_at(bytes).empty()) {
    ::munmap(area, 16 * mib);
    GTEST_SKIP() << "no VmFlags in /proc/self/smaps";
  }
  // Too small to hold a whole block: nothing marked.
  advise_huge_pages(aligned + 4096, mib);
  EXPECT_EQ(flags_at(aligned + 8192).find(" hg"), std::string::npos);
  // A buffer from within one block to past the next: only the whole block inside.
  advise_huge_pages(aligned + mib, 4 * mib);
  EXPECT_NE(flags_at(aligned + 2 * mib).find(" hg"), std::string::npos) << flags_at(aligned);
  EXPECT_EQ(flags_at(aligned + mib).find(" hg"), std::string::npos);
  EXPECT_EQ(flags_at(aligned + 4 * mib).find(" hg"), std::string::npos);
  ::munmap(area, 16 * mib);
}

// populate_pages maps every page of a buffer at once: all resident, none faulted later.
TEST(PopulatePages, MapsEveryPageOfTheBuffer) {
  constexpr std::size_t size = 1 << 20;
  void* area = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(area, MAP_FAILED);
  auto resident = [&] {
    std::vector<unsigned char> in(size / 4096);
    EXPECT_EQ(::mincore(area, size, in.data()), 0);
    return static_cast<std::size_t>(
        std::count_if(in.begin(), in.end(), [](unsigned char c) { return c & 1; }));
  };
  EXPECT_EQ(resident(), 0u);
  // From inside the first page to inside the last: the pages the bytes touch.
  populate_pages(static_cast<char*>(area) + 100, size - 200);
  const auto mapped = resident();
  if (mapped == 0) {
    ::munmap(area, size);
    GTEST_SKIP() << "MADV_POPULATE_WRITE needs Linux 5.14";
  }
  EXPECT_EQ(mapped, size / 4096);
  ::munmap(area, size);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool glibc_allocator = false;  // the sanitizers bring their own
#else
constexpr bool glibc_allocator = true;
#endif

// Keeps the compiler from leaving out a block written and freed unread.
void touched(const void* block) {
  asm volatile("" : : "r"(block) : "memory");
}

long page_faults() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_minflt;
}

long resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

// A block of 8 MiB freed and taken again is the same memory, not 2,048 fresh pages (with
// glibc's defaults the second one comes from the heap, grown for it).
TEST(KeepFreedMemory, ABlockFreedIsTakenAgainWithoutPageFaults) {
  if (!glibc_allocator) GTEST_SKIP() << "not glibc's allocator";
  ASSERT_TRUE(keep_freed_memory(64 << 20));
  constexpr std::size_t size = 8 << 20;
  auto* first = static_cast<char*>(std::malloc(size));
  ASSERT_NE(first, nullptr);
  std::memset(first, 1, size);
  touched(first);
  std::free(first);
  const auto before = page_faults();
  auto* second = static_cast<char*>(std::malloc(size));
  ASSERT_NE(second, nullptr);
  std::memset(second, 2, size);
  touched(second);
  const auto faults = page_faults() - before;
  std::free(second);
  EXPECT_LT(faults, 64) << "of " << size / 4096 << " pages";
}

// What the heaps keep goes back to the system when asked.
TEST(KeepFreedMemory, WhatIsKeptIsGivenBack) {
  if (!glibc_allocator) GTEST_SKIP() << "not glibc's allocator";
  ASSERT_TRUE(keep_freed_memory(64 << 20));
  std::vector<char*> blocks;
  for (int i = 0; i < 4096; ++i) {
    blocks.push_back(static_cast<char*>(std::malloc(4000)));
    std::memset(blocks.back(), 3, 4000);
    touched(blocks.back());
  }
  for (auto* b : blocks) std::free(b);
  const auto kept = resident_bytes();
  return_freed_memory();
  EXPECT_GT(kept - resident_bytes(), 8 << 20);
}

TEST(FreedMemoryReturner, GivesBackEveryIntervalUntilDestroyed) {
  std::atomic<int> calls{0};
  {
    FreedMemoryReturner returner(std::chrono::milliseconds(5), [&] { ++calls; });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (calls < 3 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_GE(calls.load(), 3);
  }
  const int after = calls;
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(calls.load(), after);
}

TEST(FreedMemoryReturner, AnIntervalOfZeroNeverGivesBack) {
  std::atomic<int> calls{0};
  {
    FreedMemoryReturner returner(std::chrono::milliseconds(0), [&] { ++calls; });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST(FreedMemoryReturner, StopsAtOnceWhenDestroyedMidInterval) {
  std::atomic<int> calls{0};
  const auto began = std::chrono::steady_clock::now();
  {
    FreedMemoryReturner returner(std::chrono::hours(1), [&] { ++calls; });
  }
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(5));
  EXPECT_EQ(calls.load(), 0);
}

}  // namespace
}  // namespace postino::base
