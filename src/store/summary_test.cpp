// What SELECT reads of a mailbox instead of its list (Store::mailbox_summary): the count,
// the keywords defined in it and the sequence number of the first unseen message, each
// checked against the list itself.
#include <gtest/gtest.h>

#include <random>

#include "store/store_contract.hpp"

namespace postino::store {
namespace {

using test_support::StoreContract;
using Keywords = std::vector<std::string>;

// The first unseen message's sequence number as the list gives it.
std::uint32_t first_unseen_of(const std::vector<MessageInfo>& list) {
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!(list[i].flags.system & flag_seen)) return static_cast<std::uint32_t>(i + 1);
  }
  return 0;
}

// Flags changed at random, messages expunged and delivered: after each change the summary
// says what the list says. The first unseen lies anywhere, so that it is counted from
// either end of the mailbox.
TEST_P(StoreContract, TheSummaryAgreesWithTheListWhateverChanges) {
  const auto inbox = box("INBOX").id;
  {
    auto empty = store_->mailbox_summary(demo_, "INBOX");
    ASSERT_TRUE(empty) << empty.error().detail;
    EXPECT_EQ(empty->mailbox.messages, 0);
    EXPECT_EQ(empty->first_unseen, 0u);
  }
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(store_->deliver({demo_}, "m" + std::to_string(i)));
  std::mt19937 random(7);
  for (int round = 0; round < 80; ++round) {
    auto list = store_->messages(demo_, inbox);
    ASSERT_TRUE(list);
    std::vector<Uid> some;
    for (const auto& m : *list) {
      if (random() % 5 == 0) some.push_back(m.uid);
    }
    switch (round % 8) {
      case 0:  // everything seen, then a few unseen again
        some.clear();
        for (const auto& m : *list) some.push_back(m.uid);
        ASSERT_TRUE(
            store_->store_flags(demo_, inbox, some, Store::FlagChange::add, {flag_seen, {}}));
        some.clear();
        for (std::size_t i = 0; i < list->size(); ++i) {
          if (random() % 23 == 0) some.push_back((*list)[i].uid);
        }
        ASSERT_TRUE(
            store_->store_flags(demo_, inbox, some, Store::FlagChange::remove, {flag_seen, {}}));
        break;
      case 3:  // a few, so that the mailbox stays big
        some.resize(some.size() / 3);
        ASSERT_TRUE(store_->expunge(demo_, inbox, some, Store::ExpungeScope::listed));
        break;
      case 5:
        ASSERT_TRUE(store_->deliver({demo_}, "new " + std::to_string(round)));
        break;
      default:
        ASSERT_TRUE(store_->store_flags(
            demo_, inbox, some, round % 2 ? Store::FlagChange::add : Store::FlagChange::remove,
            {flag_seen, {}}));
    }
    list = store_->messages(demo_, inbox);
    auto summary = store_->mailbox_summary(demo_, "INBOX");
    ASSERT_TRUE(summary && list);
    SCOPED_TRACE(round);
    EXPECT_EQ(summary->mailbox.messages, static_cast<std::int64_t>(list->size()));
    EXPECT_EQ(summary->first_unseen, first_unseen_of(*list));
  }
  // And where it is known: near the start (counted from there), near the end (counted
  // from the end, past the holes expunges left), none.
  auto list = store_->messages(demo_, inbox);
  ASSERT_TRUE(list && list->size() > 20);
  std::vector<Uid> all;
  for (const auto& m : *list) all.push_back(m.uid);
  const auto only_unseen = [&](std::size_t position) {
    EXPECT_TRUE(store_->store_flags(demo_, inbox, all, Store::FlagChange::add, {flag_seen, {}}));
    if (position > 0) {
      EXPECT_TRUE(store_->store_flags(demo_, inbox, {all[position - 1]}, Store::FlagChange::remove,
                                      {flag_seen, {}}));
    }
    return store_->mailbox_summary(demo_, "INBOX")->first_unseen;
  };
  EXPECT_EQ(only_unseen(2), 2u);
  EXPECT_EQ(only_unseen(all.size() - 1), all.size() - 1);
  EXPECT_EQ(only_unseen(all.size()), all.size());
  EXPECT_EQ(only_unseen(0), 0u);
}

// A keyword set on a message stays defined in its mailbox (FLAGS) after it is taken off,
// as Dovecot keeps it; copies and moves define theirs where they arrive; a mailbox
// deleted takes its keywords with it.
TEST_P(StoreContract, KeywordsAreDefinedWhereTheyAreSetAndStay) {
  const auto keywords = [&](const std::string& name) {
    auto s = store_->mailbox_summary(demo_, name);
    EXPECT_TRUE(s) << name;
    return s ? s->keywords : Keywords{"?"};
  };
  const auto inbox = box("INBOX").id;
  ASSERT_TRUE(store_->append(demo_, "INBOX", "one", {{0, {"$Work", "zeta"}}, {}}));
  ASSERT_TRUE(store_->deliver({demo_}, "two"));
  ASSERT_TRUE(store_->deliver({demo_}, "three"));
  EXPECT_EQ(keywords("INBOX"), (Keywords{"$Work", "zeta"}));
  EXPECT_EQ(keywords("Archive"), Keywords{});
  ASSERT_TRUE(store_->store_flags(demo_, inbox, {Uid(2)}, Store::FlagChange::add, {0, {"$Later"}}));
  ASSERT_TRUE(store_->store_flags(demo_, inbox, {Uid(1)}, Store::FlagChange::replace, {}));
  EXPECT_EQ(keywords("INBOX"), (Keywords{"$Later", "$Work", "zeta"}));
  // The list still has each message's own.
  auto list = store_->messages(demo_, inbox);
  ASSERT_TRUE(list);
  EXPECT_EQ((*list)[0].flags.keywords, Keywords{});
  EXPECT_EQ((*list)[1].flags.keywords, Keywords{"$Later"});

  ASSERT_TRUE(store_->store_flags(demo_, inbox, {Uid(3)}, Store::FlagChange::add, {0, {"$Moved"}}));
  ASSERT_TRUE(store_->copy_messages(demo_, inbox, {Uid(2)}, "Archive", false));
  ASSERT_TRUE(store_->copy_messages(demo_, inbox, {Uid(3)}, "Trash", true));
  EXPECT_EQ(keywords("Archive"), Keywords{"$Later"});
  EXPECT_EQ(keywords("Trash"), Keywords{"$Moved"});
  // Renaming INBOX moves its messages into the new mailbox, keywords and all.
  ASSERT_TRUE(store_->rename_mailbox(demo_, "INBOX", "Old"));
  EXPECT_EQ(keywords("Old"), Keywords{"$Later"});
  EXPECT_EQ(keywords("INBOX"), (Keywords{"$Later", "$Moved", "$Work", "zeta"}));

  ASSERT_TRUE(store_->delete_mailbox(demo_, "Trash"));
  ASSERT_TRUE(store_->create_mailbox(demo_, "Trash", SpecialUse::none));
  EXPECT_EQ(keywords("Trash"), Keywords{});
  EXPECT_EQ(store_->mailbox_summary(demo_, "Nowhere").error().kind, ErrorKind::not_found);
}

}  // namespace
}  // namespace postino::store
