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

// Pages the writer's connection wrote to the WAL before a commit because its cache was full
// (`postino_store_writer_cache_spills_total`, SQLite's SQLITE_DBSTATUS_CACHE_SPILL): each is
// read back if the transaction changes it again. Growing under normal load means
// store.writer_cache_bytes is too small for the jobs the server runs.
inline base::metrics::Counter& writer_cache_spills() {
  static auto& family = base::metrics::counter(
      "postino_store_writer_cache_spills_total",
      "Pages the store's writer spilled to the write-ahead log before a commit because its "
      "page cache (store.writer_cache_bytes) was full.");
  return family.with({});
}

// Where a save's time goes (`postino_store_save_stage_seconds` at /metrics): "prepare"
// (parsing, hashing, writing the body to the log, a file or the row), "body_sync" (waiting
// for the fdatasync that makes the log's bodies durable, shared with the saves beside it)
// and "commit" (waiting for the writer's group commit, its turn and its WAL fsync). A slow
// disk shows in the last two.
inline base::metrics::Histogram& save_duration(const std::string& stage) {
  static auto& family = base::metrics::histogram(
      "postino_store_save_stage_seconds",
      "The stages of a save (a delivery, an APPEND, an accepted SMTP message): preparing the "
      "body, waiting for the body log's fdatasync, waiting for the group commit.",
      {"stage"});
  return family.with({stage});
}

}  // namespace postino::store
