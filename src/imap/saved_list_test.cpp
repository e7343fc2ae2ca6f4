// The saved list's format: what is written is read back the same, and anything else (a
// byte changed, a file cut short, UIDs out of order) is refused rather than misread.
#include "imap/saved_list.hpp"

#include <gtest/gtest.h>

namespace postino::imap {
namespace {

store::MessageInfo message(std::uint32_t uid, std::uint64_t modseq, std::uint32_t flags,
                           std::int64_t size, std::int64_t date,
                           std::vector<std::string> keywords = {}) {
  store::MessageInfo m;
  m.uid = store::Uid(uid);
  m.mod_seq = store::ModSeq(modseq);
  m.flags.system = flags;
  m.flags.keywords = std::move(keywords);
  m.size = size;
  m.internal_date = store::SystemClock::time_point(std::chrono::seconds(date));
  return m;
}

void expect_same(const store::MessageInfo& a, const store::MessageInfo& b) {
  EXPECT_EQ(a.uid, b.uid);
  EXPECT_EQ(a.mod_seq, b.mod_seq);
  EXPECT_EQ(a.flags.system, b.flags.system);
  EXPECT_EQ(a.flags.keywords, b.flags.keywords);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.internal_date, b.internal_date);
}

const std::vector<store::MessageInfo> sample{
    message(1, 5, store::flag_seen, 1234, 1700000000),
    message(7, 1ull << 62, store::flag_flagged | store::flag_deleted, 0, -86400, {"$Work", ""}),
    message(300, 9, 0, 52428800, 0, {"\xc3\xa9t\xc3\xa9"}),
    message(0xffffffffu, 10, 31, 1, 4102444800)};

TEST(SavedList, WhatIsWrittenIsReadBack) {
  const auto bytes = encode_saved_list(store::MailboxId(42), store::UidValidity(0xfffffffeu),
                                       store::ModSeq(1ull << 62), sample);
  auto back = decode_saved_list(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->mailbox, store::MailboxId(42));
  EXPECT_EQ(back->uid_validity, store::UidValidity(0xfffffffeu));
  EXPECT_EQ(back->highest_mod_seq, store::ModSeq(1ull << 62));
  ASSERT_EQ(back->messages.size(), sample.size());
  for (std::size_t i = 0; i < sample.size(); ++i) expect_same(back->messages[i], sample[i]);
  auto empty = decode_saved_list(
      encode_saved_list(store::MailboxId(1), store::UidValidity(1), store::ModSeq(1), {}));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->messages.empty());
}

TEST(SavedList, AnythingDamagedIsRefused) {
  const auto bytes =
      encode_saved_list(store::MailboxId(42), store::UidValidity(3), store::ModSeq(10), sample);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto changed = bytes;
    changed[i] = static_cast<char>(changed[i] ^ 0x10);
    EXPECT_FALSE(decode_saved_list(changed)) << "byte " << i;
  }
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode_saved_list(bytes.substr(0, n))) << "cut at " << n;
  }
  EXPECT_FALSE(decode_saved_list(bytes + "x"));
  // The same UID twice, or going down, is no list of a mailbox, checksum or not.
  EXPECT_FALSE(decode_saved_list(
      encode_saved_list(store::MailboxId(1), store::UidValidity(1), store::ModSeq(1),
                        {message(5, 1, 0, 1, 1), message(5, 1, 0, 1, 1)})));
  EXPECT_FALSE(decode_saved_list(
      encode_saved_list(store::MailboxId(1), store::UidValidity(1), store::ModSeq(1),
                        {message(5, 1, 0, 1, 1), message(4, 1, 0, 1, 1)})));
}

}  // namespace
}  // namespace postino::imap
