// Reading a stored body piece by piece, so that large messages are never held whole.
#pragma once

#include <cstddef>

#include "store/error.hpp"

namespace postino::store {

class BlobReader {
 public:
  virtual ~BlobReader() = default;
  // Reads up to `n` bytes into `buffer`; 0 at the end.
  virtual Result<std::size_t> read(char* buffer, std::size_t n) = 0;
};

}  // namespace postino::store
