// Schema migrations on a store that has mail in it. Migration 10 rebuilds the blobs table
// (a rowid table instead of WITHOUT ROWID); a store of schema 9 is made here by writing
// mail with today's code and putting the table back as schema 9 had it (and what migration
// 12 changed: the accounts' usage columns and the triggers on messages). Migration 11
// indexes the bodies nothing refers to; migration 12 takes an account's usage from its
// mailboxes' counts.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "store/sqlite/schema.hpp"
#include "store/store_contract.hpp"

namespace postino::store {
namespace {

namespace fs = std::filesystem;
using test_support::StoreContract;

std::string message(char fill, std::size_t bytes, std::string_view subject) {
  return "Subject: " + std::string(subject) + "\r\n\r\n" + std::string(bytes, fill) + "\r\n";
}

class Raw {
 public:
  explicit Raw(const fs::path& dir) {
    if (sqlite3_open((dir / "store.db").c_str(), &db_) != SQLITE_OK)
      throw std::runtime_error("open store.db");
  }
  ~Raw() { sqlite3_close(db_); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;
  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string detail = error ? error : "?";
      sqlite3_free(error);
      throw std::runtime_error(detail);
    }
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &q, nullptr) != SQLITE_OK)
      throw std::runtime_error(sqlite3_errmsg(db_));
    std::string out;
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
      out = reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    return out;
  }
  long number(const std::string& sql) { return std::stol(text(sql)); }
  // What EXPLAIN QUERY PLAN says of `sql`, a line per step.
  std::string plan(const std::string& sql) {
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(db_, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &q, nullptr) !=
        SQLITE_OK)
      throw std::runtime_error(sqlite3_errmsg(db_));
    std::string out;
    while (sqlite3_step(q) == SQLITE_ROW) {
      out += reinterpret_cast<const char*>(sqlite3_column_text(q, 3));
      out += "\n";
    }
    sqlite3_finalize(q);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// The blobs table, its indexes and triggers as schema 9 left them.
void back_to_schema_9(const fs::path& dir) {
  Raw raw(dir);
  raw.exec(R"sql(
PRAGMA foreign_keys = OFF;
BEGIN;
PRAGMA legacy_alter_table = ON;
CREATE TABLE blobs_9 (
  id TEXT PRIMARY KEY, size INTEGER NOT NULL, refs INTEGER NOT NULL,
  unreferenced_since INTEGER, structure BLOB NOT NULL,
  h_date TEXT NOT NULL, h_subject TEXT NOT NULL, h_from TEXT NOT NULL, h_sender TEXT NOT NULL,
  h_reply_to TEXT NOT NULL, h_to TEXT NOT NULL, h_cc TEXT NOT NULL, h_bcc TEXT NOT NULL,
  h_in_reply_to TEXT NOT NULL, h_message_id TEXT NOT NULL, h_references TEXT NOT NULL
, text_rowid INTEGER, envelope TEXT) WITHOUT ROWID;
INSERT INTO blobs_9 SELECT id, size, refs, unreferenced_since, structure, h_date, h_subject,
  h_from, h_sender, h_reply_to, h_to, h_cc, h_bcc, h_in_reply_to, h_message_id, h_references,
  text_rowid, envelope FROM blobs;
DROP TABLE blobs;
ALTER TABLE blobs_9 RENAME TO blobs;
PRAGMA legacy_alter_table = OFF;
CREATE INDEX blobs_text ON blobs(text_rowid) WHERE text_rowid > 0;
CREATE INDEX blobs_unindexed ON blobs(id) WHERE ifnull(text_rowid, 0) = 0;
CREATE TRIGGER blobs_after_delete AFTER DELETE ON blobs WHEN OLD.text_rowid > 0 BEGIN
  DELETE FROM blob_text WHERE rowid = OLD.text_rowid;
END;
CREATE TRIGGER blob_bytes_collected AFTER DELETE ON blobs BEGIN
  DELETE FROM blob_bytes WHERE blob_id = OLD.id;
END;
CREATE TRIGGER blob_places_collected AFTER DELETE ON blobs BEGIN
  DELETE FROM blob_places WHERE blob_id = OLD.id;
END;
DROP INDEX blob_places_segment;
CREATE INDEX blob_places_segment ON blob_places(segment);
PRAGMA user_version = 9;
)sql");
  raw.exec(test_support::back_before_migration_12);
  raw.exec("COMMIT");
}

TEST_P(StoreContract, MigrationTenRebuildsTheBlobsOfAStoreWithMailAndKeepsAllOfIt) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "opens its own stores; once is enough";
  store_.reset();
  const auto grace = std::chrono::seconds(0);
  // Bodies of every kind: in the database, in the log, in a file; one queued; one indexed.
  store_ = test_support::open_sqlite_with(dir_, grace, 100, 10000);
  const auto small = message('s', 50, "small"), middle = message('m', 5000, "middle"),
             large = message('l', 20000, "large"), rare = message('r', 60, "zyxwvut");
  ASSERT_TRUE(store_->append(demo_, "INBOX", small, {}));
  ASSERT_TRUE(store_->deliver({demo_}, middle));
  ASSERT_TRUE(store_->deliver({demo_}, large));
  ASSERT_TRUE(store_->deliver({demo_}, rare));
  ASSERT_TRUE(store_->append(demo_, "Archive", middle, {}));  // one blob, two messages
  Acceptance queued;
  queued.remote = NewQueueEntry{"s@example.test", {{"far@away.test", "", 0}}, "", 2};
  queued.remote_message = message('q', 3000, "queued");
  auto accepted = store_->accept(queued);
  ASSERT_TRUE(accepted) << accepted.error().detail;
  for (int i = 0; i < 10 && store_->index_text(1 << 20)->more_waiting; ++i) {
  }
  const auto unindexed = message('u', 70, "unindexed zyxwvut");
  ASSERT_TRUE(store_->deliver({demo_}, unindexed));  // saved after the indexing
  store_.reset();

  back_to_schema_9(dir_);
  {
    Raw raw(dir_);
    ASSERT_NE(raw.text("SELECT sql FROM sqlite_schema WHERE name = 'blobs'").find("WITHOUT ROWID"),
              std::string::npos);
    ASSERT_EQ(raw.number("PRAGMA user_version"), 9);
  }

  store_ = test_support::open_sqlite_with(dir_, grace, 100, 10000);
  {
    Raw raw(dir_);
    EXPECT_EQ(raw.number("PRAGMA user_version"), sqlite::schema_version);
    EXPECT_EQ(raw.text("SELECT sql FROM sqlite_schema WHERE name = 'blobs'").find("WITHOUT ROWID"),
              std::string::npos);
    EXPECT_NE(raw.text("SELECT sql FROM sqlite_schema WHERE name = 'blobs_unindexed'")
                  .find("blobs(text_rowid)"),
              std::string::npos);
    EXPECT_NE(raw.text("SELECT sql FROM sqlite_schema WHERE name = 'blobs_text'")
                  .find("blobs(text_rowid, id)"),
              std::string::npos);
    EXPECT_NE(raw.text("SELECT sql FROM sqlite_schema WHERE name = 'blob_places_segment'")
                  .find("segment, offset"),
              std::string::npos);
    EXPECT_EQ(raw.number("SELECT count(*) FROM blobs"), 6);
    EXPECT_NE(raw.text("SELECT sql FROM sqlite_schema WHERE name = 'blobs_unreferenced'"), "");
    EXPECT_EQ(raw.text("SELECT sql FROM sqlite_schema WHERE name = 'accounts'").find("used_"),
              std::string::npos);
    EXPECT_EQ(raw.text("SELECT sql FROM sqlite_schema WHERE name = 'messages_after_move'"), "");
    EXPECT_NE(raw.text("SELECT sql FROM sqlite_schema WHERE name = 'messages_count_flags'"), "");
  }
  // The account's usage, now its mailboxes' counts: six messages (one body in two mailboxes).
  const auto bytes = [](const std::vector<std::string>& all) {
    std::int64_t n = 0;
    for (const auto& m : all) n += static_cast<std::int64_t>(m.size());
    return n;
  };
  auto usage = store_->quota_usage(demo_);
  ASSERT_TRUE(usage) << usage.error().detail;
  EXPECT_EQ(usage->messages, 6);
  EXPECT_EQ(usage->bytes, bytes({small, middle, large, rare, middle, unindexed}));
  const auto inbox = box("INBOX");
  const std::vector<std::string> expected{small, middle, large, rare, unindexed};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    auto got = store_->read_message(demo_, inbox.id, Uid(static_cast<std::uint32_t>(i + 1)));
    ASSERT_TRUE(got) << got.error().detail;
    EXPECT_EQ(*got, expected[i]);
  }
  auto details = store_->message_details(demo_, inbox.id, Uid(4));
  ASSERT_TRUE(details);
  EXPECT_EQ(details->fields.subject, "zyxwvut");
  auto sent = store_->open_queued(accepted->queue_id);
  ASSERT_TRUE(sent) << sent.error().detail;
  auto found = store_->search_text(demo_, inbox.id, Store::TextField::header, "zyxwvut");
  ASSERT_TRUE(found) << found.error().detail;
  EXPECT_EQ(found->matching, std::vector<Uid>{Uid(4)});
  EXPECT_EQ(found->unindexed, std::vector<Uid>{Uid(5)});
  // New mail after the migration, and the indexer finds what waits in the new index.
  ASSERT_TRUE(store_->deliver({demo_}, message('n', 80, "after")));
  for (int i = 0; i < 10 && store_->index_text(1 << 20)->more_waiting; ++i) {
  }
  found = store_->search_text(demo_, inbox.id, Store::TextField::header, "zyxwvut");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->matching, (std::vector<Uid>{Uid(4), Uid(5)}));
  EXPECT_TRUE(found->unindexed.empty());
  auto report = store_->fsck(false);
  ASSERT_TRUE(report) << report.error().detail;
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();

  // The triggers on the rebuilt table still collect what a blob leaves behind, and the
  // foreign keys are on again: deleting a mailbox takes its messages along.
  ASSERT_TRUE(store_->delete_mailbox(demo_, "Archive"));
  std::vector<Uid> all;
  for (std::uint32_t u = 1; u <= 6; ++u) all.push_back(Uid(u));
  ASSERT_TRUE(store_->expunge(demo_, inbox.id, all, Store::ExpungeScope::listed));
  ASSERT_TRUE(store_->change_queue(accepted->queue_id, QueueAction::remove));
  store_.reset();
  store_ = test_support::open_sqlite_with(dir_, grace, 100, 10000);  // collects at start
  Raw raw(dir_);
  EXPECT_EQ(raw.number("SELECT count(*) FROM blobs"), 0);
  EXPECT_EQ(raw.number("SELECT count(*) FROM blob_bytes"), 0);
  EXPECT_EQ(raw.number("SELECT count(*) FROM blob_places"), 0);
  EXPECT_EQ(raw.number("SELECT count(*) FROM blob_text"), 0);
  EXPECT_EQ(raw.number("SELECT count(*) FROM messages"), 0);
}

// Garbage collection finds the bodies nothing refers to through an index of those alone
// (migration 11), not by reading every body's row; a delivery's row never enters it.
TEST_P(StoreContract, UnreferencedBodiesAreFoundWithoutReadingEveryBody) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "the SQLite store's index";
  store_.reset();
  store_ = test_support::open_sqlite_with(dir_, std::chrono::seconds(0), 16384);
  Raw raw(dir_);
  EXPECT_NE(raw.plan(sqlite::unreferenced_blobs_query).find("USING INDEX blobs_unreferenced"),
            std::string::npos)
      << raw.plan(sqlite::unreferenced_blobs_query);
  // The index's entries, counted in its pages (an index b-tree keeps entries in every page).
  const auto indexed = [&] {
    return raw.number("SELECT ifnull(sum(ncell), 0) FROM dbstat WHERE name = 'blobs_unreferenced'");
  };
  const auto a = message('a', 50, "a"), b = message('b', 50, "b");
  ASSERT_TRUE(store_->deliver({demo_}, a));
  ASSERT_TRUE(store_->deliver({demo_}, b));
  EXPECT_EQ(indexed(), 0);
  const auto inbox = box("INBOX");
  ASSERT_TRUE(
      store_->expunge(demo_, inbox.id, std::vector<Uid>{Uid(1)}, Store::ExpungeScope::listed));
  EXPECT_EQ(indexed(), 1);
  ASSERT_TRUE(store_->deliver({demo_}, a));  // the same content: referred to again
  EXPECT_EQ(indexed(), 0);
  ASSERT_TRUE(store_->expunge(demo_, inbox.id, std::vector<Uid>{Uid(2), Uid(3)},
                              Store::ExpungeScope::listed));
  EXPECT_EQ(indexed(), 2);
  auto lines = store_->tidy([](std::uint64_t) { return true; });
  ASSERT_TRUE(lines) << lines.error().detail;
  EXPECT_EQ(indexed(), 0);
}

// A reference the copy would break (here one that was broken before) stops the migration:
// the store is left at the version it had, for fsck to look at with the binary before.
TEST_P(StoreContract, AMigrationThatWouldLeaveABrokenReferenceIsRolledBack) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "opens its own stores; once is enough";
  ASSERT_TRUE(store_->append(demo_, "INBOX", message('s', 50, "small"), {}));
  store_.reset();
  back_to_schema_9(dir_);
  {
    Raw raw(dir_);
    raw.exec("PRAGMA foreign_keys = OFF; UPDATE messages SET blob_id = 'gone'");
  }
  EXPECT_THROW(test_support::open_sqlite_with(dir_, std::chrono::seconds(3600), 100),
               std::runtime_error);
  Raw raw(dir_);
  EXPECT_EQ(raw.number("PRAGMA user_version"), 9);
  EXPECT_NE(raw.text("SELECT sql FROM sqlite_schema WHERE name = 'blobs'").find("WITHOUT ROWID"),
            std::string::npos);
  EXPECT_EQ(raw.number("SELECT count(*) FROM blobs"), 1);
}

}  // namespace
}  // namespace postino::store
