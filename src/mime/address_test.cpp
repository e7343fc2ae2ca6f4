// Tests for address list parsing (RFC 5322 §3.4, RFC 3501 §7.4.2 groups).
#include "mime/address.hpp"

#include <gtest/gtest.h>

namespace postino::mime {
namespace {

std::string show(const std::vector<Address>& list) {
  std::string out;
  for (const auto& a : list) {
    if (!out.empty()) out += " | ";
    switch (a.kind) {
      case Address::Kind::group_start:
        out += "group(" + a.mailbox + ")";
        break;
      case Address::Kind::group_end:
        out += "end";
        break;
      case Address::Kind::mailbox:
        out += "[" + a.name + "][" + a.route + "][" + a.mailbox + "][" + a.host + "]";
        break;
    }
  }
  return out;
}

TEST(Address, CommonForms) {
  EXPECT_EQ(show(parse_address_list("alice@example.org")), "[][][alice][example.org]");
  EXPECT_EQ(show(parse_address_list("Alice Smith <alice@example.org>, \"Bob, Jr.\" <bob@x.test>")),
            "[Alice Smith][][alice][example.org] | [Bob, Jr.][][bob][x.test]");
  EXPECT_EQ(show(parse_address_list("=?utf-8?q?J=C3=B6rg?= <j@x.test> (comment)")),
            "[=?utf-8?q?J=C3=B6rg?=][][j][x.test]");
  EXPECT_EQ(show(parse_address_list("<@relay.test,@b.test:u@x.test>")),
            "[][@relay.test,@b.test][u][x.test]");
  EXPECT_EQ(show(parse_address_list("John.Q.Public@example.com")),
            "[][][John.Q.Public][example.com]");
}

TEST(Address, Groups) {
  EXPECT_EQ(show(parse_address_list("Team: a@x.test, B <b@y.test>; c@z.test")),
            "group(Team) | [][][a][x.test] | [B][][b][y.test] | end | [][][c][z.test]");
  EXPECT_EQ(show(parse_address_list("undisclosed-recipients:;")),
            "group(undisclosed-recipients) | end");
}

TEST(Address, BrokenInputNeverStalls) {
  // RELIABILITY M03: From: <@>, To: a@[1.2.3, From: "unterminated
  EXPECT_EQ(show(parse_address_list("<@>")), "[][][][]");
  EXPECT_EQ(parse_address_list("a@[1.2.3").size(), 1u);
  EXPECT_EQ(parse_address_list("\"unterminated").size(), 1u);
  EXPECT_TRUE(parse_address_list("").empty());
  EXPECT_TRUE(parse_address_list(" , ,, ").empty());
  std::string many;
  for (int i = 0; i < 10000; ++i) many += "a@b, ";
  EXPECT_EQ(parse_address_list(many).size(), 10000u);
}

TEST(Address, AQuotedPairAtTheEndOfAValueEndsIt) {
  const auto list = parse_address_list("a@b (x\\");  // found by fuzzing: no read past the end
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].mailbox, "a");
  EXPECT_EQ(list[0].host, "b");
  EXPECT_NO_THROW(parse_address_list("(\\"));
}

}  // namespace
}  // namespace postino::mime
