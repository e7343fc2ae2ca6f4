// Tests for sequence sets.
#include "imap/wire/sequence_set.hpp"

#include <gtest/gtest.h>

namespace postino::imap::wire {
namespace {

TEST(SequenceSet, RangesStarsAndReversedRanges) {
  auto s = SequenceSet::parse("1:3,5,9:*");
  ASSERT_TRUE(s);
  for (std::uint32_t n : {1u, 2u, 3u, 5u, 9u, 12u}) EXPECT_TRUE(s->contains(n, 12)) << n;
  for (std::uint32_t n : {4u, 6u, 8u, 13u}) EXPECT_FALSE(s->contains(n, 12)) << n;
  EXPECT_TRUE(SequenceSet::parse("4:2")->contains(3, 10));
  EXPECT_TRUE(SequenceSet::parse("*")->contains(7, 7));
  EXPECT_TRUE(SequenceSet::parse("*:5")->contains(6, 7));  // "*:5" with * = 7
  EXPECT_TRUE(SequenceSet::parse("1:4294967295")->contains(4000000000u, 1));
}

TEST(SequenceSet, FormatsRunsAsRanges) {
  EXPECT_EQ(format_sequence_set({}), "");
  EXPECT_EQ(format_sequence_set({4}), "4");
  EXPECT_EQ(format_sequence_set({1, 2, 3, 7, 9, 10}), "1:3,7,9:10");
  EXPECT_EQ(format_sequence_set({5, 4}), "5,4");  // the order is kept (COPYUID pairs)
  EXPECT_EQ(format_sequence_set({4294967294u, 4294967295u}), "4294967294:4294967295");
}

TEST(SequenceSet, OfExactlyTheseNumbers) {
  const auto s = SequenceSet::of({2, 3, 4, 9});
  for (std::uint32_t n : {2u, 3u, 4u, 9u}) EXPECT_TRUE(s.contains(n, 9)) << n;
  for (std::uint32_t n : {1u, 5u, 8u, 10u}) EXPECT_FALSE(s.contains(n, 10)) << n;
  EXPECT_FALSE(SequenceSet::of({}).contains(1, 1));  // an empty saved result matches nothing
}

TEST(SequenceSet, UnorderedAndOverlappingRangesWithoutStar) {
  const auto s = SequenceSet::parse("9,5:3,4,20:18,1,6");
  ASSERT_TRUE(s);
  for (std::uint32_t n : {1u, 3u, 4u, 5u, 6u, 9u, 18u, 19u, 20u})
    EXPECT_TRUE(s->contains(n, 99)) << n;
  for (std::uint32_t n : {2u, 7u, 8u, 10u, 17u, 21u, 4294967295u})
    EXPECT_FALSE(s->contains(n, 99)) << n;
  EXPECT_TRUE(SequenceSet::parse("4294967295")->contains(4294967295u, 1));
}

TEST(SequenceSet, LargeSavedResultsAreLookedUpQuickly) {
  // SEARCHRES keeps any number of UIDs; FETCH $ asks once per message in the mailbox.
  std::vector<std::uint32_t> odd;
  for (std::uint32_t n = 1; n < 400000; n += 2) odd.push_back(n);
  const auto s = SequenceSet::of(odd);
  std::size_t found = 0;
  for (std::uint32_t n = 1; n <= 400000; ++n) found += s.contains(n, 400000) ? 1 : 0;
  EXPECT_EQ(found, odd.size());  // linear lookups would take about 4e10 steps here
}

TEST(SequenceSet, RefusesMalformed) {
  for (auto bad :
       {"", "0", "1,", ",1", "1:", ":1", "a", "1:0", "4294967296", "01", "1::2", "1;2", "-1"}) {
    EXPECT_FALSE(SequenceSet::parse(bad)) << bad;
  }
  std::string many;
  for (int i = 0; i < 10001; ++i) many += (i ? "," : "") + std::to_string(i + 1);
  EXPECT_FALSE(SequenceSet::parse(many));
}

}  // namespace
}  // namespace postino::imap::wire
