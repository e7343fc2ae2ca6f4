// The FETCH attribute grammar (fetch_item.hpp), apart from any session.
#include "imap/commands/fetch_item.hpp"

#include <gtest/gtest.h>

namespace postino::imap {
namespace {

FetchItem parsed(const std::string& raw) {
  std::string error;
  auto item = parse_fetch_item(raw, error);
  EXPECT_TRUE(item) << raw << ": " << error;
  return item ? *item : FetchItem{};
}

std::string refused(const std::string& raw) {
  std::string error;
  EXPECT_FALSE(parse_fetch_item(raw, error)) << raw;
  return error;
}

TEST(FetchItem, NamesSeenAndPartials) {
  auto peek = parsed("body.peek[1.HEADER.FIELDS (From)]<10.20>");
  EXPECT_EQ(peek.kind, FetchItem::Kind::text);
  EXPECT_FALSE(peek.sets_seen);
  EXPECT_EQ(peek.name, "BODY[1.HEADER.FIELDS (FROM)]<10>");
  EXPECT_EQ(clip_partial(peek, 25), (std::pair<std::uint64_t, std::uint64_t>{10, 15}));
  EXPECT_EQ(clip_partial(peek, 5), (std::pair<std::uint64_t, std::uint64_t>{5, 0}));
  EXPECT_TRUE(parsed("RFC822").sets_seen);
  EXPECT_FALSE(parsed("RFC822.HEADER").sets_seen);
  EXPECT_EQ(parsed("BODY").kind, FetchItem::Kind::structure);
  auto binary = parsed("BINARY.PEEK[2]<0.3>");
  EXPECT_EQ(binary.kind, FetchItem::Kind::binary);
  EXPECT_EQ(binary.name, "BINARY[2]<0>");
  EXPECT_EQ(parsed("BINARY.SIZE[1]").kind, FetchItem::Kind::binary_size);
  EXPECT_EQ(clip_partial(parsed("BODY[]"), 7), (std::pair<std::uint64_t, std::uint64_t>{0, 7}));
}

TEST(FetchItem, MalformedAttributesAreRefusedWithTheirReason) {
  EXPECT_EQ(refused("BODY[1"), "Missing ]");
  EXPECT_EQ(refused("BODY[0]"), "Invalid section");
  EXPECT_EQ(refused("BINARY[1.MIME]"), "BINARY takes part numbers only");
  EXPECT_EQ(refused("BINARY.SIZE[1]<0.1>"), "Invalid partial");
  EXPECT_EQ(refused("BODY[]<1.0>"), "Invalid partial");
  EXPECT_EQ(refused("BODY[]<x.1>"), "Invalid partial");
  EXPECT_EQ(refused("FOO"), "Unknown fetch item FOO");
}

}  // namespace
}  // namespace postino::imap
