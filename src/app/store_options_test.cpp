// The store's options from the configuration: every store.* and mime.* key the store uses
// reaches it (a key read and documented but not passed on would be silently ignored).
#include "app/store_options.hpp"

#include <gtest/gtest.h>

namespace postino::app {
namespace {

TEST(StoreOptions, EveryStoreKeyReachesTheStore) {
  config::Config c;
  c.server.data_dir = "/srv/postino-test";
  c.store.busy_timeout = std::chrono::seconds(9);
  c.store.max_batch = 17;
  c.store.blob_grace = std::chrono::seconds(123);
  c.store.max_mailbox_name_bytes = 101;
  c.store.max_mailbox_depth = 7;
  c.store.max_indexed_text_bytes = 3333;
  c.store.inline_body_bytes = 4444;
  c.store.log_body_bytes = 5555;
  c.store.log_segment_bytes = 6666;
  c.store.log_compact_percent = 77;
  c.store.page_size = 8192;
  c.store.wal_checkpoint_bytes = 131072;
  c.store.writer_cache_bytes = 3 * 1024 * 1024;
  c.store.text_index_quiet_ms = 55;
  c.mime.max_depth = 11;
  c.mime.max_parts = 12;
  c.mime.max_header_bytes = 13;
  const auto o = store_options(c);
  EXPECT_EQ(o.data_dir, std::filesystem::path("/srv/postino-test"));
  EXPECT_EQ(o.busy_timeout, std::chrono::milliseconds(9000));
  EXPECT_EQ(o.max_batch, 17u);
  EXPECT_EQ(o.blob_grace, std::chrono::seconds(123));
  EXPECT_EQ(o.mailbox_names.max_bytes, 101u);
  EXPECT_EQ(o.mailbox_names.max_depth, 7u);
  EXPECT_EQ(o.max_indexed_text_bytes, 3333u);
  EXPECT_EQ(o.inline_body_bytes, 4444u);
  EXPECT_EQ(o.log_body_bytes, 5555u);
  EXPECT_EQ(o.log_segment_bytes, 6666u);
  EXPECT_EQ(o.log_compact_percent, 77u);
  EXPECT_EQ(o.page_size, 8192u);
  EXPECT_EQ(o.wal_checkpoint_bytes, 131072u);
  EXPECT_EQ(o.writer_cache_bytes, 3u * 1024 * 1024);
  EXPECT_EQ(o.text_index_quiet, std::chrono::milliseconds(55));
  EXPECT_EQ(o.mime_limits.max_depth, 11u);
  EXPECT_EQ(o.mime_limits.max_parts, 12u);
  EXPECT_EQ(o.mime_limits.max_header_bytes, 13u);
}

// The commands (an administrator's, sendmail) open the store without tidying it: serve
// sets tidy_at_open for itself.
TEST(StoreOptions, CommandsLeaveTidyingToTheServer) {
  EXPECT_FALSE(store_options(config::Config{}).tidy_at_open);
}

}  // namespace
}  // namespace postino::app
