// The body log's files (store/body_log.hpp): appends read back whole and in pieces,
// segments that fill and begin, the lock that keeps a segment another log still fills from
// being removed, and what a missing or short segment reads as.
#include "store/body_log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>

#include <filesystem>
#include <string>
#include <vector>

namespace postino::store {
namespace {

namespace fs = std::filesystem;

class BodyLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("postino-body-log-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(BodyLogTest, AppendedBodiesAreReadBackWholeAndInPieces) {
  BodyLog log(dir_, 1 << 20);
  const std::string first = "Subject: one\r\n\r\nfirst body\r\n";
  const std::string second(10000, 'x');
  auto a = log.append(first);
  auto b = log.append(second);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->segment, b->segment);
  EXPECT_EQ(b->offset, a->offset + static_cast<std::int64_t>(first.size()));
  ASSERT_TRUE(log.sync({*a, *b}));
  EXPECT_EQ(*log.read(*a), first);
  EXPECT_EQ(*log.read(*b), second);

  auto reader = log.open(*a);
  ASSERT_TRUE(reader);
  std::string pieces;
  char buf[5];
  for (;;) {
    auto got = (*reader)->read(buf, sizeof buf);
    ASSERT_TRUE(got);
    if (*got == 0) break;
    pieces.append(buf, *got);
  }
  EXPECT_EQ(pieces, first);  // stops at the body's end, not the segment's
  EXPECT_EQ(*(*reader)->read_at(9, buf, sizeof buf), 5u);
  EXPECT_EQ(std::string(buf, 5), "one\r\n");
  EXPECT_EQ(*(*reader)->read_at(first.size() - 2, buf, sizeof buf), 2u);
  EXPECT_EQ(*(*reader)->read_at(first.size() + 3, buf, sizeof buf), 0u);
  EXPECT_EQ(fs::file_size(dir_ / "0000000001.seg"), first.size() + second.size());
}

TEST_F(BodyLogTest, AFullSegmentTakesNoMoreAndTheNextBegins) {
  BodyLog log(dir_, 100);
  auto a = log.append(std::string(60, 'a'));
  auto b = log.append(std::string(60, 'b'));  // still fits: the segment held 60
  auto c = log.append(std::string(60, 'c'));  // 120 >= 100: a new segment
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->segment, b->segment);
  EXPECT_EQ(c->segment, a->segment + 1);
  EXPECT_EQ(c->offset, 0);
  ASSERT_TRUE(log.sync({*a, *b, *c}));
  EXPECT_EQ(*log.read(*b), std::string(60, 'b'));
  EXPECT_EQ(*log.read(*c), std::string(60, 'c'));
  auto segments = log.segments();
  ASSERT_TRUE(segments);
  ASSERT_EQ(segments->size(), 2u);
  EXPECT_FALSE((*segments)[0].in_use);  // finished
  EXPECT_EQ((*segments)[0].bytes, 120u);
  EXPECT_TRUE((*segments)[1].in_use);  // still appended to
}

TEST_F(BodyLogTest, TwoLogsNeverShareASegmentNorRemoveOneTheOtherStillFills) {
  // Two processes sharing a store (flock locks belong to the open file, so two logs in one
  // process stand for them).
  BodyLog server(dir_, 100), admin(dir_, 100);
  auto s1 = server.append("from the server");
  auto a1 = admin.append("from a command");
  ASSERT_TRUE(s1 && a1);
  EXPECT_NE(s1->segment, a1->segment);
  auto seen = admin.segments();
  ASSERT_TRUE(seen);
  ASSERT_EQ(seen->size(), 2u);
  EXPECT_TRUE((*seen)[0].in_use);  // the server's, locked
  EXPECT_TRUE((*seen)[1].in_use);  // its own
  EXPECT_FALSE(*admin.remove(s1->segment));
  EXPECT_FALSE(*admin.remove(a1->segment));
  EXPECT_EQ(*server.read(*s1), "from the server");

  // The server's segment filled and finished: now it may go.
  ASSERT_TRUE(server.append(std::string(100, 'x')));
  ASSERT_TRUE(server.append("next"));
  seen = admin.segments();
  ASSERT_TRUE(seen);
  EXPECT_FALSE((*seen)[0].in_use);
  EXPECT_TRUE(*admin.remove(s1->segment));
  EXPECT_FALSE(fs::exists(dir_ / "0000000001.seg"));
  // A reader that had it open keeps reading; one that opens it now finds it missing.
  EXPECT_EQ(*server.read(*s1), "from the server");
  BodyLog other(dir_, 100);
  auto gone = other.read(*s1);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().kind, ErrorKind::not_found);
}

TEST_F(BodyLogTest, ABodyBeyondItsSegmentsEndIsNotFound) {
  BodyLog log(dir_, 1 << 20);
  auto a = log.append("short");
  ASSERT_TRUE(a);
  auto past = log.read(BodyPlace{a->segment, a->offset, 50});
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().kind, ErrorKind::not_found);
  auto missing = log.read(BodyPlace{a->segment + 7, 0, 5});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
}

TEST_F(BodyLogTest, ALogOpenedAgainBeginsASegmentOfItsOwn) {
  BodyPlace first;
  {
    BodyLog log(dir_, 1 << 20);
    first = *log.append("before a restart");
    ASSERT_TRUE(log.sync({first}));
  }
  BodyLog log(dir_, 1 << 20);
  auto next = log.append("after");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->segment, first.segment + 1);  // a torn tail is never written after
  EXPECT_EQ(*log.read(first), "before a restart");
  auto segments = log.segments();
  ASSERT_TRUE(segments);
  EXPECT_FALSE((*segments)[0].in_use);  // its process let go of it
}

TEST_F(BodyLogTest, AFailedSyncFailsItsPlacesForGoodAndTheNextBodiesGoElsewhere) {
  bool fail = false;
  BodyLog log(dir_, 1 << 20, [&](int fd) {
    if (!fail) return ::fdatasync(fd);
    errno = EIO;
    return -1;
  });
  auto before = log.append("durable before");
  ASSERT_TRUE(log.sync({*before}));
  fail = true;
  auto lost = log.append("caught by the failure");
  auto r = log.sync({*lost});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().detail.find("Input/output error"), std::string::npos) << r.error().detail;
  fail = false;
  // Never reported durable after all (RELIABILITY F02: not retried), and the segment
  // takes no more bodies.
  EXPECT_FALSE(log.sync({*lost}));
  auto after = log.append("after");
  ASSERT_TRUE(after);
  EXPECT_NE(after->segment, lost->segment);
  EXPECT_TRUE(log.sync({*after}));
  EXPECT_FALSE(log.sync({*lost, *after}));
  EXPECT_EQ(*log.read(*before), "durable before");
}

TEST_F(BodyLogTest, AFailedSyncAsASegmentFillsFailsTheBodiesInIt) {
  bool fail = false;
  BodyLog log(dir_, 10, [&](int fd) {
    if (!fail) return ::fdatasync(fd);
    errno = EIO;
    return -1;
  });
  auto first = log.append("ten bytes!");  // fills the segment, not yet synced
  fail = true;
  auto next = log.append("next");  // begins the next segment: the full one is synced, and fails
  ASSERT_TRUE(first && next);
  fail = false;
  EXPECT_FALSE(log.sync({*first}));
  EXPECT_TRUE(log.sync({*next}));
}

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST_F(BodyLogTest, ABoundedNumberOfSegmentsIsKeptOpen) {
  BodyLog log(dir_, 1);  // every body begins a segment
  const auto before = open_descriptors();
  std::vector<BodyPlace> places;
  for (int i = 0; i < 300; ++i) places.push_back(*log.append("body " + std::to_string(i)));
  EXPECT_EQ(places.back().segment, 300);
  EXPECT_LE(open_descriptors(), before + 130);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(*log.read(places[i]), "body " + std::to_string(i));
  EXPECT_LE(open_descriptors(), before + 130);
}

}  // namespace
}  // namespace postino::store
