// The database's page size (store.page_size): chosen when a store is created, kept by a
// store that exists; and the WAL's size between checkpoints (store.wal_checkpoint_bytes).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <unistd.h>

#include <filesystem>

#include "store/sqlite/sqlite_store.hpp"
#include "store/store_contract.hpp"
#include "store/sync_metrics.hpp"

namespace postino::store {
namespace {

namespace fs = std::filesystem;
using test_support::StoreContract;

std::unique_ptr<Store> open_with_page_size(const fs::path& dir, std::size_t page_size) {
  SqliteOptions o;
  o.data_dir = dir;
  o.page_size = page_size;
  auto s = open_sqlite_store(o);
  if (!s) throw std::runtime_error(s.error().detail);
  return std::move(*s);
}

long page_size_of(const fs::path& dir) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2((dir / "store.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &q, nullptr), SQLITE_OK);
  long size = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
  sqlite3_finalize(q);
  sqlite3_close(db);
  return size;
}

TEST_P(StoreContract, PageSizeIsChosenWhenTheStoreIsCreatedAndKeptAfter) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "opens its own stores; once is enough";
  EXPECT_EQ(page_size_of(dir_), 4096);  // SqliteOptions' default, as store.page_size's
  store_.reset();
  store_ = open_with_page_size(dir_, 16384);
  ASSERT_TRUE(store_->append(demo_, "INBOX", "Subject: x\r\n\r\nbody\r\n", {}));
  EXPECT_EQ(box("INBOX").messages, 1);
  EXPECT_EQ(page_size_of(dir_), 4096);

  const auto other = dir_ / "other";
  open_with_page_size(other, 16384).reset();
  EXPECT_EQ(page_size_of(other), 16384);
}

// store.wal_checkpoint_bytes: the writer checkpoints once the WAL holds that many bytes
// of pages, after which the next commit writes the log from its start again.
TEST(SqliteWalCheckpoint, TheLogGrowsToTheConfiguredSizeBeforeItIsCopied) {
  const auto base = fs::temp_directory_path() / ("postino-walsize-" + std::to_string(::getpid()));
  fs::remove_all(base);
  auto wal_bytes_after_saves = [&](std::size_t checkpoint_bytes) {
    const auto dir = base / std::to_string(checkpoint_bytes);
    SqliteOptions o;
    o.data_dir = dir;
    o.inline_body_bytes = 1 << 20;  // the bodies go through the log too
    o.wal_checkpoint_bytes = checkpoint_bytes;
    auto s = std::move(*open_sqlite_store(o));
    EXPECT_TRUE(s->create_domain("example.test"));
    const auto demo = *s->create_account("demo@example.test", "$y$hash", "");
    for (int i = 0; i < 300; ++i) {
      EXPECT_TRUE(s->append(demo, "INBOX",
                            "Subject: " + std::to_string(i) + "\r\n\r\n" + std::string(5000, 'x'),
                            {}));
    }
    const auto size = fs::file_size(dir / "store.db-wal");
    s.reset();
    return size;
  };
  // 300 saves of 5 KB write some 2 MB of pages: 64 KiB keeps the log near that size,
  // 16 MiB lets it hold them all.
  EXPECT_LT(wal_bytes_after_saves(64 * 1024), 512u * 1024);
  EXPECT_GT(wal_bytes_after_saves(16 * 1024 * 1024), 1536u * 1024);
  fs::remove_all(base);
}

// store.writer_cache_bytes: a big job's pages stay in the writer's memory until its commit;
// with a small cache SQLite spills them to the WAL before it (and reads back those changed
// again), counted in postino_store_writer_cache_spills_total.
TEST(SqliteWriterCache, ABigJobsPagesStayInMemoryWhenTheCacheHoldsThem) {
  const auto base = fs::temp_directory_path() / ("postino-cache-" + std::to_string(::getpid()));
  fs::remove_all(base);
  auto spills_of_a_big_copy = [&](std::size_t cache_bytes) {
    const auto dir = base / std::to_string(cache_bytes);
    SqliteOptions o;
    o.data_dir = dir;
    o.inline_body_bytes = 1 << 20;
    o.writer_cache_bytes = cache_bytes;
    auto s = std::move(*open_sqlite_store(o));
    EXPECT_TRUE(s->create_domain("example.test"));
    const auto demo = *s->create_account("demo@example.test", "$y$hash", "");
    for (int i = 0; i < 2000; ++i) {
      // A long subject: each copy's rows of fields and envelope hold it twice, some 4 MiB of
      // pages in all, beyond SQLite's default cache of 2 MiB.
      EXPECT_TRUE(s->deliver(
          {demo}, "Subject: " + std::string(900, 's') + std::to_string(i) + "\r\n\r\nbody\r\n"));
    }
    const auto inbox = s->mailbox(demo, "INBOX");
    std::vector<Uid> all;
    for (std::uint32_t u = 1; u <= 2000; ++u) all.push_back(Uid(u));
    const auto before = writer_cache_spills().value();
    auto copied = s->copy_messages(demo, inbox->id, all, "Archive", false);
    EXPECT_TRUE(copied && copied->size() == 2000);
    const auto spilled = writer_cache_spills().value() - before;
    s.reset();
    return spilled;
  };
  EXPECT_GT(spills_of_a_big_copy(128 * 1024), 0u);
  EXPECT_EQ(spills_of_a_big_copy(64 * 1024 * 1024), 0u);
  fs::remove_all(base);
}

// The store turns off SQLite's count of its memory (sqlite::configure_sqlite(): a global
// mutex on every allocation) before the library starts. Run in a process of its own, where
// nothing has started the library yet: with the count on, memory in use reads above 0.
// In the child: opens a store, then exits 0 when SQLite counted no memory in use.
[[noreturn]] void exit_with_memory_count(const fs::path& dir) {
  fs::remove_all(dir);
  auto s = open_with_page_size(dir, 4096);
  const bool worked = s->create_domain("example.test").has_value();
  sqlite3_int64 used = -1;
  sqlite3_int64 highest = 0;
  sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &used, &highest, 0);
  s.reset();
  fs::remove_all(dir);
  std::exit(worked && used == 0 ? 0 : 1);
}

TEST(SqliteLibrary, KeepsNoCountOfItsMemory) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const auto dir = fs::temp_directory_path() / ("postino-memstatus-" + std::to_string(::getpid()));
  EXPECT_EXIT(exit_with_memory_count(dir), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace postino::store
