// Reads that never wait for the disk (store/no_wait.hpp, sqlite/no_wait_vfs.cpp): inside a
// NoWaitScope the store answers from memory and the page cache, or says would_block and
// waits for nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include "store/no_wait.hpp"
#include "store/page_cache_test_support.hpp"
#include "store/sqlite/connections.hpp"
#include "store/sqlite/store_impl.hpp"
#include "store/store_contract.hpp"

namespace postino::store {
namespace {

namespace fs = std::filesystem;

class NoWaitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("postino-nowait-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    store_ = test_support::open_sqlite_inline(dir_, std::chrono::seconds(3600));
    ASSERT_TRUE(store_->create_domain("example.test"));
    auto id = store_->create_account("demo@example.test", "$y$hash", "");
    ASSERT_TRUE(id) << id.error().detail;
    demo_ = *id;
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(store_->deliver({demo_}, "Subject: " + std::to_string(i) + "\r\n\r\nbody\r\n"));
    }
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  Result<MailboxSummary> summary_without_waiting() {
    const NoWaitScope scope;
    return store_->mailbox_summary(demo_, "INBOX");
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
  AccountId demo_;
};

TEST_F(NoWaitTest, WhatIsInMemoryIsReadAndWhatWouldWaitForTheDiskIsNot) {
  ASSERT_TRUE(store_->mailbox_summary(demo_, "INBOX"));  // a reader connection, warm
  auto warm = summary_without_waiting();
  ASSERT_TRUE(warm) << warm.error().detail;
  EXPECT_EQ(warm->mailbox.messages, 200);

  // A commit makes the readers read their pages again; with the files out of the page
  // cache, that would wait for the disk.
  const auto inbox = warm->mailbox.id;
  auto list = store_->messages(demo_, inbox);
  ASSERT_TRUE(list);
  ASSERT_TRUE(store_->store_flags(demo_, inbox, {list->front().uid}, Store::FlagChange::add,
                                  {flag_seen, {}}));
  if (!test_support::evict_store_from_page_cache(dir_)) {
    GTEST_SKIP() << "this file system keeps the pages of its files";
  }
  auto cold = summary_without_waiting();
  ASSERT_FALSE(cold);
  EXPECT_EQ(cold.error().kind, ErrorKind::would_block) << cold.error().detail;

  // Made again outside the scope (on a worker, in the server), the call reads them, and
  // the connection is none the worse for the read it did not make.
  auto read = store_->mailbox_summary(demo_, "INBOX");
  ASSERT_TRUE(read) << read.error().detail;
  EXPECT_EQ(read->mailbox.unseen, 199);
  EXPECT_EQ(read->first_unseen, 2u);
  auto again = summary_without_waiting();
  ASSERT_TRUE(again) << again.error().detail;
  EXPECT_EQ(again->first_unseen, 2u);
}

TEST_F(NoWaitTest, NothingIsWrittenOrReadFromAFileWithoutWaiting) {
  const auto big = "Subject: big\r\n\r\n" + std::string(300 * 1024, 'x') + "\r\n";
  auto delivered = store_->deliver({demo_}, big);  // a file of its own (over 256 KiB)
  ASSERT_TRUE(delivered);
  const auto inbox = store_->mailbox(demo_, "INBOX")->id;
  const auto uid = store_->messages(demo_, inbox)->back().uid;
  {
    const NoWaitScope scope;
    // A delivery waits for its commit's fsync.
    auto write = store_->deliver({demo_}, "Subject: late\r\n\r\nx\r\n");
    ASSERT_FALSE(write);
    EXPECT_EQ(write.error().kind, ErrorKind::would_block);
    // A body kept in a file is read on a worker.
    auto body = store_->read_message(demo_, inbox, uid);
    ASSERT_FALSE(body);
    EXPECT_EQ(body.error().kind, ErrorKind::would_block) << body.error().detail;
  }
  {
    const NoWaitScope scope;
    auto reader = store_->open_message(demo_, inbox, uid);
    ASSERT_FALSE(reader);
    EXPECT_EQ(reader.error().kind, ErrorKind::would_block) << reader.error().detail;
  }
  EXPECT_EQ(store_->mailbox(demo_, "INBOX")->messages, 201);
  auto body = store_->read_message(demo_, inbox, uid);
  ASSERT_TRUE(body) << body.error().detail;
  EXPECT_EQ(*body, big);
}

// A reader connection is opened (files, schema) only outside the scope.
TEST_F(NoWaitTest, NoReaderConnectionIsOpened) {
  sqlite::ReaderPool pool(dir_ / "store.db", std::chrono::milliseconds(5000));
  const auto one = [](sqlite::Database&) { return 1; };
  try {
    const NoWaitScope scope;
    pool.run(one);
    ADD_FAILURE() << "a connection was opened";
  } catch (const StoreException& e) {
    EXPECT_EQ(e.error.kind, ErrorKind::would_block);
  }
  EXPECT_EQ(pool.run(one), 1);  // opened here, and kept
  const NoWaitScope scope;
  EXPECT_EQ(pool.run(one), 1);
}

// A reader connection compiles what a summary runs as it opens, so that SELECT on the event
// loop compiles nothing whichever idle reader it finds: here the one that served the reads
// before it.
TEST_F(NoWaitTest, AReaderComesWithTheSummarysStatementsCompiled) {
  const auto inbox = store_->mailbox(demo_, "INBOX");
  ASSERT_TRUE(inbox);
  auto list = store_->messages(demo_, inbox->id);
  ASSERT_TRUE(list);
  // Seen up to the middle: the first unseen message is counted (both of its queries run).
  std::vector<Uid> seen;
  for (std::size_t i = 0; i < 120; ++i) seen.push_back((*list)[i].uid);
  ASSERT_TRUE(store_->store_flags(demo_, inbox->id, seen, Store::FlagChange::add, {flag_seen, {}}));
  const auto compiled = sqlite::Database::compiled_on_this_thread();
  auto summary = summary_without_waiting();
  ASSERT_TRUE(summary) << summary.error().detail;
  EXPECT_EQ(summary->first_unseen, 121u);
  EXPECT_EQ(sqlite::Database::compiled_on_this_thread(), compiled);
  // The count counts: a statement no connection has seen is compiled.
  sqlite::ReaderPool pool(dir_ / "store.db", std::chrono::milliseconds(5000),
                          sqlite::prepare_summary_statements);
  pool.run([](sqlite::Database& db) { db.prepare("SELECT 7"); });
  EXPECT_EQ(sqlite::Database::compiled_on_this_thread(), compiled + 8);
}

// A job that leaves a read transaction open (a read refused in a NoWaitScope, a COMMIT
// that failed) must not leave its pooled connection reading that snapshot ever after.
TEST_F(NoWaitTest, APooledReaderNeverKeepsAnOldSnapshot) {
  sqlite::ReaderPool pool(dir_ / "store.db", std::chrono::milliseconds(5000));
  const auto count = [](sqlite::Database& db) {
    auto& q = db.prepare("SELECT count(*) FROM messages");
    q.step();
    return q.int64(0);
  };
  const auto before = pool.run([&](sqlite::Database& db) {
    db.exec("BEGIN");  // and no COMMIT
    return count(db);
  });
  ASSERT_TRUE(store_->deliver({demo_}, "Subject: later\r\n\r\nx\r\n"));
  EXPECT_EQ(pool.run(count), before + 1);
}

TEST(NoWaitScope, NestsAndEnds) {
  EXPECT_FALSE(no_wait());
  {
    const NoWaitScope outer;
    EXPECT_TRUE(no_wait());
    note_would_block();
    {
      const NoWaitScope inner;
      EXPECT_TRUE(would_have_blocked());
    }
    EXPECT_TRUE(no_wait());
  }
  EXPECT_FALSE(no_wait());
  note_would_block();  // outside a scope: nothing to mark
  const NoWaitScope later;
  EXPECT_FALSE(would_have_blocked());
}

}  // namespace
}  // namespace postino::store
