// The store contract: every Store implementation must pass these (STYLE.md example 9).
// They run against SQLite now; a PostgreSQL backend joins the parameter list later.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "mime/imap_envelope.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store_contract.hpp"
#include "store/text_indexer.hpp"

namespace postino::store {
namespace {

namespace fs = std::filesystem;
using test_support::Backend;
using test_support::open_sqlite;
using test_support::open_sqlite_inline;
using test_support::open_sqlite_log;
using test_support::StoreContract;

TEST_P(StoreContract, DomainsAreUniqueAndGuardedWhileInUse) {
  EXPECT_EQ(store_->create_domain("EXAMPLE.test").error().kind, ErrorKind::already_exists);
  EXPECT_EQ(store_->create_domain("bad domain").error().kind, ErrorKind::invalid);
  EXPECT_EQ(store_->delete_domain("example.test").error().kind, ErrorKind::in_use);
  ASSERT_TRUE(store_->create_domain("other.test"));
  EXPECT_EQ(*store_->list_domains(), (std::vector<std::string>{"example.test", "other.test"}));
  EXPECT_TRUE(*store_->is_local_domain("Other.Test"));
  ASSERT_TRUE(store_->delete_domain("other.test"));
  EXPECT_FALSE(*store_->is_local_domain("other.test"));
  EXPECT_EQ(store_->delete_domain("other.test").error().kind, ErrorKind::not_found);
}

TEST_P(StoreContract, AccountsComeWithInboxAndSpecialUseMailboxes) {
  auto boxes = store_->list_mailboxes(demo_);
  ASSERT_TRUE(boxes);
  std::map<std::string, SpecialUse> names;
  for (const auto& b : *boxes) {
    names[b.name] = b.special_use;
    EXPECT_TRUE(b.is_subscribed);
    EXPECT_EQ(b.uid_next, Uid(1));
  }
  EXPECT_EQ(names, (std::map<std::string, SpecialUse>{{"Archive", SpecialUse::archive},
                                                      {"Drafts", SpecialUse::drafts},
                                                      {"INBOX", SpecialUse::none},
                                                      {"Junk", SpecialUse::junk},
                                                      {"Sent", SpecialUse::sent},
                                                      {"Trash", SpecialUse::trash}}));
  auto a = store_->find_account("Demo@Example.Test");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->address, "demo@example.test");
  EXPECT_EQ(a->password_hash, "$y$hash");
  EXPECT_EQ(store_->create_account("demo@example.test", "x", "").error().kind,
            ErrorKind::already_exists);
  EXPECT_EQ(store_->create_account("x@nowhere.test", "x", "").error().kind, ErrorKind::not_found);
  EXPECT_EQ(store_->create_account("not an address", "x", "").error().kind, ErrorKind::invalid);
  ASSERT_TRUE(store_->set_password("demo@example.test", "$y$new", "SCRAM"));
  EXPECT_EQ(store_->find_account("demo@example.test")->scram, "SCRAM");
  EXPECT_EQ(store_->set_password("nobody@example.test", "x", "").error().kind,
            ErrorKind::not_found);
  EXPECT_EQ(store_->list_accounts("example.test")->size(), 1u);
  ASSERT_TRUE(store_->delete_account("demo@example.test"));
  EXPECT_EQ(store_->find_account("demo@example.test").error().kind, ErrorKind::not_found);
  EXPECT_TRUE(store_->list_mailboxes(demo_)->empty());
}

TEST_P(StoreContract, AliasesCatchAllAndSubaddressingResolve) {
  ASSERT_TRUE(store_->create_account("bob@example.test", "x", ""));
  ASSERT_TRUE(store_->create_domain("remote.test"));
  ASSERT_TRUE(store_->delete_domain("remote.test"));
  ASSERT_TRUE(
      store_->create_alias({"team@example.test", {"demo@example.test", "bob@example.test"}}));
  ASSERT_TRUE(
      store_->create_alias({"all@example.test", {"team@example.test", "x@elsewhere.test"}}));
  ASSERT_TRUE(store_->create_alias({"loop1@example.test", {"loop2@example.test"}}));
  ASSERT_TRUE(
      store_->create_alias({"loop2@example.test", {"loop1@example.test", "demo@example.test"}}));
  auto r = store_->resolve("All@Example.test");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->local_accounts, (std::vector<std::string>{"demo@example.test", "bob@example.test"}));
  EXPECT_EQ(r->remote, (std::vector<std::string>{"x@elsewhere.test"}));
  EXPECT_EQ(store_->resolve("loop1@example.test")->local_accounts,
            std::vector<std::string>{"demo@example.test"});
  EXPECT_EQ(store_->resolve("demo+lists@example.test")->local_accounts,
            std::vector<std::string>{"demo@example.test"});
  EXPECT_EQ(store_->resolve("nobody@example.test").error().kind, ErrorKind::not_found);
  EXPECT_EQ(store_->resolve("x@elsewhere.test").error().kind, ErrorKind::invalid);
  ASSERT_TRUE(store_->create_alias({"@example.test", {"bob@example.test"}}));
  EXPECT_EQ(store_->resolve("nobody@example.test")->local_accounts,
            std::vector<std::string>{"bob@example.test"});
  EXPECT_EQ(store_->create_alias({"demo@example.test", {"bob@example.test"}}).error().kind,
            ErrorKind::already_exists);
  EXPECT_EQ(store_->create_account("team@example.test", "x", "").error().kind,
            ErrorKind::already_exists);
  EXPECT_EQ(store_->list_aliases("example.test")->size(), 5u);
  ASSERT_TRUE(store_->delete_alias("@example.test"));
  EXPECT_EQ(store_->delete_alias("@example.test").error().kind, ErrorKind::not_found);
}

TEST_P(StoreContract, AppendAllocatesIncreasingUidsAndModSeqsDurably) {
  const auto inbox = box("INBOX");
  std::vector<SavedMessage> saved;
  for (int i = 0; i < 3; ++i) {
    auto s =
        store_->append(demo_, "inbox", "Subject: " + std::to_string(i) + "\r\n\r\nbody\r\n", {});
    ASSERT_TRUE(s) << s.error().detail;
    saved.push_back(*s);
  }
  EXPECT_EQ(saved[0].uid, Uid(1));
  EXPECT_EQ(saved[2].uid, Uid(3));
  EXPECT_LT(saved[0].mod_seq, saved[1].mod_seq);
  EXPECT_EQ(saved[0].uid_validity, inbox.uid_validity);
  reopen();
  const auto after = box("INBOX");
  EXPECT_EQ(after.uid_next, Uid(4));
  EXPECT_EQ(after.messages, 3);
  EXPECT_EQ(after.unseen, 3);
  EXPECT_EQ(*store_->read_message(demo_, after.id, Uid(2)), "Subject: 1\r\n\r\nbody\r\n");
  EXPECT_EQ(store_->read_message(demo_, after.id, Uid(9)).error().kind, ErrorKind::not_found);
  EXPECT_EQ(store_->append(demo_, "Nope", "x", {}).error().kind, ErrorKind::not_found);
}

TEST_P(StoreContract, StructureAndEnvelopeFieldsAreKeptFromDelivery) {
  const std::string msg =
      "From: Alice <a@x.test>\r\nTo: demo@example.test\r\nSubject: Hello\r\n there\r\n"
      "Message-ID: <m1@x.test>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\n\r\ntext\r\n--b\r\nContent-Type: image/png\r\n\r\nPNG\r\n--b--\r\n";
  ASSERT_TRUE(store_->deliver({demo_}, msg));
  ASSERT_TRUE(store_->store_flags(demo_, box("INBOX").id, {Uid(1)}, Store::FlagChange::add,
                                  {flag_seen, {"work"}}));
  auto d = store_->message_details(demo_, box("INBOX").id, Uid(1));
  ASSERT_TRUE(d) << d.error().detail;
  EXPECT_EQ(d->info.size, static_cast<std::int64_t>(msg.size()));
  EXPECT_EQ(d->info.flags, (Flags{flag_seen, {"work"}}));
  EXPECT_EQ(d->fields.subject, "Hello there");
  EXPECT_EQ(d->fields.from, "Alice <a@x.test>");
  EXPECT_EQ(d->fields.message_id, "<m1@x.test>");
  ASSERT_EQ(d->structure.parts.size(), 3u);
  EXPECT_EQ(d->structure.parts[2].type, "image");
  EXPECT_EQ(msg.substr(d->structure.parts[2].body_offset, d->structure.parts[2].body_size), "PNG");
  EXPECT_EQ(d->structure, mime::parse_structure(msg));
  EXPECT_EQ(store_->message_details(demo_, box("INBOX").id, Uid(2)).error().kind,
            ErrorKind::not_found);
}

TEST_P(StoreContract, OtherAccountsCannotReachYourMailboxes) {
  auto bob = store_->create_account("bob@example.test", "x", "");
  ASSERT_TRUE(bob);
  ASSERT_TRUE(store_->append(demo_, "INBOX", "secret", {}));
  const auto inbox = box("INBOX");
  EXPECT_EQ(store_->messages(*bob, inbox.id).error().kind, ErrorKind::not_found);
  EXPECT_EQ(store_->read_message(*bob, inbox.id, Uid(1)).error().kind, ErrorKind::not_found);
  EXPECT_EQ(
      store_->expunge(*bob, inbox.id, std::nullopt, Store::ExpungeScope::deleted).error().kind,
      ErrorKind::not_found);
  EXPECT_EQ(
      store_->store_flags(*bob, inbox.id, {Uid(1)}, Store::FlagChange::add, {flag_deleted, {}})
          .error()
          .kind,
      ErrorKind::not_found);
  EXPECT_EQ(store_->mailbox(*bob, "../demo@example.test/INBOX").error().kind, ErrorKind::invalid);
}

TEST_P(StoreContract, DeliveryStoresOneBlobForAllRecipients) {
  auto bob = store_->create_account("bob@example.test", "x", "");
  ASSERT_TRUE(bob);
  auto saved = store_->deliver({demo_, *bob}, "From: a@b\r\n\r\nshared\r\n");
  ASSERT_TRUE(saved) << saved.error().detail;
  EXPECT_EQ(saved->size(), 2u);
  EXPECT_EQ(stored_bodies(), 1u);
  ASSERT_TRUE(store_->append(demo_, "Sent", "From: a@b\r\n\r\nshared\r\n", {}));
  EXPECT_EQ(stored_bodies(), 1u);
  EXPECT_EQ(box("INBOX", *bob).messages, 1);
}

TEST_P(StoreContract, QuotaIsEnforcedAllOrNone) {
  auto bob = store_->create_account("bob@example.test", "x", "");
  ASSERT_TRUE(store_->set_quota("bob@example.test", {100, 2}));
  EXPECT_EQ(store_->deliver({demo_, *bob}, std::string(150, 'x')).error().kind,
            ErrorKind::over_quota);
  EXPECT_EQ(box("INBOX").messages, 0);  // nobody got it
  ASSERT_TRUE(store_->append(*bob, "INBOX", "one", {}));
  ASSERT_TRUE(store_->append(*bob, "INBOX", "two", {}));
  EXPECT_EQ(store_->append(*bob, "INBOX", "three", {}).error().kind, ErrorKind::over_quota);
  auto usage = store_->quota_usage(*bob);
  EXPECT_EQ(usage->messages, 2);
  EXPECT_EQ(usage->bytes, 6);
  EXPECT_EQ(usage->quota.max_bytes, 100);
  EXPECT_EQ(store_->set_quota("bob@example.test", {-1, 0}).error().kind, ErrorKind::invalid);
}

TEST_P(StoreContract, ConditionalFlagsLeaveMessagesChangedSinceAlone) {
  for (int i = 0; i < 2; ++i)
    ASSERT_TRUE(store_->append(demo_, "INBOX", "m" + std::to_string(i), {}));
  const auto inbox = box("INBOX");
  const auto before = inbox.highest_mod_seq;
  // Another client flags message 1 after we looked.
  ASSERT_TRUE(
      store_->store_flags(demo_, inbox.id, {Uid(1)}, Store::FlagChange::add, {flag_flagged, {}}));
  auto r = store_->store_flags_unchanged_since(demo_, inbox.id, {Uid(1), Uid(2)},
                                               Store::FlagChange::add, {flag_deleted, {}}, before);
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->modified, (std::vector<Uid>{Uid(1)}));
  ASSERT_EQ(r->changed.size(), 1u);
  EXPECT_EQ(r->changed[0].uid, Uid(2));
  EXPECT_EQ(r->changed[0].flags.system, flag_deleted);
  auto messages = store_->messages(demo_, inbox.id);
  EXPECT_EQ((*messages)[0].flags.system, flag_flagged) << "left alone";
  // What was expunged after a mod-sequence (QRESYNC's VANISHED (EARLIER)).
  const auto before_expunge = box("INBOX").highest_mod_seq;
  EXPECT_TRUE(store_->expunged_since(demo_, inbox.id, before)->empty());
  ASSERT_TRUE(store_->expunge(demo_, inbox.id, std::nullopt, Store::ExpungeScope::deleted));
  EXPECT_EQ(*store_->expunged_since(demo_, inbox.id, before), (std::vector<Uid>{Uid(2)}));
  EXPECT_EQ(*store_->expunged_since(demo_, inbox.id, before_expunge), (std::vector<Uid>{Uid(2)}));
  EXPECT_TRUE(store_->expunged_since(demo_, inbox.id, box("INBOX").highest_mod_seq)->empty());
}

TEST_P(StoreContract, FlagsChangeWithNewModSeqOnlyWhenSomethingChanges) {
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(store_->append(demo_, "INBOX", "m" + std::to_string(i), {}));
  const auto inbox = box("INBOX");
  auto changed = store_->store_flags(demo_, inbox.id, {Uid(1), Uid(2), Uid(77)},
                                     Store::FlagChange::add, {flag_seen, {"$Label1", "work"}});
  ASSERT_TRUE(changed);
  ASSERT_EQ(changed->size(), 2u);
  const auto modseq = (*changed)[0].mod_seq;
  EXPECT_EQ((*changed)[1].mod_seq, modseq);
  EXPECT_GT(modseq, inbox.highest_mod_seq);
  EXPECT_EQ((*changed)[0].flags, (Flags{flag_seen, {"$Label1", "work"}}));
  auto again =
      store_->store_flags(demo_, inbox.id, {Uid(1)}, Store::FlagChange::add, {flag_seen, {}});
  EXPECT_TRUE(again->empty());
  auto removed =
      store_->store_flags(demo_, inbox.id, {Uid(1)}, Store::FlagChange::remove, {0, {"work"}});
  ASSERT_EQ(removed->size(), 1u);
  EXPECT_EQ((*removed)[0].flags, (Flags{flag_seen, {"$Label1"}}));
  EXPECT_GT((*removed)[0].mod_seq, modseq);
  auto replaced = store_->store_flags(demo_, inbox.id, {Uid(2)}, Store::FlagChange::replace,
                                      {flag_flagged, {"o'brien"}});
  EXPECT_EQ((*replaced)[0].flags, (Flags{flag_flagged, {"o'brien"}}));
  auto list = store_->messages(demo_, inbox.id);
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[1].flags, (Flags{flag_flagged, {"o'brien"}}));
  EXPECT_EQ(box("INBOX").unseen, 2);
}

TEST_P(StoreContract, ExpungeRemovesDeletedAndUidNextNeverGoesBack) {
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(store_->append(demo_, "INBOX", "m" + std::to_string(i), {}));
  const auto inbox = box("INBOX");
  ASSERT_TRUE(store_->store_flags(demo_, inbox.id, {Uid(2), Uid(4)}, Store::FlagChange::add,
                                  {flag_deleted, {}}));
  EXPECT_EQ(box("INBOX").deleted, 2);  // IMAP STATUS DELETED
  auto gone = store_->expunge(demo_, inbox.id, std::nullopt, Store::ExpungeScope::deleted);
  EXPECT_EQ(*gone, (std::vector<Uid>{Uid(2), Uid(4)}));
  auto gone_uid = store_->expunge(demo_, inbox.id, std::vector<Uid>{Uid(1), Uid(9)},
                                  Store::ExpungeScope::listed);
  EXPECT_EQ(*gone_uid, (std::vector<Uid>{Uid(1)}));
  const auto after = box("INBOX");
  EXPECT_EQ(after.messages, 1);
  EXPECT_EQ(after.deleted, 0);
  EXPECT_EQ(after.uid_next, Uid(5));
  auto next = store_->append(demo_, "INBOX", "new", {});
  EXPECT_EQ(next->uid, Uid(5));
  EXPECT_EQ(store_->quota_usage(demo_)->messages, 2);
  // UID EXPUNGE (RFC 4315): of the listed UIDs, only those flagged \Deleted go.
  ASSERT_TRUE(
      store_->store_flags(demo_, inbox.id, {Uid(5)}, Store::FlagChange::add, {flag_deleted, {}}));
  auto scoped = store_->expunge(demo_, inbox.id, std::vector<Uid>{Uid(3), Uid(5)},
                                Store::ExpungeScope::deleted);
  EXPECT_EQ(*scoped, (std::vector<Uid>{Uid(5)}));
  EXPECT_EQ(box("INBOX").messages, 1);
}

TEST_P(StoreContract, CopyAndMoveKeepFlagsAndShareTheBody) {
  ASSERT_TRUE(store_->append(demo_, "INBOX", "one", {{flag_flagged, {"work"}}, std::nullopt}));
  ASSERT_TRUE(store_->append(demo_, "INBOX", "two", {}));
  const auto inbox = box("INBOX");
  auto copied = store_->copy_messages(demo_, inbox.id, {Uid(1), Uid(9), Uid(2)}, "Archive", false);
  ASSERT_TRUE(copied) << copied.error().detail;
  EXPECT_EQ(*copied, (std::vector<std::pair<Uid, Uid>>{{Uid(1), Uid(1)}, {Uid(2), Uid(2)}}));
  const auto archive = box("Archive");
  EXPECT_EQ((*store_->messages(demo_, archive.id))[0].flags, (Flags{flag_flagged, {"work"}}));
  EXPECT_EQ(stored_bodies(), 2u);  // the copies share the bodies
  EXPECT_EQ(store_->quota_usage(demo_)->messages, 4);
  auto moved = store_->copy_messages(demo_, inbox.id, {Uid(2)}, "Trash", true);
  ASSERT_TRUE(moved);
  EXPECT_EQ(box("INBOX").messages, 1);
  EXPECT_EQ(box("Trash").messages, 1);
  EXPECT_EQ(*store_->read_message(demo_, box("Trash").id, Uid(1)), "two");
  EXPECT_EQ(store_->quota_usage(demo_)->messages, 4);
  EXPECT_EQ(store_->copy_messages(demo_, inbox.id, {Uid(1)}, "Nope", false).error().kind,
            ErrorKind::not_found);
  EXPECT_TRUE(store_->fsck(false)->problems.empty());
}

TEST_P(StoreContract, UnreferencedBlobsAreCollectedAfterTheGracePeriod) {
  ASSERT_TRUE(store_->append(demo_, "INBOX", "short-lived", {}));
  const auto inbox = box("INBOX");
  ASSERT_TRUE(
      store_->expunge(demo_, inbox.id, std::vector<Uid>{Uid(1)}, Store::ExpungeScope::listed));
  EXPECT_EQ(stored_bodies(), 1u);
  reopen(std::chrono::seconds(3600));
  EXPECT_EQ(stored_bodies(), 1u);  // still within the grace period
  reopen(std::chrono::seconds(0));
  EXPECT_EQ(stored_bodies(), 0u);
  // The same content saved again after collection is stored afresh.
  ASSERT_TRUE(store_->append(demo_, "INBOX", "short-lived", {}));
  EXPECT_EQ(*store_->read_message(demo_, inbox.id, Uid(2)), "short-lived");
}

TEST_P(StoreContract, MailboxHierarchyRenameAndDelete) {
  auto created = store_->create_mailbox(demo_, "Work/2026/Q4");
  ASSERT_TRUE(created) << created.error().detail;
  EXPECT_TRUE(store_->mailbox(demo_, "Work"));
  EXPECT_TRUE(store_->mailbox(demo_, "Work/2026"));
  EXPECT_EQ(store_->create_mailbox(demo_, "Work").error().kind, ErrorKind::already_exists);
  for (auto bad : {"../x", "a//b", "/etc", "~root", "a/./b"}) {
    EXPECT_EQ(store_->create_mailbox(demo_, bad).error().kind, ErrorKind::invalid) << bad;
  }
  EXPECT_EQ(store_->delete_mailbox(demo_, "Work").error().kind, ErrorKind::in_use);
  ASSERT_TRUE(store_->append(demo_, "Work/2026/Q4", "report", {}));
  const auto validity = box("Work/2026/Q4").uid_validity;
  ASSERT_TRUE(store_->rename_mailbox(demo_, "Work", "Archive/Work"));
  EXPECT_FALSE(store_->mailbox(demo_, "Work"));
  const auto moved = box("Archive/Work/2026/Q4");
  EXPECT_EQ(moved.messages, 1);
  EXPECT_EQ(moved.uid_validity, validity);
  EXPECT_EQ(store_->rename_mailbox(demo_, "Sent", "Drafts").error().kind,
            ErrorKind::already_exists);
  EXPECT_EQ(store_->rename_mailbox(demo_, "Archive", "Archive/Sub").error().kind,
            ErrorKind::invalid);
  EXPECT_EQ(store_->delete_mailbox(demo_, "inbox").error().kind, ErrorKind::invalid);
  ASSERT_TRUE(store_->delete_mailbox(demo_, "Archive/Work/2026/Q4"));
  EXPECT_EQ(store_->quota_usage(demo_)->messages, 0);
  ASSERT_TRUE(store_->set_subscribed(demo_, "Archive/Work", false));
  EXPECT_FALSE(box("Archive/Work").is_subscribed);
}

TEST_P(StoreContract, RenamingInboxMovesItsMessagesAndKeepsInbox) {
  ASSERT_TRUE(store_->append(demo_, "INBOX", "a", {}));
  ASSERT_TRUE(store_->append(demo_, "INBOX", "b", {}));
  ASSERT_TRUE(store_->rename_mailbox(demo_, "INBOX", "Old"));
  EXPECT_EQ(box("INBOX").messages, 0);
  const auto old = box("Old");
  EXPECT_EQ(old.messages, 2);
  EXPECT_EQ(*store_->read_message(demo_, old.id, Uid(2)), "b");
  EXPECT_EQ(store_->quota_usage(demo_)->messages, 2);
}

TEST_P(StoreContract, RecreatedMailboxGetsANewUidValidity) {
  ASSERT_TRUE(store_->create_mailbox(demo_, "X"));
  const auto first = box("X").uid_validity;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->append(demo_, "X", "m", {}));
  ASSERT_TRUE(store_->delete_mailbox(demo_, "X"));
  ASSERT_TRUE(store_->create_mailbox(demo_, "X"));
  EXPECT_GT(box("X").uid_validity, first);
  EXPECT_EQ(box("X").uid_next, Uid(1));
}

TEST_P(StoreContract, HostileNamesAreStoredLiterally) {
  const std::string evil = "x'); DELETE FROM mailboxes;--";
  ASSERT_TRUE(store_->create_mailbox(demo_, evil));
  EXPECT_EQ(box(evil).name, evil);
  EXPECT_EQ(store_->list_mailboxes(demo_)->size(), 7u);
  EXPECT_EQ(store_->find_account("demo'--@example.test").error().kind, ErrorKind::not_found);
}

TEST_P(StoreContract, ConcurrentWritersGetUniqueUidsAndReadersKeepGoing) {
  const int threads = 8, each = 40;
  std::vector<std::thread> pool;
  std::mutex mutex;
  std::set<std::uint32_t> uids;
  std::atomic<bool> reading{true};
  std::thread reader([&] {
    while (reading) EXPECT_TRUE(store_->list_mailboxes(demo_));
  });
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < each; ++i) {
        auto s =
            store_->append(demo_, "INBOX", "m" + std::to_string(t) + "-" + std::to_string(i), {});
        ASSERT_TRUE(s) << s.error().detail;
        std::lock_guard lock(mutex);
        EXPECT_TRUE(uids.insert(s->uid.value).second);
      }
    });
  }
  for (auto& th : pool) th.join();
  reading = false;
  reader.join();
  EXPECT_EQ(uids.size(), static_cast<std::size_t>(threads * each));
  EXPECT_EQ(*uids.rbegin(), static_cast<std::uint32_t>(threads * each));
  EXPECT_EQ(box("INBOX").uid_next, Uid(threads * each + 1));
  auto report = store_->fsck(false);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
}

TEST_P(StoreContract, FsckFindsAndRepairsDamage) {
  ASSERT_TRUE(store_->append(demo_, "INBOX", "keep me", {}));
  ASSERT_TRUE(store_->append(demo_, "INBOX", "lose me", {}));
  auto clean = store_->fsck(false);
  ASSERT_TRUE(clean);
  EXPECT_TRUE(clean->problems.empty());
  EXPECT_EQ(clean->messages, 2u);
  // Delete the second message's blob behind the store's back.
  const auto inbox = box("INBOX");
  const auto id = test_support::blob_id_of("lose me");
  remove_body(id);
  std::ofstream(dir_ / "blobs" / "tmp" / "blob.stale") << "x";
  // The message is still there, its body is not: damage, not an expunge (IMAP answers
  // NO [SERVERBUG] rather than EXPUNGEISSUED).
  EXPECT_EQ(store_->open_message(demo_, inbox.id, Uid(2)).error().kind, ErrorKind::corrupt);
  EXPECT_EQ(store_->read_message(demo_, inbox.id, Uid(2)).error().kind, ErrorKind::corrupt);
  EXPECT_EQ(store_->read_message(demo_, inbox.id, Uid(9)).error().kind, ErrorKind::not_found);
  auto report = store_->fsck(false);
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_NE(report->problems[0].find("missing"), std::string::npos);
  auto repaired = store_->fsck(true);
  ASSERT_TRUE(repaired);
  EXPECT_FALSE(repaired->repairs.empty());
  EXPECT_TRUE(store_->fsck(false)->problems.empty());
  EXPECT_EQ(box("INBOX").messages, 1);
  EXPECT_EQ(*store_->read_message(demo_, inbox.id, Uid(1)), "keep me");
  reopen();  // start-up recovery removes the stray temporary file
  EXPECT_FALSE(fs::exists(dir_ / "blobs" / "tmp" / "blob.stale"));
}

TEST_P(StoreContract, ALockHeldElsewhereGivesATemporaryErrorNotALoss) {
  // RELIABILITY F03: another process holds the database; the save fails as temporary
  // (SMTP 451) once the busy timeout passes, and works again when the lock is gone.
  store_.reset();
  SqliteOptions o;
  o.data_dir = dir_;
  o.busy_timeout = std::chrono::milliseconds(300);
  store_ = std::move(*open_sqlite_store(o));
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "store.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto blocked = store_->append(demo_, "INBOX", "during the lock", {});
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().kind, ErrorKind::temporary);
  sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  auto saved = store_->append(demo_, "INBOX", "after the lock", {});
  ASSERT_TRUE(saved) << saved.error().detail;
  EXPECT_EQ(saved->uid, Uid(1));  // the failed save took no UID
  EXPECT_TRUE(store_->fsck(false)->problems.empty());
}

TEST_P(StoreContract, RefusesASchemaNewerThanItKnows) {
  store_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "store.db").c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "PRAGMA user_version = 999", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  SqliteOptions o;
  o.data_dir = dir_;
  auto s = open_sqlite_store(o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::corrupt);
  EXPECT_NE(s.error().detail.find("newer"), std::string::npos);
}

TEST_P(StoreContract, EnvelopeFieldsOfAWholeMailboxInUidOrder) {
  ASSERT_TRUE(store_->append(demo_, "INBOX", "From: a@x.test\r\nSubject: one\r\n\r\n", {}));
  ASSERT_TRUE(store_->append(demo_, "INBOX", "Subject: two\r\nDate: Tue, 1 Dec 2026\r\n\r\n", {}));
  ASSERT_TRUE(store_->append(demo_, "Archive", "Subject: elsewhere\r\n\r\n", {}));
  auto fields = store_->envelope_fields(demo_, box("INBOX").id);
  ASSERT_TRUE(fields);
  ASSERT_EQ(fields->size(), 2u);
  EXPECT_EQ((*fields)[0].first, Uid(1));
  EXPECT_EQ((*fields)[0].second.from, "a@x.test");
  EXPECT_EQ((*fields)[0].second.subject, "one");
  EXPECT_EQ((*fields)[1].second.subject, "two");
  EXPECT_EQ((*fields)[1].second.date, "Tue, 1 Dec 2026");
  auto other = store_->create_account("other@example.test", "$y$hash", "");
  EXPECT_EQ(store_->envelope_fields(*other, box("INBOX").id).error().kind, ErrorKind::not_found);
}

// Those of some UIDs: in UID order, each once, none of a UID not in the mailbox; enough of
// them (40) that the SQLite store reads their pages ahead, which changes nothing.
TEST_P(StoreContract, EnvelopeFieldsOfSomeMessages) {
  for (int i = 1; i <= 60; ++i) {
    ASSERT_TRUE(store_->append(demo_, "INBOX", "Subject: s" + std::to_string(i) + "\r\n\r\n", {}));
  }
  ASSERT_TRUE(store_->append(demo_, "Archive", "Subject: elsewhere\r\n\r\n", {}));
  const auto inbox = box("INBOX").id;
  ASSERT_TRUE(store_->expunge(demo_, inbox, std::vector<Uid>{Uid(4)}, Store::ExpungeScope::listed));
  std::vector<Uid> asked = {Uid(2), Uid(2), Uid(4), Uid(61), Uid(1000)};
  for (std::uint32_t u = 21; u <= 60; ++u) asked.emplace_back(u);
  auto few = store_->envelope_fields(demo_, inbox, {Uid(60), Uid(3)});
  ASSERT_TRUE(few) << few.error().detail;
  ASSERT_EQ(few->size(), 2u);
  EXPECT_EQ((*few)[0].first, Uid(3));
  EXPECT_EQ((*few)[0].second.subject, "s3");
  EXPECT_EQ((*few)[1].second.subject, "s60");
  auto many = store_->envelope_fields(demo_, inbox, asked);
  ASSERT_TRUE(many) << many.error().detail;
  ASSERT_EQ(many->size(), 41u);  // 2 and 21 to 60
  EXPECT_EQ((*many)[0].first, Uid(2));
  for (std::size_t i = 1; i < many->size(); ++i) {
    EXPECT_EQ((*many)[i].first, Uid(static_cast<std::uint32_t>(20 + i)));
    EXPECT_EQ((*many)[i].second.subject, "s" + std::to_string(20 + i));
  }
  EXPECT_TRUE(store_->envelope_fields(demo_, inbox, {})->empty());
  auto other = store_->create_account("other@example.test", "$y$hash", "");
  EXPECT_EQ(store_->envelope_fields(*other, inbox, asked).error().kind, ErrorKind::not_found);
}

TEST_P(StoreContract, DetailsOfAUidRangeMatchThoseOfEachMessage) {
  for (int i = 0; i < 5; ++i) {
    NewMessage m;
    if (i == 2) m.flags = {flag_seen, {"$Work", "$a"}};
    if (i == 1 || i == 4) m.flags = {0, {"$k" + std::to_string(i)}};  // the range's ends
    ASSERT_TRUE(store_->append(
        demo_, "INBOX", "Subject: m" + std::to_string(i) + "\r\nFrom: x@y.test\r\n\r\nb\r\n", m));
  }
  const auto inbox = box("INBOX");
  ASSERT_TRUE(
      store_->expunge(demo_, inbox.id, std::vector<Uid>{Uid(4)}, Store::ExpungeScope::listed));
  auto range = store_->messages_details(demo_, inbox.id, Uid(2), Uid(5), Store::DetailParts::all);
  ASSERT_TRUE(range);
  ASSERT_EQ(range->size(), 3u);  // 2, 3 and 5
  for (const auto& d : *range) {
    auto one = store_->message_details(demo_, inbox.id, d.info.uid);
    ASSERT_TRUE(one);
    EXPECT_EQ(d.info.flags, one->info.flags);
    EXPECT_EQ(d.info.size, one->info.size);
    EXPECT_EQ(d.structure, one->structure);
    EXPECT_EQ(d.fields.subject, one->fields.subject);
  }
  EXPECT_EQ((*range)[0].info.flags, (Flags{0, {"$k1"}}));
  EXPECT_EQ((*range)[1].info.flags, (Flags{flag_seen, {"$Work", "$a"}}));
  EXPECT_EQ((*range)[2].info.flags, (Flags{0, {"$k4"}}));
  EXPECT_EQ((*range)[2].info.uid, Uid(5));
  // Only the ENVELOPE (FETCH ENVELOPE): as formatted at delivery, nothing else read.
  auto envelopes =
      store_->messages_details(demo_, inbox.id, Uid(2), Uid(5), Store::DetailParts::envelope);
  ASSERT_TRUE(envelopes);
  ASSERT_EQ(envelopes->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& e = (*envelopes)[i];
    EXPECT_TRUE(e.structure.parts.empty());
    EXPECT_FALSE((*range)[i].structure.parts.empty());
    EXPECT_EQ(e.fields, mime::EnvelopeFields{});
    EXPECT_EQ(e.envelope, mime::format_imap_envelope((*range)[i].fields));
    EXPECT_EQ(e.envelope, (*range)[i].envelope);
    EXPECT_EQ(e.info.uid, (*range)[i].info.uid);
    EXPECT_EQ(e.info.size, (*range)[i].info.size);
  }
  EXPECT_EQ((*envelopes)[0].envelope,
            "(NIL \"m1\" ((NIL NIL \"x\" \"y.test\")) ((NIL NIL \"x\" \"y.test\")) "
            "((NIL NIL \"x\" \"y.test\")) NIL NIL NIL NIL NIL)");
  auto other = store_->create_account("other@example.test", "$y$hash", "");
  EXPECT_EQ(store_->messages_details(*other, inbox.id, Uid(1), Uid(9), Store::DetailParts::all)
                .error()
                .kind,
            ErrorKind::not_found);
}

TEST(SqliteStoreNotifier, EveryCommittedChangeToAMailboxIsAnnounced) {
  const auto dir = fs::temp_directory_path() / ("postino-notify-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  LocalNotifier notifier;
  SqliteOptions o;
  o.data_dir = dir;
  o.notifier = &notifier;
  auto s = std::move(*open_sqlite_store(o));
  ASSERT_TRUE(s->create_domain("example.test"));
  const auto demo = *s->create_account("demo@example.test", "$y$hash", "");
  const auto inbox = s->mailbox(demo, "INBOX")->id;
  std::atomic<int> calls{0};
  const auto token = notifier.subscribe(inbox, [&] { ++calls; });
  ASSERT_TRUE(s->deliver({demo}, "Subject: 1\r\n\r\nx\r\n"));
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(s->append(demo, "Sent", "Subject: 2\r\n\r\nx\r\n", {}));
  EXPECT_EQ(calls, 1) << "another mailbox";
  ASSERT_TRUE(s->append(demo, "INBOX", "Subject: 3\r\n\r\nx\r\n", {}));
  EXPECT_EQ(calls, 2);
  Flags deleted;
  deleted.system = flag_deleted;
  ASSERT_TRUE(s->store_flags(demo, inbox, {Uid(1)}, Store::FlagChange::add, deleted));
  EXPECT_EQ(calls, 3);
  ASSERT_TRUE(s->store_flags(demo, inbox, {Uid(1)}, Store::FlagChange::add, deleted));
  EXPECT_EQ(calls, 3) << "nothing changed";
  ASSERT_TRUE(s->copy_messages(demo, inbox, {Uid(2)}, "Archive", true));
  EXPECT_EQ(calls, 4) << "moved out";
  ASSERT_TRUE(s->expunge(demo, inbox, std::nullopt, Store::ExpungeScope::listed));
  EXPECT_EQ(calls, 5);
  notifier.unsubscribe(token);
  ASSERT_TRUE(s->deliver({demo}, "Subject: 4\r\n\r\nx\r\n"));
  EXPECT_EQ(calls, 5);
  s.reset();
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract,
                         ::testing::Values(Backend{"sqlite", open_sqlite},
                                           Backend{"sqlite_inline", open_sqlite_inline},
                                           Backend{"sqlite_log", open_sqlite_log}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace postino::store
