// The embedded default store: SQLite (WAL, synchronous=FULL, one group-committing
// writer, concurrent readers) for metadata and a file blob store for message bodies.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>

#include "store/blob_store.hpp"
#include "store/names.hpp"
#include "store/notifier.hpp"
#include "store/store.hpp"

namespace postino::store {

struct SqliteOptions {
  std::filesystem::path data_dir;  // holds store.db and blobs/
  std::chrono::milliseconds busy_timeout{5000};
  std::size_t max_batch = 256;  // write jobs committed together at most
  MailboxNameRules mailbox_names;
  // Unreferenced blobs are collected at start-up once they are this old.
  std::chrono::seconds blob_grace{3600};
  mime::Limits mime_limits;
  // Text of one message (decoded text parts) put in the full-text index at most; a message
  // with more is searched by reading it. 0: no index (every search reads).
  std::size_t max_indexed_text_bytes = 4 * 1024 * 1024;
  // Bodies of at most this many bytes are kept in the database, in the commit that saves
  // their message, instead of a file of their own (0: every body is a file). The server's
  // default comes from store.inline_body_bytes; here it is 0 so that tests which damage
  // body files on disk find them there.
  std::size_t inline_body_bytes = 0;
  // Bodies larger than inline_body_bytes and at most this many bytes are appended to the
  // body log (store/body_log.hpp: segments/ under data_dir) instead of a file of their own
  // (0: none). See store.log_body_bytes.
  std::size_t log_body_bytes = 0;
  // A body-log segment takes no more bodies once it holds this many bytes
  // (store.log_segment_bytes).
  std::uint64_t log_segment_bytes = 64 * 1024 * 1024;
  // A segment no longer appended to whose referenced bytes fall below this share of its
  // size (percent) is compacted at start-up and by Store::tidy: its bodies copied to the
  // end of the log and the segment removed (store.log_compact_percent; 0: never).
  unsigned log_compact_percent = 50;
  // A compaction copies bodies in batches of at most this many bytes (a body larger is a
  // batch alone), each made durable and committed before the next; between them a
  // tidying is paced or stopped (Store::tidy). Tests make it small.
  std::uint64_t compaction_batch_bytes = 4 * 1024 * 1024;
  // The database's page size when this creates it (a power of two, 512 to 65536); an
  // existing store keeps the one it was made with. See store.page_size.
  std::size_t page_size = 4096;
  // The WAL's size at which the writer checkpoints it (store.wal_checkpoint_bytes).
  std::size_t wal_checkpoint_bytes = 16 * 1024 * 1024;
  // Most memory the writer's connection keeps of the database's pages
  // (store.writer_cache_bytes; SQLite's default is 2 MiB).
  std::size_t writer_cache_bytes = 16 * 1024 * 1024;
  // The indexer waits until no message has been saved for this long.
  std::chrono::milliseconds text_index_quiet{200};
  // Told of every committed change to a mailbox (IMAP IDLE); may be null.
  ChangeNotifier* notifier = nullptr;
  // Fault injection for tests (RELIABILITY F02): wraps the blob store the store writes
  // bodies through. Null: the files as they are.
  std::function<std::unique_ptr<BlobStore>(std::unique_ptr<BlobStore>)> wrap_blob_store;
  // Whether opening the store also tidies it as Store::tidy does (unreferenced bodies past
  // the grace collected, body-log segments removed or compacted): `serve`, which then
  // tidies every store.tidy_interval_seconds. Commands that open it for a moment (an
  // administrator's, sendmail) leave that to the server: a compaction is not theirs to
  // wait for. Crash leftovers (temporary and staged files) are dealt with either way.
  bool tidy_at_open = true;
  // For tests: runs when a body in the log is about to be read, its place looked up already
  // (where a compaction may move it meanwhile). Null: nothing.
  std::function<void()> before_log_read;
};

// Opens (creating on first use) the store in options.data_dir, applies pending schema
// migrations in one transaction, and runs start-up recovery (temporary blob files
// removed). Fails when the schema is newer than this binary knows.
Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options);

}  // namespace postino::store
