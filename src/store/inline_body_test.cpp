// Small bodies kept in the database (store.inline_body_bytes, schema 6): where they go,
// how they are read, damaged, found and collected, and what a change of the limit does.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "store/store_contract.hpp"

namespace postino::store {
namespace {

namespace fs = std::filesystem;
using test_support::StoreContract;

std::string read_all(BlobReader& reader) {
  std::string out;
  char buf[7];  // small pieces: the reader's position must carry over
  for (;;) {
    auto got = reader.read(buf, sizeof buf);
    EXPECT_TRUE(got);
    if (!got || *got == 0) return out;
    out.append(buf, *got);
  }
}

TEST_P(StoreContract, FsckFindsABodyWhoseBytesChanged) {
  ASSERT_TRUE(store_->append(demo_, "INBOX", "keep me", {}));
  ASSERT_TRUE(store_->append(demo_, "INBOX", "change me", {}));
  const auto id = test_support::blob_id_of("change me");
  replace_body(id, "chAnge me");
  auto report = store_->fsck(false);
  ASSERT_TRUE(report);
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_EQ(report->problems[0], "blob " + id + " does not match its hash");
  ASSERT_TRUE(store_->fsck(true));
  EXPECT_TRUE(store_->fsck(false)->problems.empty());
  const auto inbox = box("INBOX");
  EXPECT_EQ(inbox.messages, 1);
  EXPECT_EQ(*store_->read_message(demo_, inbox.id, Uid(1)), "keep me");
}

TEST_P(StoreContract, SmallBodiesLiveInTheDatabaseAndLargeOnesInFiles) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "opens its own stores; once is enough";
  store_.reset();
  store_ = test_support::open_sqlite_with(dir_, std::chrono::seconds(3600), 1024);
  const std::string small = "Subject: small\r\n\r\n" + std::string(100, 's') + "\r\n";
  const std::string large = "Subject: large\r\n\r\n" + std::string(5000, 'l') + "\r\n";
  ASSERT_TRUE(store_->append(demo_, "INBOX", small, {}));
  ASSERT_TRUE(store_->deliver({demo_}, large));
  EXPECT_EQ(test_support::files_under(dir_ / "blobs"), 1u);  // the large one only
  EXPECT_EQ(stored_bodies(), 2u);
  const auto inbox = box("INBOX");
  EXPECT_EQ(*store_->read_message(demo_, inbox.id, Uid(1)), small);
  EXPECT_EQ(*store_->read_message(demo_, inbox.id, Uid(2)), large);
  auto reader = store_->open_message(demo_, inbox.id, Uid(1));
  ASSERT_TRUE(reader) << reader.error().detail;
  EXPECT_EQ(read_all(**reader), small);
  char piece[5];
  EXPECT_EQ(*(*reader)->read_at(9, piece, sizeof piece), 5u);
  EXPECT_EQ(std::string(piece, 5), "small");
  EXPECT_EQ(*(*reader)->read_at(small.size() - 2, piece, sizeof piece), 2u);
  EXPECT_EQ(*(*reader)->read_at(small.size() + 10, piece, sizeof piece), 0u);
  auto both = store_->read_messages(demo_, inbox.id, {Uid(2), Uid(1)});
  ASSERT_TRUE(both);
  ASSERT_EQ(both->size(), 2u);
  EXPECT_EQ((*both)[1].second, small);

  // Queued for elsewhere: sent from the database too.
  Acceptance queued;
  queued.remote = NewQueueEntry{"s@example.test", {{"far@away.test", "", 0}}, "", 2};
  queued.remote_message = "Subject: away\r\n\r\nqueued\r\n";
  auto accepted = store_->accept(queued);
  ASSERT_TRUE(accepted) << accepted.error().detail;
  auto sent = store_->open_queued(accepted->queue_id);
  ASSERT_TRUE(sent) << sent.error().detail;
  EXPECT_EQ(read_all(**sent), queued.remote_message);
  ASSERT_TRUE(store_->change_queue(accepted->queue_id, QueueAction::remove));

  // The limit lowered to 0 (every body a file): what is in the database is still served,
  // and the same content saved again gets a file as well, a spare copy fsck accepts.
  store_.reset();
  store_ = test_support::open_sqlite_with(dir_, std::chrono::seconds(3600), 0);
  EXPECT_EQ(*store_->read_message(demo_, inbox.id, Uid(1)), small);
  ASSERT_TRUE(store_->append(demo_, "Archive", small, {}));
  EXPECT_EQ(test_support::files_under(dir_ / "blobs"), 2u);
  EXPECT_EQ(stored_bodies(), 3u);  // small, large, queued (not yet collected)
  auto report = store_->fsck(false);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();

  // Nothing refers to them any more: collected, rows and files alike.
  const std::vector<Uid> all{Uid(1), Uid(2)};
  ASSERT_TRUE(store_->expunge(demo_, inbox.id, all, Store::ExpungeScope::listed));
  ASSERT_TRUE(store_->expunge(demo_, box("Archive").id, all, Store::ExpungeScope::listed));
  reopen(std::chrono::seconds(0));
  EXPECT_EQ(stored_bodies(), 0u);
  EXPECT_EQ(test_support::files_under(dir_ / "blobs"), 0u);
}

}  // namespace
}  // namespace postino::store
