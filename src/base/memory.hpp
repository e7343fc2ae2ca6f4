// Hints to the kernel about large buffers.
#pragma once

#include <cstddef>

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

}  // namespace postino::base
