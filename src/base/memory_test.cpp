// advise_huge_pages marks the whole 2 MiB blocks of a buffer for huge pages, and nothing
// of a buffer too small to hold one.
#include "base/memory.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
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

}  // namespace
}  // namespace postino::base
