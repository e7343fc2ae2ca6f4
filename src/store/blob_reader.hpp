// Reading a stored body piece by piece, so that large messages are never held whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "store/error.hpp"

namespace postino::store {

class BlobReader {
 public:
  virtual ~BlobReader() = default;
  // Reads up to `n` bytes into `buffer`; 0 at the end.
  virtual Result<std::size_t> read(char* buffer, std::size_t n) = 0;
  // Reads up to `n` bytes from `offset` on (independent of read()'s position); fewer only
  // at the end.
  virtual Result<std::size_t> read_at(std::uint64_t offset, char* buffer, std::size_t n) = 0;
};

// A body already in memory, read the same way (file_blob_store.cpp).
std::unique_ptr<BlobReader> make_memory_blob_reader(std::string bytes);

}  // namespace postino::store
