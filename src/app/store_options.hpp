// The store's options from the configuration (one place, for serve and the admin commands).
#pragma once

#include "config/config.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace postino::app {

inline store::SqliteOptions store_options(const config::Config& cfg) {
  store::SqliteOptions o;
  o.data_dir = cfg.server.data_dir;
  o.busy_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.store.busy_timeout);
  o.max_batch = static_cast<std::size_t>(cfg.store.max_batch);
  o.blob_grace = cfg.store.blob_grace;
  o.max_indexed_text_bytes = static_cast<std::size_t>(cfg.store.max_indexed_text_bytes);
  o.inline_body_bytes = static_cast<std::size_t>(cfg.store.inline_body_bytes);
  o.log_body_bytes = static_cast<std::size_t>(cfg.store.log_body_bytes);
  o.log_segment_bytes = static_cast<std::uint64_t>(cfg.store.log_segment_bytes);
  o.log_compact_percent = static_cast<unsigned>(cfg.store.log_compact_percent);
  o.page_size = static_cast<std::size_t>(cfg.store.page_size);
  o.wal_checkpoint_bytes = static_cast<std::size_t>(cfg.store.wal_checkpoint_bytes);
  o.writer_cache_bytes = static_cast<std::size_t>(cfg.store.writer_cache_bytes);
  o.text_index_quiet = std::chrono::milliseconds(cfg.store.text_index_quiet_ms);
  o.mailbox_names = {static_cast<std::size_t>(cfg.store.max_mailbox_name_bytes),
                     static_cast<std::size_t>(cfg.store.max_mailbox_depth)};
  o.mime_limits = {static_cast<std::size_t>(cfg.mime.max_depth),
                   static_cast<std::size_t>(cfg.mime.max_parts),
                   static_cast<std::size_t>(cfg.mime.max_header_bytes)};
  o.tidy_at_open = false;  // serve's own: see SqliteOptions
  return o;
}

}  // namespace postino::app
