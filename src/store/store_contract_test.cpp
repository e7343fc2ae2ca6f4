// The store contract: every Store implementation must pass these (STYLE.md example 9).
// They run against SQLite now; a PostgreSQL backend joins the parameter list later.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "store/sqlite/sqlite_store.hpp"
#include "store/text_indexer.hpp"

namespace postino::store {
namespace {

namespace fs = std::filesystem;

struct Backend {
  std::string name;
  std::function<std::unique_ptr<Store>(const fs::path& dir, std::chrono::seconds blob_grace)> open;
};

std::unique_ptr<Store> open_sqlite(const fs::path& dir, std::chrono::seconds grace) {
  SqliteOptions o;
  o.data_dir = dir;
  o.blob_grace = grace;
  o.text_index_quiet = std::chrono::milliseconds(0);
  auto s = open_sqlite_store(o);
  if (!s) throw std::runtime_error(s.error().detail);
  return std::move(*s);
}

class StoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("postino-store-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::remove_all(dir_);
    reopen();
    ASSERT_TRUE(store_->create_domain("example.test"));
    auto id = store_->create_account("demo@example.test", "$y$hash", "");
    ASSERT_TRUE(id) << id.error().detail;
    demo_ = *id;
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void reopen(std::chrono::seconds grace = std::chrono::seconds(3600)) {
    store_.reset();
    store_ = GetParam().open(dir_, grace);
  }
  MailboxInfo box(const std::string& name, AccountId who = AccountId()) {
    auto m = store_->mailbox(who == AccountId() ? demo_ : who, name);
    EXPECT_TRUE(m) << name;
    return m ? *m : MailboxInfo{};
  }
  std::size_t blob_files() {
    std::size_t n = 0;
    for (auto& e : fs::recursive_directory_iterator(dir_ / "blobs")) {
      if (e.is_regular_file() && e.path().parent_path().filename() != "tmp") ++n;
    }
    return n;
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
  AccountId demo_;
};

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
  EXPECT_EQ(blob_files(), 1u);
  ASSERT_TRUE(store_->append(demo_, "Sent", "From: a@b\r\n\r\nshared\r\n", {}));
  EXPECT_EQ(blob_files(), 1u);
  EXPECT_EQ(box("INBOX", *bob).messages, 1);
}

TEST_P(StoreContract, AcceptCommitsLocalCopiesAndTheQueueEntryTogether) {
  Acceptance a;
  a.local_accounts = {demo_};
  a.local_message = "Return-Path: <s@remote.test>\r\nSubject: both\r\n\r\nx\r\n";
  a.remote =
      NewQueueEntry{"s@remote.test", {{"far@away.test", "rfc822;far@away.test", 4}}, "ENV1", 2};
  a.remote_message = "Subject: both\r\n\r\nx\r\n";
  auto accepted = store_->accept(a);
  ASSERT_TRUE(accepted) << accepted.error().detail;
  EXPECT_EQ(accepted->local.size(), 1u);
  EXPECT_EQ(accepted->queue_id.size(), 14u);
  auto queue = store_->list_queue();
  ASSERT_TRUE(queue);
  ASSERT_EQ(queue->size(), 1u);
  const auto& e = (*queue)[0];
  EXPECT_EQ(e.queue_id, accepted->queue_id);
  EXPECT_EQ(e.sender, "s@remote.test");
  ASSERT_EQ(e.recipients.size(), 1u);
  EXPECT_EQ(e.recipients[0].address, "far@away.test");
  EXPECT_EQ(e.recipients[0].notify, 4u);
  EXPECT_EQ(e.size, static_cast<std::int64_t>(a.remote_message.size()));
  EXPECT_EQ(box("INBOX").messages, 1);
  EXPECT_TRUE(store_->fsck(false)->problems.empty());
  // Over quota locally: nothing at all is committed, not even the queue entry.
  ASSERT_TRUE(store_->set_quota("demo@example.test", {1, 0}));
  EXPECT_EQ(store_->accept(a).error().kind, ErrorKind::over_quota);
  EXPECT_EQ(store_->list_queue()->size(), 1u);
  EXPECT_EQ(box("INBOX").messages, 1);
}

// Queues a message for two remote recipients and returns its queue id.
std::string queue_one(Store& store, const std::string& body = "Subject: q\r\n\r\nbody\r\n") {
  Acceptance a;
  a.remote =
      NewQueueEntry{"s@example.test", {{"a@far.test", "", 0}, {"b@far.test", "", 8}}, "E", 2};
  a.remote_message = body;
  auto accepted = store.accept(a);
  EXPECT_TRUE(accepted) << accepted.error().detail;
  return accepted ? accepted->queue_id : "";
}

TEST_P(StoreContract, QueueEntriesAreClaimedOnceAndAttemptsRecordedPerRecipient) {
  const auto id = queue_one(*store_);
  const auto now = SystemClock::now();
  const auto lease = now + std::chrono::seconds(600);
  auto claimed = store_->claim_queue("node-a", now, lease, 10);
  ASSERT_TRUE(claimed) << claimed.error().detail;
  ASSERT_EQ(claimed->size(), 1u);
  const auto& e = (*claimed)[0];
  EXPECT_EQ(e.queue_id, id);
  EXPECT_EQ(e.envid, "E");
  EXPECT_EQ(e.ret, 2);
  EXPECT_EQ(e.claimed_by, "node-a");
  EXPECT_EQ(e.recipients[1].notify, 8u);
  // Claimed: nobody else gets it while the lease lives; after it, another node does.
  EXPECT_TRUE(store_->claim_queue("node-b", now, lease, 10)->empty());
  auto body = store_->open_queued(id);
  ASSERT_TRUE(body);
  char buffer[64];
  const auto n = (*body)->read(buffer, sizeof buffer);
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string(buffer, *n), "Subject: q\r\n\r\nbody\r\n");

  // One recipient delivered, one still pending: the entry stays with its next try.
  QueueAttempt attempt;
  attempt.recipients = {{0, 1, "250 2.0.0 ok"}, {1, 0, "451 4.3.0 later"}};
  attempt.next_attempt = now + std::chrono::seconds(300);
  attempt.delay_warned = true;
  ASSERT_TRUE(store_->finish_attempt(id, "node-a", attempt));
  auto after = store_->queue_entry(id);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->statuses, (std::vector<int>{1, 0}));
  EXPECT_EQ(after->last_replies[1], "451 4.3.0 later");
  EXPECT_EQ(after->attempts, 1);
  EXPECT_TRUE(after->delay_warned);
  EXPECT_EQ(after->claimed_by, "");
  EXPECT_TRUE(store_->claim_queue("node-a", now, lease, 10)->empty()) << "not due yet";
  EXPECT_EQ(store_->claim_queue("node-a", now + std::chrono::seconds(301), lease, 10)->size(), 1u);
  // A next try further ahead than allowed (the clock was set back) is brought in.
  EXPECT_EQ(*store_->clamp_queue(now + std::chrono::seconds(100)), 1u);
  EXPECT_EQ(*store_->clamp_queue(now + std::chrono::seconds(100)), 0u);
  EXPECT_EQ(store_->queue_entry(id)->next_attempt,
            SystemClock::time_point(std::chrono::duration_cast<std::chrono::seconds>(
                (now + std::chrono::seconds(100)).time_since_epoch())));
  // A restarted node gives back its claims.
  EXPECT_EQ(*store_->release_claims("node-a"), 1u);

  // The last recipient decided: the entry and its body are gone.
  attempt.recipients = {{1, 2, "550 5.1.1 no such user"}};
  ASSERT_TRUE(store_->finish_attempt(id, "node-a", attempt));
  EXPECT_EQ(store_->queue_entry(id).error().kind, ErrorKind::not_found);
  EXPECT_EQ(store_->finish_attempt(id, "node-a", attempt).error().kind, ErrorKind::not_found);
  EXPECT_TRUE(store_->list_queue()->empty());
  reopen(std::chrono::seconds(0));
  EXPECT_EQ(blob_files(), 0u);
}

TEST_P(StoreContract, QueueAdministration) {
  const auto id = queue_one(*store_);
  const auto now = SystemClock::now();
  const auto lease = now + std::chrono::seconds(600);
  EXPECT_EQ(*store_->change_queue(id, QueueAction::hold), 1u);
  EXPECT_TRUE(store_->claim_queue("n", now + std::chrono::hours(1), lease, 10)->empty());
  EXPECT_TRUE(store_->queue_entry(id)->is_held);
  EXPECT_EQ(*store_->change_queue(id, QueueAction::release), 1u);
  QueueAttempt later;
  later.next_attempt = now + std::chrono::hours(1);
  ASSERT_EQ(store_->claim_queue("n", now + std::chrono::seconds(1), lease, 10)->size(), 1u);
  ASSERT_TRUE(store_->finish_attempt(id, "n", later));
  EXPECT_TRUE(store_->claim_queue("n", now + std::chrono::seconds(1), lease, 10)->empty());
  EXPECT_EQ(*store_->change_queue("", QueueAction::flush), 1u);
  ASSERT_EQ(store_->claim_queue("n", now + std::chrono::seconds(1), lease, 10)->size(), 1u);
  ASSERT_TRUE(store_->finish_attempt(id, "n", later));
  EXPECT_EQ(*store_->change_queue(id, QueueAction::bounce), 1u);
  auto claimed = store_->claim_queue("n", now + std::chrono::seconds(1), lease, 10);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_TRUE((*claimed)[0].bounce_requested);
  EXPECT_EQ(store_->change_queue("Qnope", QueueAction::hold).error().kind, ErrorKind::not_found);
  EXPECT_EQ(store_->change_queue("", QueueAction::remove).error().kind, ErrorKind::invalid);
  EXPECT_EQ(*store_->change_queue(id, QueueAction::remove), 1u);
  EXPECT_TRUE(store_->list_queue()->empty());
  EXPECT_TRUE(store_->fsck(false)->problems.empty());
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
  auto gone = store_->expunge(demo_, inbox.id, std::nullopt, Store::ExpungeScope::deleted);
  EXPECT_EQ(*gone, (std::vector<Uid>{Uid(2), Uid(4)}));
  auto gone_uid = store_->expunge(demo_, inbox.id, std::vector<Uid>{Uid(1), Uid(9)},
                                  Store::ExpungeScope::listed);
  EXPECT_EQ(*gone_uid, (std::vector<Uid>{Uid(1)}));
  const auto after = box("INBOX");
  EXPECT_EQ(after.messages, 1);
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
  EXPECT_EQ(blob_files(), 2u);  // the copies share the bodies
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
  EXPECT_EQ(blob_files(), 1u);
  reopen(std::chrono::seconds(3600));
  EXPECT_EQ(blob_files(), 1u);  // still within the grace period
  reopen(std::chrono::seconds(0));
  EXPECT_EQ(blob_files(), 0u);
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
  const auto list = *store_->messages(demo_, inbox.id);
  const auto id = list[1].blob_id;
  fs::remove(dir_ / "blobs" / id.substr(0, 2) / id.substr(2, 2) / id);
  std::ofstream(dir_ / "blobs" / "tmp" / "blob.stale") << "x";
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

TEST_P(StoreContract, FullTextSearchFindsSubstringsWithUnicodeCaseFolding) {
  ASSERT_TRUE(store_->append(demo_, "INBOX",
                             "Subject: =?utf-8?q?R=C3=A9sum=C3=A9?=\r\n"
                             "Content-Type: text/plain; charset=iso-8859-1\r\n"
                             "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                             "L'=E9t=E9 \"dernier\" fut chaud=\r\nement\r\n",
                             {}));
  ASSERT_TRUE(store_->append(demo_, "INBOX", "Subject: plain\r\n\r\nnothing here\r\n", {}));
  ASSERT_TRUE(store_->append(demo_, "Archive", "Subject: x\r\n\r\nl'été\r\n", {}));
  const auto inbox = box("INBOX");
  using F = Store::TextField;
  // Saved, but not indexed yet: the search is told to read both.
  auto before = store_->search_text(demo_, inbox.id, F::any, "here");
  ASSERT_TRUE(before);
  EXPECT_TRUE(before->matching.empty());
  EXPECT_EQ(before->unindexed, (std::vector<Uid>{Uid(1), Uid(2)}));
  auto first = store_->index_text(1);  // one message at least, past the byte budget
  EXPECT_EQ(first->indexed, 1u);
  EXPECT_TRUE(first->more_waiting);
  auto rest = store_->index_text(1 << 20);
  EXPECT_EQ(rest->indexed, 2u);
  EXPECT_FALSE(rest->more_waiting);
  EXPECT_EQ(store_->index_text(1 << 20)->indexed, 0u);
  auto uids = [&](F field, std::string_view needle) {
    auto r = store_->search_text(demo_, inbox.id, field, needle);
    EXPECT_TRUE(r) << needle;
    std::vector<std::uint32_t> out;
    if (r) {
      for (auto u : r->matching) out.push_back(u.value);
      EXPECT_TRUE(r->unindexed.empty());
    }
    return out;
  };
  using V = std::vector<std::uint32_t>;
  // Decoded from quoted-printable and ISO-8859-1; É folds to é; the soft line break joins.
  EXPECT_EQ(uids(F::body, "L'ÉTÉ"), V{1});
  EXPECT_EQ(uids(F::body, "chaudement"), V{1});
  EXPECT_EQ(uids(F::body, "\"dernier\""), V{1});  // quotes inside the FTS5 phrase
  EXPECT_EQ(uids(F::body, "résumé"), V{});        // the header is not the body
  EXPECT_EQ(uids(F::any, "RÉSUMÉ"), V{1});        // RFC 2047 decoded, case folded
  EXPECT_EQ(uids(F::header, "subject: plain"), V{2});
  EXPECT_EQ(uids(F::any, "here"), V{2});
  EXPECT_EQ(uids(F::any, "nowhere"), V{});
  EXPECT_EQ(uids(F::any, "AND nothing OR"), V{});  // words, not FTS5 operators
  EXPECT_EQ(store_->search_text(demo_, inbox.id, F::any, "é").error().kind, ErrorKind::invalid);
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

TEST_P(StoreContract, DetailsOfAUidRangeMatchThoseOfEachMessage) {
  for (int i = 0; i < 5; ++i) {
    NewMessage m;
    if (i == 2) m.flags = {flag_seen, {"$Work", "$a"}};
    ASSERT_TRUE(store_->append(
        demo_, "INBOX", "Subject: m" + std::to_string(i) + "\r\nFrom: x@y.test\r\n\r\nb\r\n", m));
  }
  const auto inbox = box("INBOX");
  ASSERT_TRUE(
      store_->expunge(demo_, inbox.id, std::vector<Uid>{Uid(4)}, Store::ExpungeScope::listed));
  auto range = store_->messages_details(demo_, inbox.id, Uid(2), Uid(5));
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
  EXPECT_EQ((*range)[1].info.flags, (Flags{flag_seen, {"$Work", "$a"}}));
  EXPECT_EQ((*range)[2].info.uid, Uid(5));
  auto other = store_->create_account("other@example.test", "$y$hash", "");
  EXPECT_EQ(store_->messages_details(*other, inbox.id, Uid(1), Uid(9)).error().kind,
            ErrorKind::not_found);
}

TEST(SqliteStoreText, MessagesOverTheTextLimitAreLeftForReadingAndRowsGoWithTheirBlob) {
  const auto dir = fs::temp_directory_path() / ("postino-fts-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  SqliteOptions o;
  o.data_dir = dir;
  o.max_indexed_text_bytes = 100;
  o.blob_grace = std::chrono::seconds(0);
  o.text_index_quiet = std::chrono::hours(1);
  {
    auto s = std::move(*open_sqlite_store(o));
    ASSERT_TRUE(s->create_domain("example.test"));
    const auto demo = *s->create_account("demo@example.test", "$y$hash", "");
    ASSERT_TRUE(s->append(demo, "INBOX", "Subject: a\r\n\r\nshort text\r\n", {}));
    ASSERT_TRUE(s->append(demo, "INBOX", "Subject: b\r\n\r\n" + std::string(200, 'x'), {}));
    // A message was saved within the quiet period: the indexer keeps off.
    auto busy = s->index_text(1 << 20);
    EXPECT_TRUE(busy->busy);
    EXPECT_EQ(busy->indexed, 0u);
  }
  o.text_index_quiet = std::chrono::milliseconds(0);
  {
    auto s = std::move(*open_sqlite_store(o));
    const auto demo = s->find_account("demo@example.test")->id;
    const auto inbox = *s->mailbox(demo, "INBOX");
    EXPECT_EQ(s->index_text(1 << 20)->indexed, 2u);
    // The one with too much text is not tried again.
    EXPECT_EQ(s->index_text(1 << 20)->indexed, 0u);
    auto r = s->search_text(demo, inbox.id, Store::TextField::any, "text");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->matching, std::vector<Uid>{Uid(1)});
    EXPECT_EQ(r->unindexed, std::vector<Uid>{Uid(2)});
    ASSERT_TRUE(s->expunge(demo, inbox.id, std::vector<Uid>{Uid(1)}, Store::ExpungeScope::listed));
  }
  auto s = std::move(*open_sqlite_store(o));  // start-up collects the unreferenced blob
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "store.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM blob_text", -1, &q, nullptr);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(q, 0), 0);
  sqlite3_finalize(q);
  sqlite3_close(db);
  s.reset();
  fs::remove_all(dir);
}

TEST(SqliteStoreText, NoIndexAtAllWhenTheLimitIsZero) {
  const auto dir = fs::temp_directory_path() / ("postino-fts0-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  SqliteOptions o;
  o.data_dir = dir;
  o.max_indexed_text_bytes = 0;
  o.text_index_quiet = std::chrono::milliseconds(0);
  auto s = std::move(*open_sqlite_store(o));
  ASSERT_TRUE(s->create_domain("example.test"));
  const auto demo = *s->create_account("demo@example.test", "$y$hash", "");
  ASSERT_TRUE(s->append(demo, "INBOX", "Subject: a\r\n\r\nshort text\r\n", {}));
  auto progress = s->index_text(1 << 20);
  EXPECT_EQ(progress->indexed, 0u);
  EXPECT_FALSE(progress->more_waiting);
  auto r = s->search_text(demo, s->mailbox(demo, "INBOX")->id, Store::TextField::any, "text");
  EXPECT_TRUE(r->matching.empty());
  EXPECT_EQ(r->unindexed, std::vector<Uid>{Uid(1)});  // searched by reading it
  s.reset();
  fs::remove_all(dir);
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

TEST(TextIndexer, IndexesNewMailInTheBackgroundAndStopsPromptly) {
  const auto dir = fs::temp_directory_path() / ("postino-indexer-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  SqliteOptions o;
  o.data_dir = dir;
  o.text_index_quiet = std::chrono::milliseconds(20);
  auto s = std::move(*open_sqlite_store(o));
  ASSERT_TRUE(s->create_domain("example.test"));
  const auto demo = *s->create_account("demo@example.test", "$y$hash", "");
  const auto inbox = s->mailbox(demo, "INBOX")->id;
  {
    // A batch of 1 byte: one message per transaction, the backlog worked off at once.
    TextIndexer indexer(*s, 1, std::chrono::milliseconds(10));
    for (int i = 0; i < 5; ++i)
      ASSERT_TRUE(s->append(demo, "INBOX", "Subject: s\r\n\r\nword" + std::to_string(i), {}));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      auto r = s->search_text(demo, inbox, Store::TextField::body, "word");
      ASSERT_TRUE(r);
      if (r->unindexed.empty()) {
        EXPECT_EQ(r->matching.size(), 5u);
        break;
      }
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the indexer did not catch up";
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }  // the destructor returns once the thread has stopped
  s.reset();
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::Values(Backend{"sqlite", open_sqlite}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace postino::store
