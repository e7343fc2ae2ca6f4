// The scrub (RELIABILITY C05): bodies read against their hashes, the damaged ones
// quarantined while the store serves the rest; and the thread that paces it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "store/scrubber.hpp"
#include "store/store_contract.hpp"

namespace postino::store {
namespace {

namespace fs = std::filesystem;
using test_support::StoreContract;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Runs a whole pass in batches of at most `max_bytes`.
Store::ScrubProgress scrub_all(Store& store, std::uint64_t max_bytes) {
  Store::ScrubProgress all;
  for (int batches = 0; batches < 100; ++batches) {
    auto p = store.scrub(all.last, max_bytes);
    EXPECT_TRUE(p) << p.error().detail;
    if (!p) break;
    all.last = p->last;
    all.checked += p->checked;
    all.bytes += p->bytes;
    all.quarantined.insert(all.quarantined.end(), p->quarantined.begin(), p->quarantined.end());
    all.unreadable.insert(all.unreadable.end(), p->unreadable.begin(), p->unreadable.end());
    if (p->done) {
      all.done = true;
      break;
    }
  }
  return all;
}

TEST_P(StoreContract, ScrubQuarantinesDamagedBodiesAndServesTheRest) {
  ASSERT_TRUE(store_->append(demo_, "INBOX", "Subject: keep\r\n\r\nkeep me\r\n", {}));
  ASSERT_TRUE(store_->append(demo_, "INBOX", "Subject: zero\r\n\r\nzero me\r\n", {}));
  ASSERT_TRUE(store_->append(demo_, "INBOX", "Subject: lose\r\n\r\nlose me\r\n", {}));
  ASSERT_TRUE(store_->create_mailbox(demo_, "Kept"));
  const auto inbox = box("INBOX");
  // The zeroed body is also in Kept (one body, two messages) and queued for elsewhere.
  ASSERT_TRUE(store_->copy_messages(demo_, inbox.id, {Uid(2)}, "Kept", false));
  const auto zeroed = test_support::blob_id_of("Subject: zero\r\n\r\nzero me\r\n");
  const auto lost = test_support::blob_id_of("Subject: lose\r\n\r\nlose me\r\n");
  Acceptance queued;
  queued.remote = NewQueueEntry{"s@example.test", {{"far@away.test", "", 0}}, "", 2};
  queued.remote_message = "Subject: zero\r\n\r\nzero me\r\n";
  auto accepted = store_->accept(queued);
  ASSERT_TRUE(accepted) << accepted.error().detail;
  const auto modseq = box("INBOX").highest_mod_seq;

  // Nothing damaged: a whole pass, in batches of one body, quarantines nothing.
  auto clean = scrub_all(*store_, 1);
  EXPECT_TRUE(clean.done);
  EXPECT_EQ(clean.checked, 3u);
  EXPECT_TRUE(clean.quarantined.empty());

  const auto size = std::string("Subject: zero\r\n\r\nzero me\r\n").size();
  replace_body(zeroed, std::string(size, '\0'));
  remove_body(lost);
  auto found = scrub_all(*store_, 1);
  ASSERT_TRUE(found.done);
  EXPECT_EQ(found.checked, 3u);
  EXPECT_TRUE(found.unreadable.empty());
  const std::vector<std::string> expected = {
      "blob " + zeroed +
          " does not match its hash: message UID 1 in Kept of demo@example.test: expunged",
      "blob " + zeroed +
          " does not match its hash: message UID 2 in INBOX of demo@example.test: expunged",
      "blob " + zeroed + " does not match its hash: queue entry " + accepted->queue_id + ": held",
      "blob " + lost + " is missing: message UID 3 in INBOX of demo@example.test: expunged"};
  auto got = found.quarantined;
  std::sort(got.begin(), got.end());
  auto want = expected;
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);

  // Expunged as a client's EXPUNGE: MODSEQ moves on, QRESYNC clients learn of it.
  EXPECT_EQ(box("INBOX").messages, 1);
  EXPECT_EQ(box("Kept").messages, 0);
  EXPECT_EQ(*store_->expunged_since(demo_, inbox.id, modseq), (std::vector<Uid>{Uid(2), Uid(3)}));
  EXPECT_EQ(*store_->read_message(demo_, inbox.id, Uid(1)), "Subject: keep\r\n\r\nkeep me\r\n");
  EXPECT_TRUE(store_->queue_entry(accepted->queue_id)->is_held);
  // The damaged file and a note of what it was are in quarantine/; the lost one has a note.
  EXPECT_EQ(slurp(dir_ / "quarantine" / zeroed), std::string(size, '\0'));
  const auto note = slurp(dir_ / "quarantine" / (zeroed + ".txt"));
  EXPECT_NE(note.find("blob " + zeroed + " does not match its hash"), std::string::npos) << note;
  EXPECT_NE(note.find("message UID 2 in INBOX of demo@example.test: expunged"), std::string::npos);
  EXPECT_NE(note.find("queue entry " + accepted->queue_id + ": held"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "quarantine" / lost));
  EXPECT_TRUE(fs::exists(dir_ / "quarantine" / (lost + ".txt")));

  // The next pass finds nothing new; the held entry is fsck's to name until removed.
  EXPECT_TRUE(scrub_all(*store_, 1 << 20).quarantined.empty());
  ASSERT_TRUE(store_->change_queue(accepted->queue_id, QueueAction::remove));
  auto report = store_->fsck(false);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
}

TEST_P(StoreContract, ScrubLeavesABodyMendedByANewSaveOfTheSameContent) {
  ASSERT_TRUE(store_->append(demo_, "INBOX", "Subject: twice\r\n\r\nsame\r\n", {}));
  const auto id = test_support::blob_id_of("Subject: twice\r\n\r\nsame\r\n");
  remove_body(id);
  // Saved again: the body is written anew under the same name.
  ASSERT_TRUE(store_->append(demo_, "INBOX", "Subject: twice\r\n\r\nsame\r\n", {}));
  auto pass = scrub_all(*store_, 1 << 20);
  EXPECT_TRUE(pass.quarantined.empty());
  EXPECT_EQ(box("INBOX").messages, 2);
}

TEST_P(StoreContract, ScrubLeavesABodyWhoseDamagedBytesANewSaveWroteAgain) {
  const std::string message = "Subject: twice\r\n\r\ndamaged, then saved again\r\n";
  ASSERT_TRUE(store_->append(demo_, "INBOX", message, {}));
  replace_body(test_support::blob_id_of(message), std::string(message.size(), '\0'));
  // Saved again: the bytes are written anew (a row replaced, a file renamed over).
  ASSERT_TRUE(store_->append(demo_, "INBOX", message, {}));
  auto pass = scrub_all(*store_, 1 << 20);
  EXPECT_TRUE(pass.quarantined.empty());
  const auto inbox = box("INBOX");
  EXPECT_EQ(inbox.messages, 2);
  auto first = store_->read_message(demo_, inbox.id, Uid(1));
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, message);
}

TEST_P(StoreContract, TheScrubberRunsAPassAtStartAndStopsPromptly) {
  ASSERT_TRUE(store_->append(demo_, "INBOX", "Subject: a\r\n\r\na\r\n", {}));
  ASSERT_TRUE(store_->append(demo_, "INBOX", "Subject: b\r\n\r\nb\r\n", {}));
  const auto id = test_support::blob_id_of("Subject: b\r\n\r\nb\r\n");
  remove_body(id);
  {
    Scrubber off(*store_, 0, std::chrono::seconds(60),
                 std::chrono::seconds(0));  // 0: no scrub at all
  }
  EXPECT_EQ(box("INBOX").messages, 2);
  const auto began = std::chrono::steady_clock::now();
  {
    // Slow enough (a few bytes a second) that the pass is cut short by the stop after
    // its first body unless the first body is the damaged one.
    Scrubber slow(*store_, 4, std::chrono::seconds(3600), std::chrono::seconds(0));
    for (int i = 0; i < 50 && box("INBOX").messages != 1; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(3));
  {
    Scrubber fast(*store_, 1 << 30, std::chrono::seconds(3600), std::chrono::seconds(0));
    for (int i = 0; i < 200 && box("INBOX").messages != 1; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  EXPECT_EQ(box("INBOX").messages, 1);
  EXPECT_TRUE(fs::exists(dir_ / "quarantine" / (id + ".txt")));
}

// The first pass waits its delay after start-up, and a stop during it is prompt.
TEST_P(StoreContract, TheScrubberWaitsItsStartDelay) {
  ASSERT_TRUE(store_->append(demo_, "INBOX", "Subject: a\r\n\r\na\r\n", {}));
  remove_body(test_support::blob_id_of("Subject: a\r\n\r\na\r\n"));
  const auto began = std::chrono::steady_clock::now();
  {
    Scrubber late(*store_, 1 << 30, std::chrono::seconds(3600), std::chrono::seconds(3600));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(box("INBOX").messages, 1);  // not scrubbed yet
  }
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(3));
  Scrubber soon(*store_, 1 << 30, std::chrono::seconds(3600), std::chrono::seconds(1));
  for (int i = 0; i < 150 && box("INBOX").messages != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(box("INBOX").messages, 0);  // found once the delay is over
}

TEST_P(StoreContract, TheScrubberPassesAgainAfterItsInterval) {
  ASSERT_TRUE(store_->append(demo_, "INBOX", "Subject: a\r\n\r\na\r\n", {}));
  const auto id = test_support::blob_id_of("Subject: a\r\n\r\na\r\n");
  Scrubber scrubber(*store_, 1 << 30, std::chrono::seconds(1), std::chrono::seconds(0));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the first pass: all well
  EXPECT_EQ(box("INBOX").messages, 1);
  remove_body(id);  // damaged after the first pass
  for (int i = 0; i < 150 && box("INBOX").messages != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(box("INBOX").messages, 0);  // found by the next pass, a second later
}

}  // namespace
}  // namespace postino::store
