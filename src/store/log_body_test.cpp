// Bodies in the body log (store.log_body_bytes, schema 9): where they go, how they are
// read, and how their segments are removed and compacted at start-up and while the store
// stays open. The contract tests run against a log-backed store too (sqlite_log: damage,
// fsck, the scrub, the queue).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/store_contract.hpp"
#include "store/tidier.hpp"

namespace postino::store {
namespace {

namespace fs = std::filesystem;
using test_support::StoreContract;

std::string message(char fill, std::size_t bytes) {
  return "Subject: " + std::string(1, fill) + "\r\n\r\n" + std::string(bytes, fill) + "\r\n";
}

std::uint64_t segment_bytes(const fs::path& dir) {
  std::uint64_t n = 0;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(dir / "segments", ec)) n += e.file_size();
  return n;
}

TEST_P(StoreContract, BodiesBetweenTheLimitsGoToTheLogWrittenOnce) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "opens its own stores; once is enough";
  store_.reset();
  store_ = test_support::open_sqlite_with(dir_, std::chrono::seconds(3600), 100, 10000);
  const auto small = message('s', 50), middle = message('m', 5000), large = message('l', 20000);
  ASSERT_TRUE(store_->append(demo_, "INBOX", small, {}));
  ASSERT_TRUE(store_->deliver({demo_}, middle));
  ASSERT_TRUE(store_->deliver({demo_}, large));
  EXPECT_EQ(test_support::files_under(dir_ / "blobs"), 1u);  // the large one
  EXPECT_EQ(segment_bytes(dir_), middle.size());             // the middle one, once
  ASSERT_TRUE(body_place(test_support::blob_id_of(middle)));
  EXPECT_FALSE(body_place(test_support::blob_id_of(small)));
  const auto inbox = box("INBOX");
  EXPECT_EQ(*store_->read_message(demo_, inbox.id, Uid(2)), middle);
  auto reader = store_->open_message(demo_, inbox.id, Uid(2));
  ASSERT_TRUE(reader) << reader.error().detail;
  char piece[4];
  EXPECT_EQ(*(*reader)->read_at(9, piece, sizeof piece), 4u);
  EXPECT_EQ(std::string(piece, 4), "m\r\n\r");
  auto all = store_->read_messages(demo_, inbox.id, {Uid(1), Uid(2), Uid(3)});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[1].second, middle);

  // The same content again (another recipient, another day): one copy is kept.
  auto again = store_->append(demo_, "Archive", middle, {});
  ASSERT_TRUE(again) << again.error().detail;
  EXPECT_EQ(stored_bodies(), 3u);

  // Queued for elsewhere: sent from the log.
  Acceptance queued;
  queued.remote = NewQueueEntry{"s@example.test", {{"far@away.test", "", 0}}, "", 2};
  queued.remote_message = message('q', 3000);
  auto accepted = store_->accept(queued);
  ASSERT_TRUE(accepted) << accepted.error().detail;
  auto sent = store_->open_queued(accepted->queue_id);
  ASSERT_TRUE(sent) << sent.error().detail;
  std::string got(queued.remote_message.size() + 10, '\0');
  EXPECT_EQ(*(*sent)->read_at(0, got.data(), got.size()), queued.remote_message.size());
  EXPECT_EQ(got.substr(0, queued.remote_message.size()), queued.remote_message);

  // A restart: read from the segment the last process wrote; fsck finds nothing wrong.
  store_.reset();
  store_ = test_support::open_sqlite_with(dir_, std::chrono::seconds(3600), 100, 10000);
  EXPECT_EQ(*store_->read_message(demo_, inbox.id, Uid(2)), middle);
  auto report = store_->fsck(false);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
}

// Segment 1 with four messages (a to d), of which only c is kept; segment 2 with two
// (e, f), both expunged. `open` reopens the store with a grace period (each segment is
// begun by a process, here a store, of its own).
void fill_two_segments(std::unique_ptr<Store>& store, AccountId demo,
                       const std::function<void(std::chrono::seconds)>& open) {
  open(std::chrono::seconds(3600));
  for (char c : {'a', 'b', 'c', 'd'}) ASSERT_TRUE(store->deliver({demo}, message(c, 2000)));
  open(std::chrono::seconds(3600));
  for (char c : {'e', 'f'}) ASSERT_TRUE(store->deliver({demo}, message(c, 2000)));
  auto inbox = store->mailbox(demo, "INBOX");
  ASSERT_TRUE(inbox);
  const std::vector<Uid> gone{Uid(1), Uid(2), Uid(4), Uid(5), Uid(6)};
  ASSERT_TRUE(store->expunge(demo, inbox->id, gone, Store::ExpungeScope::listed));
}

TEST_P(StoreContract, ASegmentGoesOnceNothingInItIsLeftAndAMostlyEmptyOneIsCompacted) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "opens its own stores; once is enough";
  const auto open = [&](std::chrono::seconds grace) {
    store_.reset();
    store_ = test_support::open_sqlite_with(dir_, grace, 0, 1 << 20);
  };
  ASSERT_NO_FATAL_FAILURE(fill_two_segments(store_, demo_, open));
  const auto inbox = box("INBOX");
  EXPECT_TRUE(fs::exists(dir_ / "segments" / segment_file(1)));
  EXPECT_TRUE(fs::exists(dir_ / "segments" / segment_file(2)));

  // Within the grace period nothing is touched.
  open(std::chrono::seconds(3600));
  EXPECT_TRUE(fs::exists(dir_ / "segments" / segment_file(1)));
  EXPECT_TRUE(fs::exists(dir_ / "segments" / segment_file(2)));

  // After it: segment 2 held nothing still referenced and is removed; segment 1's one
  // message in four is copied to the end of the log and the segment removed.
  open(std::chrono::seconds(0));
  EXPECT_FALSE(fs::exists(dir_ / "segments" / segment_file(1)));
  EXPECT_FALSE(fs::exists(dir_ / "segments" / segment_file(2)));
  const auto kept = message('c', 2000);
  EXPECT_EQ(segment_bytes(dir_), kept.size());
  auto place = body_place(test_support::blob_id_of(kept));
  ASSERT_TRUE(place);
  EXPECT_GT(place->segment, 2);
  EXPECT_EQ(*store_->read_message(demo_, inbox.id, Uid(3)), kept);
  auto report = store_->fsck(false);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();

  // Two thirds still referenced is not "mostly empty": left as it is.
  for (char c : {'g', 'h'}) ASSERT_TRUE(store_->deliver({demo_}, message(c, 2000)));
  ASSERT_TRUE(
      store_->expunge(demo_, inbox.id, std::vector<Uid>{Uid(7)}, Store::ExpungeScope::listed));
  const auto segment = body_place(test_support::blob_id_of(message('h', 2000)))->segment;
  open(std::chrono::seconds(0));
  EXPECT_TRUE(fs::exists(dir_ / "segments" / segment_file(segment)));
  EXPECT_EQ(body_place(test_support::blob_id_of(message('h', 2000)))->segment, segment);
}

// store.log_compact_percent = 0: no segment is ever compacted, however little of it is
// still referenced; one nothing refers to is still removed.
TEST_P(StoreContract, WithCompactionOffAMostlyEmptySegmentStaysAndAnEmptyOneStillGoes) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "opens its own stores; once is enough";
  const auto open = [&](std::chrono::seconds grace) {
    store_.reset();
    store_ = test_support::open_sqlite_with(dir_, grace, 0, 1 << 20, 64 << 20, 0);
  };
  ASSERT_NO_FATAL_FAILURE(fill_two_segments(store_, demo_, open));
  const auto inbox = box("INBOX");

  open(std::chrono::seconds(0));
  EXPECT_TRUE(fs::exists(dir_ / "segments" / segment_file(1)));   // a quarter referenced
  EXPECT_FALSE(fs::exists(dir_ / "segments" / segment_file(2)));  // nothing referenced
  const auto kept = message('c', 2000);
  ASSERT_TRUE(body_place(test_support::blob_id_of(kept)));
  EXPECT_EQ(body_place(test_support::blob_id_of(kept))->segment, 1);
  EXPECT_EQ(*store_->read_message(demo_, inbox.id, Uid(3)), kept);
}

// Every body in the log, segments of 8,000 bytes (four of message()'s 2,016-byte bodies
// fill one), no grace period: what the tidying tests open.
SqliteOptions small_segments(const fs::path& dir) {
  return test_support::sqlite_options(dir, std::chrono::seconds(0), 0, 1 << 20, 8000);
}

// A store that stays open (a server never restarted), small_segments(): a to d fill
// segment 1, e to h segment 2, i begins segment 3, the one still appended to.
void fill_three_segments(Store& store, AccountId demo) {
  for (char c : {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'}) {
    ASSERT_TRUE(store.deliver({demo}, message(c, 2000)));
  }
}

// A store of small_segments() with fill_three_segments(), segment 2's messages expunged
// (nothing refers to it any more; 9 bodies stored until a tidying, 5 after).
void empty_segment_two(std::unique_ptr<Store>& store, const fs::path& dir, AccountId demo) {
  store.reset();
  store = test_support::open_sqlite_with(small_segments(dir));
  ASSERT_NO_FATAL_FAILURE(fill_three_segments(*store, demo));
  const std::vector<Uid> gone{Uid(5), Uid(6), Uid(7), Uid(8)};
  ASSERT_TRUE(
      store->expunge(demo, store->mailbox(demo, "INBOX")->id, gone, Store::ExpungeScope::listed));
}

TEST_P(StoreContract, TidyingGivesTheSpaceOfDeletedMailBackWhileTheStoreStaysOpen) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "opens its own stores; once is enough";
  store_.reset();
  store_ = test_support::open_sqlite_with(small_segments(dir_));
  ASSERT_NO_FATAL_FAILURE(fill_three_segments(*store_, demo_));
  const auto inbox = box("INBOX");
  ASSERT_EQ(body_place(test_support::blob_id_of(message('e', 2000)))->segment, 2);
  ASSERT_EQ(body_place(test_support::blob_id_of(message('i', 2000)))->segment, 3);
  // Segment 1 keeps c (a quarter of it), segment 2 nothing.
  const std::vector<Uid> gone{Uid(1), Uid(2), Uid(4), Uid(5), Uid(6), Uid(7), Uid(8)};
  ASSERT_TRUE(store_->expunge(demo_, inbox.id, gone, Store::ExpungeScope::listed));
  EXPECT_EQ(stored_bodies(), 9u);

  // Told to stop at once: nothing is done. Told to stop after the first batch of bodies:
  // the unreferenced bodies go (one batch), the segments stay.
  auto lines = store_->tidy([](std::uint64_t) { return false; });
  ASSERT_TRUE(lines) << lines.error().detail;
  EXPECT_TRUE(lines->empty()) << lines->front();
  EXPECT_EQ(stored_bodies(), 9u);
  int asked = 0;
  lines = store_->tidy([&](std::uint64_t) { return asked++ == 0; });
  ASSERT_TRUE(lines) << lines.error().detail;
  EXPECT_EQ(*lines, (std::vector<std::string>{"collected 7 unreferenced blobs"}));
  EXPECT_EQ(stored_bodies(), 2u);
  EXPECT_TRUE(fs::exists(dir_ / "segments" / segment_file(1)));
  EXPECT_TRUE(fs::exists(dir_ / "segments" / segment_file(2)));

  lines = store_->tidy([](std::uint64_t) { return true; });
  ASSERT_TRUE(lines) << lines.error().detail;
  EXPECT_EQ(*lines, (std::vector<std::string>{"removed 1 body segments nothing refers to",
                                              "compacted 1 body segments (1 messages moved)"}));
  EXPECT_FALSE(fs::exists(dir_ / "segments" / segment_file(1)));
  EXPECT_FALSE(fs::exists(dir_ / "segments" / segment_file(2)));
  EXPECT_TRUE(fs::exists(dir_ / "segments" / segment_file(3)));  // still appended to
  const auto kept = message('c', 2000);
  EXPECT_EQ(body_place(test_support::blob_id_of(kept))->segment, 3);
  EXPECT_EQ(segment_bytes(dir_), 2 * kept.size());
  EXPECT_EQ(*store_->read_message(demo_, inbox.id, Uid(3)), kept);
  EXPECT_EQ(*store_->read_message(demo_, inbox.id, Uid(9)), message('i', 2000));
  auto report = store_->fsck(false);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();

  // Nothing left to do: nothing done.
  lines = store_->tidy([](std::uint64_t) { return true; });
  ASSERT_TRUE(lines);
  EXPECT_TRUE(lines->empty()) << lines->front();
}

// An opening that is not to tidy (a command's) leaves an emptied segment and the bodies
// nothing refers to; the server's opening removes them.
TEST_P(StoreContract, OnlyAnOpeningAskedToTidyTidies) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "opens its own stores; once is enough";
  ASSERT_NO_FATAL_FAILURE(empty_segment_two(store_, dir_, demo_));
  store_.reset();
  auto command = small_segments(dir_);
  command.tidy_at_open = false;
  store_ = test_support::open_sqlite_with(command);
  EXPECT_TRUE(fs::exists(dir_ / "segments" / segment_file(2)));
  EXPECT_EQ(stored_bodies(), 9u);
  store_.reset();
  store_ = test_support::open_sqlite_with(small_segments(dir_));
  EXPECT_FALSE(fs::exists(dir_ / "segments" / segment_file(2)));
  EXPECT_EQ(stored_bodies(), 5u);
}

TEST_P(StoreContract, TheTidierTidiesEveryIntervalAndStopsPromptly) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "opens its own stores; once is enough";
  ASSERT_NO_FATAL_FAILURE(empty_segment_two(store_, dir_, demo_));
  {
    const Tidier off(*store_, std::chrono::seconds(0), 0);  // no thread
    auto later = std::make_unique<Tidier>(*store_, std::chrono::seconds(3600), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_TRUE(fs::exists(dir_ / "segments" / segment_file(2)))
        << "the first tidying comes an interval after the start";
    EXPECT_EQ(stored_bodies(), 9u);
    const auto began = std::chrono::steady_clock::now();
    later.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(1))
        << "a stop does not wait for the interval";
  }
  {
    const Tidier soon(*store_, std::chrono::seconds(1), 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (fs::exists(dir_ / "segments" / segment_file(2)) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_FALSE(fs::exists(dir_ / "segments" / segment_file(2)));
    EXPECT_EQ(stored_bodies(), 5u);
  }
}

// Segments of ten of message()'s 2,016-byte bodies (a to j fill segment 1, k begins
// segment 2), compactions copying `batch_bytes` at most a batch; all but c, f and i of
// segment 1 expunged (three tenths of it left: compacted).
SqliteOptions ten_a_segment(const fs::path& dir, std::uint64_t batch_bytes) {
  auto o = test_support::sqlite_options(dir, std::chrono::seconds(0), 0, 1 << 20, 20000);
  o.compaction_batch_bytes = batch_bytes;
  return o;
}

void fill_and_thin_segment_one(Store& store, AccountId demo, MailboxId inbox) {
  for (char c = 'a'; c <= 'k'; ++c) ASSERT_TRUE(store.deliver({demo}, message(c, 2000)));
  const std::vector<Uid> gone{Uid(1), Uid(2), Uid(4), Uid(5), Uid(7), Uid(8), Uid(10)};
  ASSERT_TRUE(store.expunge(demo, inbox, gone, Store::ExpungeScope::listed));
}

TEST_P(StoreContract, ACompactionCopiesInBatchesAndCanStopBetweenThem) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "opens its own stores; once is enough";
  store_.reset();
  store_ = test_support::open_sqlite_with(ten_a_segment(dir_, 4100));  // two bodies a batch
  const auto inbox = box("INBOX");
  ASSERT_NO_FATAL_FAILURE(fill_and_thin_segment_one(*store_, demo_, inbox.id));
  const auto c = message('c', 2000), f = message('f', 2000), i = message('i', 2000);
  ASSERT_EQ(body_place(test_support::blob_id_of(c))->segment, 1);
  ASSERT_EQ(body_place(test_support::blob_id_of(message('k', 2000)))->segment, 2);

  // Stopped after the first batch: c and f moved, i left, and segment 1 with it.
  std::vector<std::uint64_t> told;
  bool stop = false;
  auto lines = store_->tidy([&](std::uint64_t copied) {
    told.push_back(copied);
    stop = stop || copied > 0;
    return !stop;
  });
  ASSERT_TRUE(lines) << lines.error().detail;
  EXPECT_EQ(told, (std::vector<std::uint64_t>{0, 0, 2 * c.size(), 0}));
  EXPECT_EQ(*lines, (std::vector<std::string>{"collected 7 unreferenced blobs",
                                              "compacted 0 body segments (2 messages moved)"}));
  EXPECT_EQ(body_place(test_support::blob_id_of(c))->segment, 2);
  EXPECT_EQ(body_place(test_support::blob_id_of(f))->segment, 2);
  EXPECT_EQ(body_place(test_support::blob_id_of(i))->segment, 1);
  EXPECT_TRUE(fs::exists(dir_ / "segments" / segment_file(1)));
  EXPECT_EQ(*store_->read_message(demo_, inbox.id, Uid(3)), c);
  EXPECT_EQ(*store_->read_message(demo_, inbox.id, Uid(9)), i);
  auto report = store_->fsck(false);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();

  // The next tidying finishes it.
  told.clear();
  lines = store_->tidy([&](std::uint64_t copied) {
    told.push_back(copied);
    return true;
  });
  ASSERT_TRUE(lines) << lines.error().detail;
  EXPECT_EQ(told, (std::vector<std::uint64_t>{0, i.size(), 0}));
  EXPECT_EQ(*lines, (std::vector<std::string>{"compacted 1 body segments (1 messages moved)"}));
  EXPECT_FALSE(fs::exists(dir_ / "segments" / segment_file(1)));
  for (const auto& [uid, body] : {std::pair{Uid(3), c}, {Uid(6), f}, {Uid(9), i}}) {
    EXPECT_EQ(*store_->read_message(demo_, inbox.id, uid), body) << uid.value;
  }
  report = store_->fsck(false);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
}

// The server's tidying copies at store.tidy_bytes_per_second at most, and a stop in one of
// its pauses does not wait for the pause.
TEST_P(StoreContract, TheTidierHoldsACompactionToItsRate) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "opens its own stores; once is enough";
  store_.reset();
  store_ = test_support::open_sqlite_with(ten_a_segment(dir_, 2100));  // a body a batch
  const auto inbox = box("INBOX");
  ASSERT_NO_FATAL_FAILURE(fill_and_thin_segment_one(*store_, demo_, inbox.id));
  const auto c = message('c', 2000), i = message('i', 2000);
  const auto segment_one = dir_ / "segments" / segment_file(1);
  const auto wait_for = [](const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
  };
  {
    // Two bodies' bytes a second: after each of the three batches, half a second.
    const auto began = std::chrono::steady_clock::now();
    const Tidier paced(*store_, std::chrono::seconds(1), 2 * c.size());
    ASSERT_TRUE(wait_for([&] { return !fs::exists(segment_one); }));
    const auto took = std::chrono::steady_clock::now() - began;
    EXPECT_GE(took, std::chrono::milliseconds(2400)) << "an interval, then three pauses";
  }
  EXPECT_EQ(*store_->read_message(demo_, inbox.id, Uid(9)), i);

  // Again with a pause of an hour after the first batch: the stop comes at once.
  store_.reset();
  fs::remove_all(dir_);
  store_ = test_support::open_sqlite_with(ten_a_segment(dir_, 2100));
  ASSERT_TRUE(store_->create_domain("example.test"));
  auto account = store_->create_account("demo@example.test", "$y$hash", "");
  ASSERT_TRUE(account) << account.error().detail;
  demo_ = *account;
  ASSERT_NO_FATAL_FAILURE(fill_and_thin_segment_one(*store_, demo_, box("INBOX").id));
  auto slow = std::make_unique<Tidier>(*store_, std::chrono::seconds(1), 1);
  ASSERT_TRUE(wait_for([&] { return body_place(test_support::blob_id_of(c))->segment == 2; }));
  const auto stopping = std::chrono::steady_clock::now();
  slow.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, std::chrono::seconds(1));
  EXPECT_TRUE(fs::exists(segment_one));
  EXPECT_EQ(body_place(test_support::blob_id_of(i))->segment, 1);
  EXPECT_EQ(*store_->read_message(demo_, box("INBOX").id, Uid(9)), i);
}

// Sessions keep reading while a tidying moves the bodies they read and removes their
// segments: every read gets its bytes. (The moment when a place just looked up goes stale
// is too short to be hit here; AReadWhoseBodyWasMovedMeanwhileFindsItWhereItWent makes it.)
TEST_P(StoreContract, ReadsGoOnWhileTidyingMovesTheirBodies) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "opens its own stores; once is enough";
  store_.reset();
  store_ = test_support::open_sqlite_with(small_segments(dir_));
  const auto inbox = box("INBOX");
  std::uint32_t next_uid = 1;
  std::vector<std::pair<Uid, std::string>> all_kept;
  for (int round = 0; round < 10; ++round) {
    // About two segments' worth, a quarter kept (compactions append to the segment in use,
    // so where segments begin moves from round to round).
    std::vector<std::pair<Uid, std::string>> kept;
    std::vector<Uid> gone;
    for (int i = 0; i < 8; ++i) {
      const auto body = message(static_cast<char>('a' + round), 1990 + round * 8 + i);
      ASSERT_TRUE(store_->deliver({demo_}, body));
      const Uid uid(next_uid++);
      if (i % 4 == 2) {
        kept.emplace_back(uid, body);
      } else {
        gone.push_back(uid);
      }
    }
    ASSERT_TRUE(store_->expunge(demo_, inbox.id, gone, Store::ExpungeScope::listed));
    std::atomic<bool> done{false};
    std::atomic<int> reads{0}, wrong{0};
    std::thread reader([&] {
      while (!done) {
        for (const auto& [uid, body] : kept) {
          auto got = store_->read_message(demo_, inbox.id, uid);
          if (!got || *got != body) ++wrong;
          bool whole = false;
          if (auto opened = store_->open_message(demo_, inbox.id, uid)) {
            std::string piece(body.size(), '\0');
            auto n = (*opened)->read_at(0, piece.data(), piece.size());
            whole = n && *n == body.size() && piece == body;
          }
          if (!whole) ++wrong;
          ++reads;
        }
      }
    });
    auto lines = store_->tidy([](std::uint64_t) { return true; });
    done = true;
    reader.join();
    ASSERT_TRUE(lines) << lines.error().detail;
    EXPECT_EQ(wrong, 0) << "of " << reads << " reads, round " << round;
    ASSERT_FALSE(lines->empty());
    EXPECT_EQ(lines->back().rfind("compacted ", 0), 0u) << lines->back();  // bodies moved
    all_kept.insert(all_kept.end(), kept.begin(), kept.end());
  }
  for (const auto& [uid, body] : all_kept) {
    EXPECT_EQ(*store_->read_message(demo_, inbox.id, uid), body) << uid.value;
  }
  auto report = store_->fsck(false);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
}

// A read whose body a compaction moves between the look-up of its place and the read of
// its bytes (its segment gone by then) looks the place up again and reads it there.
TEST_P(StoreContract, AReadWhoseBodyWasMovedMeanwhileFindsItWhereItWent) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "opens its own stores; once is enough";
  bool armed = false;
  auto options = small_segments(dir_);
  options.before_log_read = [&] {
    if (!armed) return;
    armed = false;
    auto lines = store_->tidy([](std::uint64_t) { return true; });
    ASSERT_TRUE(lines) << lines.error().detail;
    ASSERT_FALSE(lines->empty());
  };
  store_.reset();
  store_ = test_support::open_sqlite_with(options);
  ASSERT_NO_FATAL_FAILURE(fill_three_segments(*store_, demo_));
  const auto inbox = box("INBOX");
  const std::vector<Uid> gone{Uid(1), Uid(2), Uid(4), Uid(5), Uid(6), Uid(8)};
  ASSERT_TRUE(store_->expunge(demo_, inbox.id, gone, Store::ExpungeScope::listed));

  // Read whole: c's place (segment 1) is looked up, then c and g are moved to segment 3.
  const auto c = message('c', 2000), g = message('g', 2000);
  armed = true;
  auto got = store_->read_message(demo_, inbox.id, Uid(3));
  ASSERT_TRUE(got) << got.error().detail;
  EXPECT_EQ(*got, c);
  EXPECT_FALSE(armed);
  EXPECT_FALSE(fs::exists(dir_ / "segments" / segment_file(1)));
  ASSERT_EQ(body_place(test_support::blob_id_of(g))->segment, 3);

  // Read in pieces: segment 3 (i, c, g) closed by j, then only g kept in it.
  ASSERT_TRUE(store_->deliver({demo_}, message('j', 2000)));
  ASSERT_TRUE(store_->deliver({demo_}, message('k', 2000)));
  ASSERT_TRUE(store_->expunge(demo_, inbox.id, std::vector<Uid>{Uid(3), Uid(9), Uid(10)},
                              Store::ExpungeScope::listed));
  armed = true;
  auto opened = store_->open_message(demo_, inbox.id, Uid(7));
  ASSERT_TRUE(opened) << opened.error().detail;
  EXPECT_FALSE(armed);
  EXPECT_FALSE(fs::exists(dir_ / "segments" / segment_file(3)));
  std::string piece(g.size(), '\0');
  EXPECT_EQ(*(*opened)->read_at(0, piece.data(), piece.size()), g.size());
  EXPECT_EQ(piece, g);
}

TEST_P(StoreContract, FsckFindsASegmentNothingRefersToAndASegmentCountGoneWrong) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "opens its own stores; once is enough";
  store_.reset();
  store_ = test_support::open_sqlite_with(dir_, std::chrono::seconds(0), 0, 1 << 20);
  ASSERT_TRUE(store_->deliver({demo_}, message('a', 3000)));
  store_.reset();
  // A segment a crashed save left (its commit never happened), and a count off.
  std::ofstream(dir_ / "segments" / segment_file(9), std::ios::binary) << "torn";
  test_support::sql_behind_the_back(dir_, "UPDATE body_segments SET live_bytes = 7 WHERE ?1", "1");
  store_ = test_support::open_sqlite_with(dir_, std::chrono::seconds(3600), 0, 1 << 20);
  auto report = store_->fsck(false);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->problems,
            (std::vector<std::string>{"body segment 1: its count of referenced bytes is wrong"}))
      << "segment 9 is younger than the grace period";
  ASSERT_TRUE(store_->fsck(true));
  EXPECT_TRUE(store_->fsck(false)->problems.empty());
  EXPECT_TRUE(fs::exists(dir_ / "segments" / segment_file(9)));

  // Past the grace period, start-up removes it; fsck does too.
  store_.reset();
  store_ = test_support::open_sqlite_with(dir_, std::chrono::seconds(0), 0, 1 << 20);
  EXPECT_FALSE(fs::exists(dir_ / "segments" / segment_file(9)));
  std::ofstream(dir_ / "segments" / segment_file(10), std::ios::binary) << "torn";
  report = store_->fsck(false);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->problems, (std::vector<std::string>{"body segment 10 holds no message"}));
  ASSERT_TRUE(store_->fsck(true));
  EXPECT_FALSE(fs::exists(dir_ / "segments" / segment_file(10)));
  EXPECT_TRUE(store_->fsck(false)->problems.empty());
  EXPECT_EQ(*store_->read_message(demo_, box("INBOX").id, Uid(1)), message('a', 3000));
}

}  // namespace
}  // namespace postino::store
