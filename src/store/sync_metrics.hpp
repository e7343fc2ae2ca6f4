// The store's durable-write timings (`postino_store_sync_duration_seconds` at /metrics):
// "commit" (a group commit, the WAL fsync), "file" (a body's fsync), "directory" (the
// fsync that makes a new name durable).
#pragma once

#include <string>

#include "base/metrics.hpp"

namespace postino::store {

inline base::metrics::Histogram& sync_duration(const std::string& kind) {
  static auto& family = base::metrics::histogram(
      "postino_store_sync_duration_seconds",
      "Durable writes of the store: a group commit (WAL fsync), a message file's fsync, a "
      "directory's fsync.",
      {"kind"});
  return family.with({kind});
}

}  // namespace postino::store
