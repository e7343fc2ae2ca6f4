// Message bodies appended to segment files, so that each is written to the disk once.
//
// A body kept in the database is written twice (the WAL, then the checkpoint copies it into
// the database file) and costs the writer thread a system call or two per page; a body in a
// file of its own costs the file's creation, its fsync and its directory's. A body log is
// neither: a save appends its bytes to the end of a segment (one pwrite), one fdatasync
// shared by every save waiting at that moment makes them durable, and the commit that
// names the body records where it is (store/sqlite: blob_places). Written by hand: no
// library keeps an append-only log of opaque records with this durability contract, and
// it is the store's heart.
//
// Each process appends to segments of its own, created as it needs them (ids above every
// segment on disk, created exclusively) and locked (flock) while it appends, so that two
// processes sharing a store (the server and an administrator's command) never write the
// same file, neither removes one the other still fills, and a crash's torn tail is never
// written after: bytes after the last committed place are dead space, freed with
// their segment. Which segments are referenced, and how many of their bytes, is the
// database's to say; this class only keeps the files.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/blob_reader.hpp"
#include "store/error.hpp"
#include "store/shared_sync.hpp"

namespace postino::store {

struct BodyPlace {
  std::int64_t segment = 0;
  std::int64_t offset = 0;
  std::int64_t size = 0;
};

class BodyLog {
 public:
  // Segments under `dir` (created on first append); a segment takes no more appends once
  // it holds `segment_bytes`.
  // `datasync` is fdatasync(2), replaced by tests that make it fail (RELIABILITY F02).
  BodyLog(std::filesystem::path dir, std::uint64_t segment_bytes,
          std::function<int(int)> datasync = ::fdatasync);
  ~BodyLog();
  BodyLog(const BodyLog&) = delete;
  BodyLog& operator=(const BodyLog&) = delete;

  // Writes `bytes` at the end of this process's current segment. Not durable until sync().
  Result<BodyPlace> append(std::string_view bytes);
  // Returns once `places` (appended before the call) are on disk: one fdatasync serves every
  // caller waiting for it (store/shared_sync.hpp). A failed fdatasync fails the places it
  // was for, and their segment takes no more appends (RELIABILITY F02: after a failed
  // fsync the page cache no longer says what is on disk).
  Result<void> sync(const std::vector<BodyPlace>& places);

  // The body's bytes; not_found when its segment is gone or shorter than the place says.
  Result<std::string> read(const BodyPlace& place);
  Result<std::unique_ptr<BlobReader>> open(const BodyPlace& place);

  struct Segment {
    std::int64_t id = 0;
    std::uint64_t bytes = 0;
    std::chrono::seconds age{0};  // since its last write
    bool in_use = false;          // a process (this one or another) still appends to it
  };
  // Every segment file, by id.
  Result<std::vector<Segment>> segments();
  // Removes a segment file unless a process still appends to it (false then). Readers that
  // have it open keep reading.
  Result<bool> remove(std::int64_t id);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  struct File;
  Result<std::shared_ptr<File>> file_for(std::int64_t id);
  Result<void> start_segment();  // with mutex_ held
  Result<void> sync_current();
  void trim_open(std::int64_t keep);  // with mutex_ held

  std::filesystem::path dir_;
  std::uint64_t segment_bytes_;
  std::function<int(int)> datasync_;
  std::mutex mutex_;
  std::shared_ptr<File> current_;  // null until the first append, or after a failed sync
  std::uint64_t end_ = 0;          // of the current segment
  std::set<std::int64_t> failed_;  // segments whose fdatasync failed
  static constexpr std::size_t max_open_segments = 128;
  std::unordered_map<std::int64_t, std::shared_ptr<File>> open_;  // for reading
  SharedSync sync_;
};

}  // namespace postino::store
