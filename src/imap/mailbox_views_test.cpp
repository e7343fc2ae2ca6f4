// The cache of mailbox views (SELECT of a mailbox seen before reads only its changes), the
// copy-on-write view of a session, and a session's view brought up to date from the
// store's changes since what it knew (NOOP, IDLE).
#include "imap/mailbox_views.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "imap/message_view.hpp"
#include "imap/saved_list.hpp"
#include "imap/session_fixture.hpp"

namespace postino::imap {
namespace {

using test_support::ImapLogin;

store::MessageInfo message(std::uint32_t uid, std::uint32_t flags = 0, std::uint64_t modseq = 1) {
  store::MessageInfo m;
  m.uid = store::Uid(uid);
  m.flags.system = flags;
  m.mod_seq = store::ModSeq(modseq);
  return m;
}

std::vector<std::uint32_t> uids(const std::vector<store::MessageInfo>& list) {
  std::vector<std::uint32_t> out;
  for (const auto& m : list) out.push_back(m.uid.value);
  return out;
}

// The mailbox as SELECT told of it: UIDs 2 3 5 8, uid_next 9, modseq 20.
store::MailboxInfo told_of_2_3_5_8() {
  store::MailboxInfo told;
  told.uid_validity = store::UidValidity(7);
  told.uid_next = store::Uid(9);
  told.highest_mod_seq = store::ModSeq(20);
  told.messages = 4;
  return told;
}

// SELECT told of UIDs 2 3 5 8 (uid_next 9); read since: 3 and 8 expunged, 5 flagged,
// 9 and 10 arrived, 10 expunged again.
TEST(ListAsOf, PutsBackWhatWentAndLeavesOutWhatCame) {
  const auto told = told_of_2_3_5_8();
  auto now_box = told;
  now_box.highest_mod_seq = store::ModSeq(25);
  const std::vector<store::MessageInfo> now{message(2), message(5, store::flag_flagged, 22),
                                            message(9, 0, 23)};
  const std::vector<store::Uid> gone{store::Uid(3), store::Uid(8), store::Uid(10)};
  auto list = list_as_of(told, now_box, now, gone);
  ASSERT_TRUE(list);
  EXPECT_EQ(uids(*list), (std::vector<std::uint32_t>{2, 3, 5, 8}));
  EXPECT_EQ((*list)[2].flags.system, store::flag_flagged);  // as read
  EXPECT_EQ((*list)[1].mod_seq, store::ModSeq(20));         // put back: no newer than told
  // Nothing changed: the list as read.
  EXPECT_EQ(uids(*list_as_of(told, told, *list, {})), (std::vector<std::uint32_t>{2, 3, 5, 8}));
  // Not the mailbox told of, or not adding up: no list.
  auto other = now_box;
  other.uid_validity = store::UidValidity(8);
  EXPECT_FALSE(list_as_of(told, other, now, gone));
  EXPECT_FALSE(list_as_of(told, now_box, now, {store::Uid(3)}));
  auto older = now_box;
  older.highest_mod_seq = store::ModSeq(19);
  EXPECT_FALSE(list_as_of(told, older, now, gone));
}

// The expunged UIDs are read after the list: a message expunged in between is in both
// (seen under load: SELECT answered `* BYE [UNAVAILABLE]` when the count did not add up).
TEST(ListAsOf, AMessageExpungedAfterTheListWasReadIsCountedOnce) {
  const auto told = told_of_2_3_5_8();
  auto now_box = told;
  now_box.highest_mod_seq = store::ModSeq(21);
  now_box.messages = 3;
  // As read: 3 was expunged (modseq 21); read after it: 5 and 8 expunged too (22).
  const std::vector<store::MessageInfo> now{message(2), message(5), message(8)};
  const std::vector<store::Uid> gone{store::Uid(3), store::Uid(5), store::Uid(8)};
  auto list = list_as_of(told, now_box, now, gone);
  ASSERT_TRUE(list);
  EXPECT_EQ(uids(*list), (std::vector<std::uint32_t>{2, 3, 5, 8}));
}

// QRESYNC: of what was expunged since the client's MODSEQ, what it knew of and the list
// no longer holds (5 was expunged after the list was read: the next poll reports it).
TEST(VanishedEarlier, LeavesOutWhatTheListStillHoldsAndWhatTheClientDidNotKnow) {
  const MessageView list(std::make_shared<const std::vector<store::MessageInfo>>(
      std::vector<store::MessageInfo>{message(2), message(5), message(8)}));
  const std::vector<store::Uid> gone{store::Uid(1), store::Uid(3), store::Uid(5), store::Uid(9)};
  EXPECT_EQ(vanished_earlier(gone, list, std::nullopt), (std::vector<std::uint32_t>{1, 3, 9}));
  EXPECT_EQ(vanished_earlier(gone, list, wire::SequenceSet::parse("2:4")),
            (std::vector<std::uint32_t>{3}));
  EXPECT_EQ(vanished_earlier({}, list, std::nullopt), (std::vector<std::uint32_t>{}));
}

TEST(ApplyChanges, TakesOutReplacesAndAddsInUidOrder) {
  const std::vector<store::MessageInfo> list{message(1), message(3), message(5), message(7)};
  store::MailboxChanges c;
  c.changed = {message(3, store::flag_seen, 9), message(6, 0, 9), message(8, 0, 9),
               message(9, 0, 9)};
  c.expunged = {store::Uid(1), store::Uid(7), store::Uid(9)};  // 9 came and went
  const auto out = apply_changes(list, c);
  EXPECT_EQ(uids(out), (std::vector<std::uint32_t>{3, 5, 6, 8}));
  EXPECT_EQ(out[0].flags.system, store::flag_seen);
  EXPECT_EQ(out[0].mod_seq, store::ModSeq(9));
  EXPECT_EQ(uids(apply_changes({}, c)), (std::vector<std::uint32_t>{3, 6, 8}));
  EXPECT_EQ(uids(apply_changes(list, {})), (std::vector<std::uint32_t>{1, 3, 5, 7}));
}

TEST(MessageViewTest, CopiesOnlyWhenChangedWhileShared) {
  auto shared = std::make_shared<std::vector<store::MessageInfo>>(
      std::vector<store::MessageInfo>{message(1), message(2)});
  MessageView a(shared), b(shared);
  EXPECT_EQ(&a.all(), &b.all());
  a.edit()[0].flags.system = store::flag_seen;
  EXPECT_NE(&a.all(), &b.all());
  EXPECT_EQ((*shared)[0].flags.system, 0u);  // what others hold is never changed
  EXPECT_EQ(a[0].flags.system, store::flag_seen);
  auto* own = &a.edit();
  a.edit().push_back(message(3));
  EXPECT_EQ(&a.edit(), own);  // this session's alone now: changed in place
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(b.size(), 2u);
}

class MailboxViewsTest : public ImapLogin {
 protected:
  void deliver(int n) {
    for (int i = 0; i < n; ++i)
      ASSERT_TRUE(store_->deliver({demo_id()}, "Subject: x\r\n\r\ny\r\n"));
  }
  store::MailboxId inbox() { return store_->mailbox(demo_id(), "INBOX")->id; }
  void expect_as_the_store_has_it(const MailboxViews::View& v) {
    auto now = store_->messages(demo_id(), v.mailbox.id);
    ASSERT_TRUE(now);
    ASSERT_EQ(uids(*v.messages), uids(*now));
    for (std::size_t i = 0; i < now->size(); ++i) {
      EXPECT_EQ((*v.messages)[i].flags, (*now)[i].flags);
      EXPECT_EQ((*v.messages)[i].mod_seq, (*now)[i].mod_seq);
    }
    EXPECT_EQ(v.mailbox.highest_mod_seq,
              store_->mailbox(demo_id(), v.mailbox.name)->highest_mod_seq);
  }
};

TEST_F(MailboxViewsTest, AMailboxSeenBeforeIsSharedUntilItChanges) {
  deliver(4);
  MailboxViews views(1000);
  auto first = views.current(*store_, demo_id(), inbox());
  ASSERT_TRUE(first) << first.error().detail;
  expect_as_the_store_has_it(*first);
  auto again = views.current(*store_, demo_id(), inbox());
  EXPECT_EQ(again->messages, first->messages);  // nothing changed: the same list
  EXPECT_EQ(views.stats().messages, 4u + 1);

  ASSERT_TRUE(store_->store_flags(demo_id(), inbox(), {store::Uid(2)},
                                  store::Store::FlagChange::add, {store::flag_seen, {"$label"}}));
  ASSERT_TRUE(store_->expunge(demo_id(), inbox(), std::vector<store::Uid>{store::Uid(3)},
                              store::Store::ExpungeScope::listed));
  deliver(2);
  auto changed = views.current(*store_, demo_id(), inbox());
  ASSERT_TRUE(changed);
  EXPECT_NE(changed->messages, first->messages);
  expect_as_the_store_has_it(*changed);
  EXPECT_EQ(uids(*first->messages), (std::vector<std::uint32_t>{1, 2, 3, 4}));  // untouched
  EXPECT_EQ(changed->mailbox.messages, 5);

  // Another account's mailbox id is refused as the store refuses it.
  auto other = store_->create_account("other@example.test", "$y$x", "");
  EXPECT_EQ(views.current(*store_, *other, inbox()).error().kind, store::ErrorKind::not_found);
}

TEST_F(MailboxViewsTest, TheLeastRecentlySelectedGoesFirstAndTheBoundHolds) {
  deliver(5);
  ASSERT_TRUE(store_->create_mailbox(demo_id(), "Empty", store::SpecialUse::none));
  const auto empty = store_->mailbox(demo_id(), "Empty")->id;
  MailboxViews views(8);
  EXPECT_FALSE(views.holds(demo_id(), "INBOX"));
  ASSERT_TRUE(views.current(*store_, demo_id(), inbox()));
  ASSERT_TRUE(views.current(*store_, demo_id(), empty));
  EXPECT_EQ(views.stats().mailboxes, 2u);
  EXPECT_EQ(views.stats().messages, 6u + 1);
  EXPECT_TRUE(views.holds(demo_id(), "INBOX"));
  EXPECT_TRUE(views.holds(demo_id(), "Empty"));
  auto other = store_->create_account("other@example.test", "$y$x", "");
  ASSERT_TRUE(other);
  EXPECT_FALSE(views.holds(*other, "INBOX"));  // another account's INBOX
  deliver(2);  // INBOX grows past the bound: kept, the empty one goes
  ASSERT_TRUE(views.current(*store_, demo_id(), inbox()));
  EXPECT_EQ(views.stats().mailboxes, 1u);
  EXPECT_EQ(views.stats().messages, 8u);
  EXPECT_FALSE(views.holds(demo_id(), "Empty"));
  deliver(1);  // too big to keep at all (and its older list goes); still served
  auto big = views.current(*store_, demo_id(), inbox());
  ASSERT_TRUE(big);
  EXPECT_EQ(big->messages->size(), 8u);
  EXPECT_EQ(views.stats().mailboxes, 0u);
  EXPECT_FALSE(views.holds(demo_id(), "INBOX"));
  EXPECT_EQ(views.stats().messages, 0u);
  MailboxViews none(0);
  auto uncached = none.current(*store_, demo_id(), inbox());
  ASSERT_TRUE(uncached);
  EXPECT_EQ(uncached->messages->size(), 8u);
  EXPECT_EQ(none.stats().mailboxes, 0u);
}

TEST_F(MailboxViewsTest, WhatItHoldsFollowsARename) {
  ASSERT_TRUE(store_->create_mailbox(demo_id(), "Work", store::SpecialUse::none));
  const auto work = store_->mailbox(demo_id(), "Work")->id;
  MailboxViews views(1000);
  ASSERT_TRUE(views.current(*store_, demo_id(), work));
  EXPECT_TRUE(views.holds(demo_id(), "Work"));
  ASSERT_TRUE(store_->rename_mailbox(demo_id(), "Work", "Play"));
  ASSERT_TRUE(views.current(*store_, demo_id(), work));
  EXPECT_FALSE(views.holds(demo_id(), "Work"));
  EXPECT_TRUE(views.holds(demo_id(), "Play"));
}

TEST_F(MailboxViewsTest, AMailboxCreatedAgainUnderTheSameIdIsReadWhole) {
  ASSERT_TRUE(store_->create_mailbox(demo_id(), "Box", store::SpecialUse::none));
  ASSERT_TRUE(store_->append(demo_id(), "Box", "one", {}));
  ASSERT_TRUE(store_->append(demo_id(), "Box", "two", {}));
  const auto id = store_->mailbox(demo_id(), "Box")->id;
  MailboxViews views(1000);
  auto before = views.current(*store_, demo_id(), id);
  ASSERT_TRUE(before);
  ASSERT_TRUE(store_->delete_mailbox(demo_id(), "Box"));
  ASSERT_TRUE(store_->create_mailbox(demo_id(), "Box", store::SpecialUse::none));
  ASSERT_EQ(store_->mailbox(demo_id(), "Box")->id, id) << "SQLite gives the last row id again";
  ASSERT_TRUE(store_->append(demo_id(), "Box", "new", {}));
  auto after = views.current(*store_, demo_id(), id);
  ASSERT_TRUE(after);
  EXPECT_NE(after->mailbox.uid_validity, before->mailbox.uid_validity);
  expect_as_the_store_has_it(*after);
  EXPECT_EQ(after->messages->size(), 1u);
}

// A session polling a mailbox learns each change made elsewhere once, as it is, from the
// store's changes since what it knew: flags, expunges (highest number first), new mail,
// and the messages an INBOX rename takes away.
TEST_F(ImapLogin, NoopTellsEachChangeMadeElsewhereOnce) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->deliver({demo_id()}, "Subject: x\r\n\r\ny\r\n"));
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  send("b SELECT INBOX\r\n");
  const auto inbox = store_->mailbox(demo_id(), "INBOX")->id;
  EXPECT_EQ(send("c NOOP\r\n"), "c OK NOOP completed\r\n");
  ASSERT_TRUE(store_->store_flags(demo_id(), inbox, {store::Uid(4)}, store::Store::FlagChange::add,
                                  {store::flag_flagged, {}}));
  ASSERT_TRUE(store_->expunge(demo_id(), inbox,
                              std::vector<store::Uid>{store::Uid(2), store::Uid(3)},
                              store::Store::ExpungeScope::listed));
  ASSERT_TRUE(store_->deliver({demo_id()}, "Subject: new\r\n\r\ny\r\n"));
  EXPECT_EQ(send("d NOOP\r\n"),
            "* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n* 2 FETCH (FLAGS (\\Flagged))\r\n* 4 EXISTS\r\n"
            "d OK NOOP completed\r\n");
  EXPECT_EQ(send("e NOOP\r\n"), "e OK NOOP completed\r\n");
  EXPECT_EQ(send("f FETCH 1:* (UID FLAGS)\r\n"),
            "* 1 FETCH (UID 1 FLAGS ())\r\n* 2 FETCH (UID 4 FLAGS (\\Flagged))\r\n"
            "* 3 FETCH (UID 5 FLAGS ())\r\n* 4 FETCH (UID 6 FLAGS ())\r\nf OK FETCH completed\r\n");
  // This session's own STORE is told by the STORE, not again by the next NOOP.
  EXPECT_EQ(send("g STORE 1 +FLAGS (\\Seen)\r\n"),
            "* 1 FETCH (FLAGS (\\Seen))\r\ng OK STORE completed\r\n");
  EXPECT_EQ(send("h NOOP\r\n"), "h OK NOOP completed\r\n");
  ASSERT_TRUE(store_->rename_mailbox(demo_id(), "INBOX", "Old"));
  EXPECT_EQ(send("i NOOP\r\n"),
            "* 4 EXPUNGE\r\n* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n* 1 EXPUNGE\r\ni OK NOOP completed\r\n");
}

// The selected mailbox deleted and created again by another session, under the same id:
// the messages this session knew are gone, the new mailbox's are new.
TEST_F(ImapLogin, AMailboxCreatedAgainWhileSelectedIsTold) {
  ASSERT_TRUE(store_->create_mailbox(demo_id(), "Box", store::SpecialUse::none));
  ASSERT_TRUE(store_->append(demo_id(), "Box", "one", {}));
  ASSERT_TRUE(store_->append(demo_id(), "Box", "two", {}));
  const auto id = store_->mailbox(demo_id(), "Box")->id;
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  send("b SELECT Box\r\n");
  ASSERT_TRUE(store_->delete_mailbox(demo_id(), "Box"));
  ASSERT_TRUE(store_->create_mailbox(demo_id(), "Box", store::SpecialUse::none));
  ASSERT_EQ(store_->mailbox(demo_id(), "Box")->id, id) << "SQLite gives the last row id again";
  ASSERT_TRUE(store_->append(demo_id(), "Box", "new", {}));
  EXPECT_EQ(send("c NOOP\r\n"),
            "* 2 EXPUNGE\r\n* 1 EXPUNGE\r\n* 1 EXISTS\r\nc OK NOOP completed\r\n");
  EXPECT_EQ(send("d FETCH 1 (UID RFC822.SIZE)\r\n"),
            "* 1 FETCH (UID 1 RFC822.SIZE 3)\r\nd OK FETCH completed\r\n");
}

}  // namespace
}  // namespace postino::imap

namespace postino::imap {
namespace {

// Big lists are saved in files and read back by a cache that does not hold them (a
// restarted server), brought up to date from the store's changes since.
class SavedListsTest : public MailboxViewsTest {
 protected:
  MailboxViews::Files files() { return {dir_ / "lists", 5}; }
  store::MailboxId box() { return store_->mailbox(demo_id(), name_)->id; }
  std::filesystem::path file() { return dir_ / "lists" / (std::to_string(box().value) + ".list"); }
  void put(int n) {
    for (int i = 0; i < n; ++i)
      ASSERT_TRUE(store_->append(demo_id(), name_, "Subject: x\r\n\r\ny\r\n", {}));
  }
  // The saved list with message 1 carrying a keyword the store never had (seen in a view,
  // it came from the file), or made newer, or with a message left out.
  void mark_the_file(std::uint64_t modseq_added = 0, bool drop_one = false) {
    std::ifstream in(file(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto saved = decode_saved_list(bytes);
    ASSERT_TRUE(saved);
    saved->messages[0].flags.keywords = {"$FromTheFile"};
    if (drop_one) saved->messages.erase(saved->messages.begin() + 2);
    std::ofstream(file(), std::ios::binary | std::ios::trunc) << encode_saved_list(
        saved->mailbox, saved->uid_validity,
        store::ModSeq(saved->highest_mod_seq.value + modseq_added), saved->messages);
  }
  // A cache that does not hold the mailbox: from the file, or from the store.
  bool fresh_from_the_file() {
    MailboxViews views(1000, files());
    auto v = views.current(*store_, demo_id(), box());
    EXPECT_TRUE(v);
    if (!v) return false;
    EXPECT_EQ(v->messages->size(), static_cast<std::size_t>(v->mailbox.messages));
    return !v->messages->empty() &&
           (*v->messages)[0].flags.keywords == std::vector<std::string>{"$FromTheFile"};
  }
  std::string name_ = "INBOX";
};

TEST_F(SavedListsTest, ABigListIsSavedAndReadBackWithWhatChangedSince) {
  put(6);
  ASSERT_TRUE(store_->append(demo_id(), "Archive", "Subject: x\r\n\r\ny\r\n", {}));
  {
    MailboxViews first(1000, files());
    ASSERT_TRUE(first.current(*store_, demo_id(), box()));
    ASSERT_TRUE(first.current(*store_, demo_id(), store_->mailbox(demo_id(), "Archive")->id));
  }
  EXPECT_TRUE(std::filesystem::exists(file()));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_ / "lists"),
                          std::filesystem::directory_iterator()),
            1);  // the Archive's one message is below the size to save
  mark_the_file();
  ASSERT_TRUE(store_->expunge(demo_id(), box(), std::vector<store::Uid>{store::Uid(2)},
                              store::Store::ExpungeScope::listed));
  ASSERT_TRUE(store_->store_flags(demo_id(), box(), {store::Uid(3)}, store::Store::FlagChange::add,
                                  {store::flag_seen, {}}));
  put(1);
  MailboxViews restarted(1000, files());
  auto v = restarted.current(*store_, demo_id(), box());
  ASSERT_TRUE(v);
  EXPECT_EQ((*v->messages)[0].flags.keywords, std::vector<std::string>{"$FromTheFile"});
  EXPECT_EQ(uids(*v->messages), (std::vector<std::uint32_t>{1, 3, 4, 5, 6, 7}));
  EXPECT_EQ((*v->messages)[1].flags.system, store::flag_seen);
  // What a save cut short left goes at the next start.
  std::ofstream(dir_ / "lists" / ".123.tmp") << "half a list";
  MailboxViews again(1000, files());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "lists" / ".123.tmp"));
  EXPECT_TRUE(std::filesystem::exists(file()));
  // Without files: the store's list.
  MailboxViews none(1000);
  EXPECT_TRUE((*none.current(*store_, demo_id(), box())->messages)[0].flags.keywords.empty());
}

// A saved list behind the mailbox by more than an eighth of it is saved again once read;
// one less far behind is left as it is (brought up to date in memory each time).
TEST_F(SavedListsTest, AFileFarBehindIsSavedAgain) {
  name_ = "Work";
  ASSERT_TRUE(store_->create_mailbox(demo_id(), name_, store::SpecialUse::none));
  put(16);
  EXPECT_FALSE(fresh_from_the_file());  // read whole, saved
  const auto saved_modseq = [&] {
    std::ifstream in(file(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto saved = decode_saved_list(bytes);
    return saved ? saved->highest_mod_seq : store::ModSeq(0);
  };
  const auto first = saved_modseq();
  put(2);  // 2 changes, 18 messages: not more than an eighth
  EXPECT_FALSE(fresh_from_the_file());
  EXPECT_EQ(saved_modseq(), first);
  put(1);  // 3 changes, 19 messages
  EXPECT_FALSE(fresh_from_the_file());
  EXPECT_EQ(saved_modseq(), store_->mailbox(demo_id(), name_)->highest_mod_seq);
}

TEST_F(SavedListsTest, AFileThatIsNotTheMailboxsListIsReadWholeAndSavedAgain) {
  name_ = "Work";
  ASSERT_TRUE(store_->create_mailbox(demo_id(), name_, store::SpecialUse::none));
  put(6);
  EXPECT_FALSE(fresh_from_the_file());  // read whole, saved
  mark_the_file();
  EXPECT_TRUE(fresh_from_the_file());
  mark_the_file(1);  // newer than the store: a store put back from a backup
  EXPECT_FALSE(fresh_from_the_file());
  mark_the_file();
  EXPECT_TRUE(fresh_from_the_file());  // saved again as the store has it
  mark_the_file(0, true);              // a message fewer than the mailbox has
  EXPECT_FALSE(fresh_from_the_file());
  mark_the_file();
  std::ofstream(file(), std::ios::binary | std::ios::app) << "x";  // damaged
  EXPECT_FALSE(fresh_from_the_file());
  // A mailbox deleted and created again under the same id is another list.
  mark_the_file();
  const auto id = box();
  ASSERT_TRUE(store_->delete_mailbox(demo_id(), name_));
  ASSERT_TRUE(store_->create_mailbox(demo_id(), name_, store::SpecialUse::none));
  ASSERT_EQ(box(), id);
  put(6);
  EXPECT_FALSE(fresh_from_the_file());
  // A mailbox deleted: its file goes once the mailbox is looked for.
  const auto path = file();
  ASSERT_TRUE(std::filesystem::exists(path));
  ASSERT_TRUE(store_->delete_mailbox(demo_id(), name_));
  MailboxViews views(1000, files());
  EXPECT_EQ(views.current(*store_, demo_id(), id).error().kind, store::ErrorKind::not_found);
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace postino::imap
