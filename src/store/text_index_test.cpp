// The store contract for full-text search, and the SQLite index's limits and background
// indexer.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <thread>

#include "store/sqlite/connections.hpp"
#include "store/store_contract.hpp"
#include "store/text_indexer.hpp"

namespace postino::store {
namespace {

namespace fs = std::filesystem;
using test_support::Backend;
using test_support::open_sqlite;
using test_support::StoreContract;

// A new SQLite store in its own directory with the demo account, removed when it goes.
struct DemoStore {
  fs::path dir;
  std::unique_ptr<Store> store;
  AccountId demo;
  MailboxId inbox;
  ~DemoStore() {
    store.reset();
    fs::remove_all(dir);
  }
};

std::unique_ptr<DemoStore> open_demo_store(const std::string& name,
                                           std::chrono::milliseconds index_quiet) {
  auto d = std::make_unique<DemoStore>();
  d->dir = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  fs::remove_all(d->dir);
  SqliteOptions o;
  o.data_dir = d->dir;
  o.text_index_quiet = index_quiet;
  d->store = std::move(*open_sqlite_store(o));
  EXPECT_TRUE(d->store->create_domain("example.test"));
  d->demo = *d->store->create_account("demo@example.test", "$y$hash", "");
  d->inbox = d->store->mailbox(d->demo, "INBOX")->id;
  return d;
}

TEST_P(StoreContract, FullTextSearchFindsSubstringsWithUnicodeCaseFolding) {
  ASSERT_TRUE(store_->append(demo_, "INBOX",
                             "Subject: =?utf-8?q?R=C3=A9sum=C3=A9?=\r\n"
                             "Content-Type: text/plain; charset=iso-8859-1\r\n"
                             "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                             "L'=E9t=E9 \"dernier\" fut chaud=\r\nement\r\n",
                             {}));
  ASSERT_TRUE(store_->append(demo_, "INBOX", "Subject: plain\r\n\r\nnothing here\r\n", {}));
  ASSERT_TRUE(store_->append(demo_, "Archive", "Subject: x\r\n\r\nl'été\r\n", {}));
  const auto inbox = box("INBOX");
  using F = Store::TextField;
  // Saved, but not indexed yet: the search is told to read both.
  auto before = store_->search_text(demo_, inbox.id, F::any, "here");
  ASSERT_TRUE(before);
  EXPECT_TRUE(before->matching.empty());
  EXPECT_EQ(before->unindexed, (std::vector<Uid>{Uid(1), Uid(2)}));
  auto first = store_->index_text(1);  // one message at least, past the byte budget
  EXPECT_EQ(first->indexed, 1u);
  EXPECT_TRUE(first->more_waiting);
  auto rest = store_->index_text(1 << 20);
  EXPECT_EQ(rest->indexed, 2u);
  EXPECT_FALSE(rest->more_waiting);
  EXPECT_EQ(store_->index_text(1 << 20)->indexed, 0u);
  auto uids = [&](F field, std::string_view needle) {
    auto r = store_->search_text(demo_, inbox.id, field, needle);
    EXPECT_TRUE(r) << needle;
    std::vector<std::uint32_t> out;
    if (r) {
      for (auto u : r->matching) out.push_back(u.value);
      EXPECT_TRUE(r->unindexed.empty());
    }
    return out;
  };
  using V = std::vector<std::uint32_t>;
  // Decoded from quoted-printable and ISO-8859-1; É folds to é; the soft line break joins.
  EXPECT_EQ(uids(F::body, "L'ÉTÉ"), V{1});
  EXPECT_EQ(uids(F::body, "chaudement"), V{1});
  EXPECT_EQ(uids(F::body, "\"dernier\""), V{1});  // quotes inside the FTS5 phrase
  EXPECT_EQ(uids(F::body, "résumé"), V{});        // the header is not the body
  EXPECT_EQ(uids(F::any, "RÉSUMÉ"), V{1});        // RFC 2047 decoded, case folded
  EXPECT_EQ(uids(F::header, "subject: plain"), V{2});
  EXPECT_EQ(uids(F::any, "here"), V{2});
  EXPECT_EQ(uids(F::any, "nowhere"), V{});
  EXPECT_EQ(uids(F::any, "AND nothing OR"), V{});  // words, not FTS5 operators
  EXPECT_EQ(store_->search_text(demo_, inbox.id, F::any, "é").error().kind, ErrorKind::invalid);
  // Several strings: the messages holding every one of them, in the field asked about.
  auto all_of = [&](F field, const std::vector<std::string_view>& needles) {
    auto r = store_->search_text_all(demo_, inbox.id, field, needles);
    std::vector<std::uint32_t> out;
    if (r) {
      for (auto u : r->matching) out.push_back(u.value);
    }
    return out;
  };
  EXPECT_EQ(all_of(F::any, {"subject", "here"}), V{2});
  EXPECT_EQ(all_of(F::any, {"subject", "chaud"}), V{1});
  EXPECT_EQ(all_of(F::header, {"subject", "chaud"}), V{});
  EXPECT_EQ(all_of(F::body, {"\"dernier\"", "L'été"}), V{1});
  EXPECT_EQ(all_of(F::any, {"here", "chaud"}), V{});
  EXPECT_EQ(store_->search_text_all(demo_, inbox.id, F::any, {"here", "é"}).error().kind,
            ErrorKind::invalid);
  EXPECT_EQ(store_->search_text_all(demo_, inbox.id, F::any, {}).error().kind, ErrorKind::invalid);
}

TEST(SqliteStoreText, MessagesOverTheTextLimitAreLeftForReadingAndRowsGoWithTheirBlob) {
  const auto dir = fs::temp_directory_path() / ("postino-fts-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  SqliteOptions o;
  o.data_dir = dir;
  o.max_indexed_text_bytes = 100;
  o.blob_grace = std::chrono::seconds(0);
  o.text_index_quiet = std::chrono::hours(1);
  {
    auto s = std::move(*open_sqlite_store(o));
    ASSERT_TRUE(s->create_domain("example.test"));
    const auto demo = *s->create_account("demo@example.test", "$y$hash", "");
    ASSERT_TRUE(s->append(demo, "INBOX", "Subject: a\r\n\r\nshort text\r\n", {}));
    ASSERT_TRUE(s->append(demo, "INBOX", "Subject: b\r\n\r\n" + std::string(200, 'x'), {}));
    // A message was saved within the quiet period: the indexer keeps off.
    auto busy = s->index_text(1 << 20);
    EXPECT_TRUE(busy->busy);
    EXPECT_EQ(busy->indexed, 0u);
  }
  o.text_index_quiet = std::chrono::milliseconds(0);
  {
    auto s = std::move(*open_sqlite_store(o));
    const auto demo = s->find_account("demo@example.test")->id;
    const auto inbox = *s->mailbox(demo, "INBOX");
    EXPECT_EQ(s->index_text(1 << 20)->indexed, 2u);
    // The one with too much text is not tried again.
    EXPECT_EQ(s->index_text(1 << 20)->indexed, 0u);
    auto r = s->search_text(demo, inbox.id, Store::TextField::any, "text");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->matching, std::vector<Uid>{Uid(1)});
    EXPECT_EQ(r->unindexed, std::vector<Uid>{Uid(2)});
    ASSERT_TRUE(s->expunge(demo, inbox.id, std::vector<Uid>{Uid(1)}, Store::ExpungeScope::listed));
  }
  auto s = std::move(*open_sqlite_store(o));  // start-up collects the unreferenced blob
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "store.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM blob_text", -1, &q, nullptr);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(q, 0), 0);
  sqlite3_finalize(q);
  sqlite3_close(db);
  s.reset();
  fs::remove_all(dir);
}

TEST(SqliteStoreText, NoIndexAtAllWhenTheLimitIsZero) {
  const auto dir = fs::temp_directory_path() / ("postino-fts0-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  SqliteOptions o;
  o.data_dir = dir;
  o.max_indexed_text_bytes = 0;
  o.text_index_quiet = std::chrono::milliseconds(0);
  auto s = std::move(*open_sqlite_store(o));
  ASSERT_TRUE(s->create_domain("example.test"));
  const auto demo = *s->create_account("demo@example.test", "$y$hash", "");
  ASSERT_TRUE(s->append(demo, "INBOX", "Subject: a\r\n\r\nshort text\r\n", {}));
  auto progress = s->index_text(1 << 20);
  EXPECT_EQ(progress->indexed, 0u);
  EXPECT_FALSE(progress->more_waiting);
  auto r = s->search_text(demo, s->mailbox(demo, "INBOX")->id, Store::TextField::any, "text");
  EXPECT_TRUE(r->matching.empty());
  EXPECT_EQ(r->unindexed, std::vector<Uid>{Uid(1)});  // searched by reading it
  s.reset();
  fs::remove_all(dir);
}

TEST(SqliteWriter, AJobSeesWhetherOthersWaitForItsCommit) {
  const auto dir = fs::temp_directory_path() / ("postino-writer-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    sqlite::Writer writer(sqlite::Database::open(dir / "w.db", true, std::chrono::seconds(5)), 64);
    std::atomic<bool> second_may_go{false};
    std::thread second([&] {
      while (!second_may_go) std::this_thread::yield();
      writer.run([](sqlite::Database& db) { db.exec("CREATE TABLE t (x)"); });
    });
    bool saw_none_first = false;
    bool saw_the_other = false;
    writer.run([&](sqlite::Database&) {
      saw_none_first = !writer.others_waiting();
      second_may_go = true;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!writer.others_waiting() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      saw_the_other = writer.others_waiting();
    });
    second.join();
    EXPECT_TRUE(saw_none_first);
    EXPECT_TRUE(saw_the_other);
    bool alone_again = false;
    writer.run([&](sqlite::Database&) { alone_again = !writer.others_waiting(); });
    EXPECT_TRUE(alone_again);
  }
  fs::remove_all(dir);
}

TEST(SqliteStoreText, TheIndexerStopsItsTransactionEarlyWhenSavesWaitForIt) {
  const auto d = open_demo_store("postino-ftsyield", std::chrono::milliseconds(0));
  auto& s = d->store;
  const auto demo = d->demo;
  const auto inbox = d->inbox;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(s->append(demo, "INBOX", "Subject: s\r\n\r\nbacklog" + std::to_string(i), {}));
  }
  // Saves one after another while the indexer works: each index transaction finds one
  // waiting (beside it in the batch or queued) after its first message and commits.
  // Four savers, so that one is nearly always queued (each spends part of its time on the
  // body's file, outside the writer).
  std::atomic<bool> stop{false};
  std::atomic<int> saved{0};
  std::vector<std::thread> savers;
  for (int t = 0; t < 4; ++t) {
    savers.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        ASSERT_TRUE(s->append(demo, "Archive",
                              "Subject: n\r\n\r\nnew" + std::to_string(t) + "." + std::to_string(i),
                              {}));
        ++saved;
      }
    });
  }
  while (saved < 8) std::this_thread::yield();
  bool stopped_early = false;
  for (int i = 0; i < 50 && !stopped_early; ++i) {
    auto r = s->index_text(1 << 20);
    ASSERT_TRUE(r);
    stopped_early = r->busy && r->indexed >= 1 && r->more_waiting;
  }
  stop = true;
  for (auto& t : savers) t.join();
  EXPECT_TRUE(stopped_early) << "a whole batch was written while saves waited";
  // Once nothing waits, the rest goes in whole batches.
  for (int i = 0; i < 1000; ++i) {
    auto r = s->index_text(1 << 20);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->busy);
    if (!r->more_waiting) break;
  }
  auto r = s->search_text(demo, inbox, Store::TextField::body, "backlog");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->matching.size(), 200u);
  EXPECT_TRUE(r->unindexed.empty());
}

TEST(TextIndexer, IndexesNewMailInTheBackgroundAndStopsPromptly) {
  const auto d = open_demo_store("postino-indexer", std::chrono::milliseconds(20));
  auto& s = d->store;
  const auto demo = d->demo;
  const auto inbox = d->inbox;
  {
    // A batch of 1 byte: one message per transaction, the backlog worked off at once.
    TextIndexer indexer(*s, 1, std::chrono::milliseconds(10));
    for (int i = 0; i < 5; ++i)
      ASSERT_TRUE(s->append(demo, "INBOX", "Subject: s\r\n\r\nword" + std::to_string(i), {}));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      auto r = s->search_text(demo, inbox, Store::TextField::body, "word");
      ASSERT_TRUE(r);
      if (r->unindexed.empty()) {
        EXPECT_EQ(r->matching.size(), 5u);
        break;
      }
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the indexer did not catch up";
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }  // the destructor returns once the thread has stopped
}

}  // namespace
}  // namespace postino::store
