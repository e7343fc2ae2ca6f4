// DetailsReader: the details of a FETCH's messages read a batch at a time and ahead.
#include "imap/commands/details_reader.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include "imap/session_fixture.hpp"
#include "store/page_cache_test_support.hpp"
#include "store/store_contract.hpp"

namespace postino::imap {
namespace {

using test_support::ImapLogin;

class DetailsReaderTest : public ImapLogin {
 protected:
  void SetUp() override {
    ImapLogin::SetUp();
    for (int i = 1; i <= 60; ++i) {
      ASSERT_TRUE(store_->deliver({demo_id()}, "Subject: m" + std::to_string(i) + "\r\n\r\nx\r\n"));
    }
    inbox_ = store_->mailbox(demo_id(), "INBOX")->id;
  }
  store::MailboxId inbox_;
};

// Many batches (8 messages each, 3 read ahead), UIDs with holes and a gap that starts a
// batch of its own, messages expunged before they were read: each message's own details,
// or none for the expunged ones.
TEST_F(DetailsReaderTest, EachMessageGetsItsOwnDetailsAcrossBatches) {
  std::vector<store::Uid> uids;
  for (std::uint32_t u = 1; u <= 60; ++u) {
    if (u % 5 != 0 && (u < 20 || u > 45)) uids.emplace_back(u);
  }
  ASSERT_TRUE(store_->expunge(demo_id(), inbox_,
                              std::vector<store::Uid>{store::Uid(3), store::Uid(51)},
                              store::Store::ExpungeScope::listed));
  DetailsReader reader(*store_, demo_id(), inbox_, uids, store::Store::DetailParts::envelope, 8,
                       true);
  for (std::size_t i = 0; i < uids.size(); ++i) {
    auto d = reader.take(i);
    const auto uid = uids[i].value;
    if (uid == 3 || uid == 51) {
      EXPECT_FALSE(d) << uid;
      continue;
    }
    ASSERT_TRUE(d) << uid;
    EXPECT_EQ(d->info.uid.value, uid);
    EXPECT_NE(d->envelope.find("\"m" + std::to_string(uid) + "\""), std::string::npos)
        << d->envelope;
  }
  EXPECT_FALSE(reader.take(uids.size()));
  EXPECT_TRUE(reader.reading_ahead());
}

// Rows in memory (the store was just written) are read batch by batch where they are
// asked for: no thread.
TEST_F(DetailsReaderTest, ReadsAheadOnlyOnceABatchCameFromTheDisk) {
  std::vector<store::Uid> uids;
  for (std::uint32_t u = 1; u <= 60; ++u) uids.emplace_back(u);
  DetailsReader reader(*store_, demo_id(), inbox_, uids, store::Store::DetailParts::all, 8);
  for (std::size_t i = 0; i < uids.size(); ++i) {
    auto d = reader.take(i);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->fields.subject, "m" + std::to_string(i + 1));
  }
  EXPECT_FALSE(reader.reading_ahead());
}

// Asking past whole batches skips them; a reader dropped with reads in flight waits for
// them (ASan and TSan would see one outliving it).
TEST_F(DetailsReaderTest, SkipsAheadAndMayBeDroppedWhileReading) {
  std::vector<store::Uid> uids;
  for (std::uint32_t u = 1; u <= 60; ++u) uids.emplace_back(u);
  {
    DetailsReader reader(*store_, demo_id(), inbox_, uids, store::Store::DetailParts::all, 4, true);
    ASSERT_TRUE(reader.take(0));
    auto far = reader.take(30);
    ASSERT_TRUE(far);
    EXPECT_EQ(far->fields.subject, "m31");
    EXPECT_FALSE(far->structure.parts.empty());  // DetailParts::all reads the structure
  }
  DetailsReader dropped(*store_, demo_id(), inbox_, uids, store::Store::DetailParts::all, 2, true);
  ASSERT_TRUE(dropped.take(0));
}

// A first batch that covers every message leaves nothing to read ahead or tell the store
// of (reading ahead from the start, the hint once looked past the last UID: ASan saw it).
TEST_F(DetailsReaderTest, AFirstBatchOfEverythingLeavesNothingToTell) {
  std::vector<store::Uid> uids;
  for (std::uint32_t u = 1; u <= 60; ++u) uids.emplace_back(u);
  DetailsReader reader(*store_, demo_id(), inbox_, uids, store::Store::DetailParts::envelope,
                       DetailsReader::batch_messages, true);
  for (std::size_t i = 0; i < uids.size(); ++i) ASSERT_TRUE(reader.take(i)) << i;
  EXPECT_FALSE(reader.take(uids.size()));
}

// Reading ahead tells the store of the messages to come (Store::read_ahead): after a
// reader that took only its first message, the ENVELOPEs of messages far past the batches
// it read are in the page cache. Without the hint they come from the disk.
TEST(DetailsReaderHint, TheStoreIsToldOfTheMessagesToCome) {
  namespace fs = std::filesystem;
  const auto dir =
      fs::temp_directory_path() / ("postino-details-hint-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto store = store::test_support::open_sqlite_inline(dir, std::chrono::seconds(3600));
  ASSERT_TRUE(store->create_domain("example.test"));
  const auto demo = store->create_account("demo@example.test", "$y$hash", "");
  ASSERT_TRUE(demo);
  constexpr std::uint32_t count = 1500;
  for (std::uint32_t i = 1; i <= count; ++i) {
    ASSERT_TRUE(store->deliver(
        {*demo}, "Subject: " + std::to_string(i) + std::string(300, 's') + "\r\n\r\nbody\r\n"));
  }
  const auto inbox = store->mailbox(*demo, "INBOX")->id;
  std::vector<store::Uid> uids;
  for (std::uint32_t u = 1; u <= count; ++u) uids.emplace_back(u);
  auto blocks_read = [] {
    rusage usage{};
    return getrusage(RUSAGE_THREAD, &usage) == 0 ? usage.ru_inblock : 0;
  };
  // The blocks this thread reads for the last 500 ENVELOPEs, after a reader (or none) took
  // the first message of a store just opened and out of the page cache.
  auto blocks_for_the_last = [&](bool reader_first) -> long {
    store.reset();  // the last connection's close copies the WAL into store.db
    store = store::test_support::open_sqlite_inline(dir, std::chrono::seconds(3600));
    EXPECT_TRUE(store->mailbox_summary(*demo, "INBOX"));
    if (!store::test_support::evict_from_page_cache(dir / "store.db")) return -1;
    if (reader_first) {
      DetailsReader reader(*store, *demo, inbox, uids, store::Store::DetailParts::envelope, 8,
                           true);
      EXPECT_TRUE(reader.take(0));
    }  // waits for what it started
    const auto before = blocks_read();
    auto details = store->messages_details(*demo, inbox, store::Uid(1001), store::Uid(count),
                                           store::Store::DetailParts::envelope);
    EXPECT_TRUE(details);
    EXPECT_EQ(details->size(), 500u);
    return blocks_read() - before;
  };
  const auto untold = blocks_for_the_last(false);
  if (untold < 0) GTEST_SKIP() << "this file system keeps the pages of its files";
  const auto told = blocks_for_the_last(true);
  EXPECT_GT(untold, 200);
  EXPECT_LT(told, untold / 10);
  store.reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace postino::imap
