// Tests for SORT and THREAD's pure parts (RFC 5256).
#include "imap/sort.hpp"

#include <gtest/gtest.h>

namespace postino::imap::sort {
namespace {

TEST(BaseSubject, LeadersTrailersBlobsAndForwardWrappers) {
  struct Case {
    const char* subject;
    const char* base;
    bool reply;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"Hello", "hello", false},
           {"Re: Hello", "hello", true},
           {"RE:re: Fwd:  Hello  ", "hello", true},
           {"Fw: Hello (fwd)", "hello", true},
           {"Hello (FWD)", "hello", true},
           {"[list] Hello", "hello", false},
           {"[list] Re: [other] Hello", "hello", true},
           {"Re [2]: Hello", "hello", true},  // subj-refwd with a blob before the colon
           {"[list]", "[list]", false},       // a blob that would leave nothing stays
           {"[Fwd: Re: Hello]", "hello", true},
           {"[fwd: [fwd: Hello]]", "hello", true},
           {"Hello\t\r\n  world", "hello world", false},
           {"=?UTF-8?Q?Re=3A_R=C3=A9sum=C3=A9?=", "résumé", true},
           {"Reply to this", "reply to this", false},  // "re" without a colon is a word
           {"", "", false},
       }) {
    const auto b = base_subject(c.subject);
    EXPECT_EQ(b.text, c.base) << c.subject;
    EXPECT_EQ(b.is_reply_or_forward, c.reply) << c.subject;
  }
}

TEST(MessageIds, ReadInOrderWithWhiteSpaceDropped) {
  EXPECT_EQ(message_ids("<a@x> <b@x>\r\n\t<c\r\n @x>"),
            (std::vector<std::string>{"<a@x>", "<b@x>", "<c@x>"}));
  EXPECT_EQ(message_ids("garbage <> <d@x"), std::vector<std::string>{});
}

Item item(std::uint32_t n, std::string subject, std::string id, std::string references,
          std::int64_t sent) {
  mime::EnvelopeFields f;
  f.subject = std::move(subject);
  f.message_id = std::move(id);
  f.references = std::move(references);
  auto i = make_item(n, n, 1000 - n, 100 * n, f);
  i.sent = sent;
  return i;
}

TEST(Order, KeysInTurnReverseAndSequenceLast) {
  mime::EnvelopeFields a, b, c;
  a.from = "Zed <zed@x>";
  a.date = "1 Jan 2020 10:00 +0000";
  a.subject = "Re: beta";
  b.from = "\"Alpha\" <Amy@x>";
  b.date = "1 Jan 2020 10:00 -0100";  // an hour later than a
  b.subject = "alpha";
  c.from = "undisclosed-recipients:;";  // a group: its name, as in ENVELOPE
  c.subject = "[list] Beta";
  std::vector<Item> items{make_item(1, 1, 30, 5, a), make_item(2, 2, 20, 5, b),
                          make_item(3, 3, 10, 7, c)};
  auto numbers = [&](std::vector<Criterion> criteria) {
    order(items, criteria);
    std::string out;
    for (const auto& i : items) out += std::to_string(i.number);
    return out;
  };
  EXPECT_EQ(numbers({{Key::arrival}}), "321");
  EXPECT_EQ(numbers({{Key::from}}), "231");
  EXPECT_EQ(numbers({{Key::subject}}), "213");  // "alpha", then "beta" by sequence
  EXPECT_EQ(numbers({{Key::subject, true}, {Key::size, true}}), "312");
  EXPECT_EQ(numbers({{Key::date}}), "312");  // no Date: its arrival time (10 s)
  EXPECT_EQ(numbers({{Key::size}}), "123");
  EXPECT_EQ(numbers({{Key::to}}), "123");  // all empty: sequence order
}

TEST(Thread, OrderedSubjectGroupsByBaseSubject) {
  std::vector<Item> items{item(1, "B", "", "", 50),     item(2, "a", "", "", 10),
                          item(3, "Re: b", "", "", 60), item(4, "Re: A", "", "", 20),
                          item(5, "re: a", "", "", 15), item(6, "C", "", "", 5)};
  EXPECT_EQ(thread_ordered_subject(items), "(6)(2 (5)(4))(1 3)");
}

TEST(Thread, ReferencesBuildsTheTreeFromMessageIds) {
  // 1 ← 2 ← 3 and 1 ← 4; 5 refers to a message not here with 6 (a dummy root);
  // 7 is alone under a missing parent (promoted).
  std::vector<Item> items{
      item(1, "Plan", "<1@x>", "", 10),
      item(2, "Re: Plan", "<2@x>", "<1@x>", 20),
      item(3, "Re: Plan", "<3@x>", "<1@x> <2@x>", 30),
      item(4, "Re: Plan", "<4@x>", "<1@x>", 25),
      item(5, "Lost", "<5@x>", "<gone@x>", 40),
      item(6, "Other", "<6@x>", "<gone@x>", 41),
      item(7, "Solo", "<7@x>", "<missing@x>", 5),
  };
  EXPECT_EQ(thread_references(items), "(7)(1 (2 3)(4))((5)(6))");
}

TEST(Thread, ReferencesMergesTopLevelThreadsBySubject) {
  // No references: a reply goes under the original; two originals share a dummy.
  std::vector<Item> items{item(1, "Lunch", "<1@x>", "", 10), item(2, "Re: Lunch", "<2@x>", "", 20),
                          item(3, "Talk", "<3@x>", "", 30),  item(4, "Talk", "<4@x>", "", 40),
                          item(5, "", "<5@x>", "", 50),      item(6, "", "<6@x>", "", 60)};
  EXPECT_EQ(thread_references(items), "(1 2)((3)(4))(5)(6)");
}

TEST(Thread, ReferencesSurvivesLoopsDuplicatesAndMissingIds) {
  std::vector<Item> items{
      item(1, "a", "<1@x>", "<2@x>", 10), item(2, "b", "<2@x>", "<1@x>", 20),  // a loop
      item(3, "c", "<3@x>", "<3@x>", 30),                                      // itself
      item(4, "d", "<4@x>", "", 40),      item(5, "e", "<4@x>", "", 50),       // same id
      item(6, "f", "", "<4@x>", 60),                                           // no id
  };
  const auto threads = thread_references(items);
  for (const char* n : {"1", "2", "3", "4", "5", "6"}) {
    EXPECT_NE(threads.find(n), std::string::npos) << threads;
  }
  EXPECT_EQ(threads, "(2 1)(3)(4 6)(5)");
}

}  // namespace
}  // namespace postino::imap::sort
