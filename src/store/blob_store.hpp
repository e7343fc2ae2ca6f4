// Message bodies as content-addressed blobs (DESIGN: stored once however many mailboxes
// refer to them). The only code that writes, fsyncs and renames message files (STYLE.md
// example 10). A blob is written to tmp/, fsynced, renamed to new/<sha256> and new/
// fsynced before commit() returns; once the caller's metadata is committed, unpin() moves
// it to its final place. So after a crash only new/ can hold blobs nobody refers to, and
// start-up looks there instead of scanning every blob.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/blob_reader.hpp"
#include "store/error.hpp"

namespace postino::store {

class BlobWriter {
 public:
  virtual ~BlobWriter() = default;  // an uncommitted writer leaves nothing behind
  virtual Result<void> append(std::string_view bytes) = 0;
  // Makes the blob durable and returns its id (lower-case hex SHA-256 of the content).
  // The id stays pinned (garbage collection leaves it alone) until BlobStore::unpin(), which
  // the caller does once the metadata that refers to it is committed.
  virtual Result<std::string> commit() = 0;
  virtual std::int64_t size() const = 0;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  virtual Result<std::unique_ptr<BlobWriter>> begin() = 0;
  // Writes a whole blob durably (begin, append, commit).
  Result<std::string> put(std::string_view bytes);
  virtual Result<std::string> read(const std::string& id) = 0;
  virtual Result<std::unique_ptr<BlobReader>> open(const std::string& id) = 0;
  virtual Result<std::int64_t> size(const std::string& id) = 0;
  virtual bool exists(const std::string& id) = 0;
  // Time since the blob was written.
  virtual Result<std::chrono::seconds> age(const std::string& id) = 0;
  // The metadata naming `id` is committed (or abandoned): the blob may be promoted to its
  // final place and collected like any other once unreferenced.
  virtual void unpin(const std::string& id) = 0;
  // The metadata was not committed: unpins without promoting, so the blob stays staged and
  // is removed by remove_if() or start-up recovery unless something else refers to it.
  virtual void unpin_uncommitted(const std::string& id) = 0;
  // Blobs still in new/ (committed to disk, not yet known to be referenced).
  virtual Result<std::vector<std::string>> staged() = 0;
  // Moves a staged blob to its final place (no-op when it is not staged).
  virtual Result<void> promote(const std::string& id) = 0;
  // Garbage collection: removes the blob unless it is pinned or `is_unreferenced()` (asked
  // while no commit of the same content can slip in) says false. True when removed.
  virtual Result<bool> remove_if(const std::string& id,
                                 const std::function<bool()>& is_unreferenced) = 0;
  // remove_if() for many at once: `unreferenced` is given those of `ids` not pinned (asked
  // as remove_if() asks) and returns the ones to remove, whose files are then removed.
  // Returns the ids removed (an error: some files may be left, as orphans).
  using Unreferenced = std::function<std::vector<std::string>(const std::vector<std::string>&)>;
  virtual Result<std::vector<std::string>> remove_all_if(const std::vector<std::string>& ids,
                                                         const Unreferenced& unreferenced) = 0;
  // Every stored blob id (for fsck and garbage collection).
  virtual Result<std::vector<std::string>> list() = 0;
  // Recomputes the hash: true when the content still matches its id.
  virtual Result<bool> verify(const std::string& id) = 0;
  // Takes a damaged body out of service (RELIABILITY C05): under the pin lock (so that no
  // save of the same content, which would mend it, can slip in), and only when it is not
  // pinned, still does not verify and `confirm()` agrees, moves its files into `into`
  // (for whoever wants to look at them; nothing to move when it is missing). True when
  // quarantined.
  virtual Result<bool> quarantine(const std::string& id, const std::filesystem::path& into,
                                  const std::function<bool()>& confirm) = 0;
  // Start-up recovery: removes temporary files left by a crash; returns how many.
  virtual Result<std::size_t> recover() = 0;
};

// Blobs as files under DIR: DIR/ab/abcd…, staged ones in DIR/new, temporary files in
// DIR/tmp.
std::unique_ptr<BlobStore> make_file_blob_store(const std::filesystem::path& dir);

bool is_blob_id(std::string_view id);

// The id a blob of these bytes has (lower-case hex SHA-256), for bodies kept elsewhere
// than in a BlobStore (the SQLite store keeps small ones in its database).
std::string blob_id_for(std::string_view bytes);

}  // namespace postino::store
