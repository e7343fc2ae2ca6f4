// A mailbox's counts kept in its row, and what changed in it since a mod-sequence
// (Store::changes_since): what IMAP sessions and the cached views of big mailboxes are
// brought up to date with.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "mime/imap_envelope.hpp"
#include "store/store_contract.hpp"

namespace postino::store {
namespace {

using test_support::StoreContract;

std::vector<std::uint32_t> uids_of(const std::vector<MessageInfo>& list) {
  std::vector<std::uint32_t> out;
  for (const auto& m : list) out.push_back(m.uid.value);
  return out;
}

// What every count must be: added up from the messages themselves.
void expect_counts_match_messages(Store& store, AccountId account, const MailboxInfo& box) {
  auto list = store.messages(account, box.id);
  ASSERT_TRUE(list);
  std::int64_t unseen = 0, bytes = 0, deleted = 0;
  for (const auto& m : *list) {
    unseen += !(m.flags.system & flag_seen);
    deleted += (m.flags.system & flag_deleted) != 0;
    bytes += m.size;
  }
  EXPECT_EQ(box.messages, static_cast<std::int64_t>(list->size())) << box.name;
  EXPECT_EQ(box.unseen, unseen) << box.name;
  EXPECT_EQ(box.bytes, bytes) << box.name;
  EXPECT_EQ(box.deleted, deleted) << box.name;
}

TEST_P(StoreContract, MailboxCountsFollowEveryKindOfChange) {
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(store_->append(demo_, "INBOX", std::string(10 + i, 'x'), {}));
  ASSERT_TRUE(store_->append(demo_, "INBOX", "seen", {{flag_seen | flag_deleted, {}}, {}}));
  auto inbox = box("INBOX");
  EXPECT_EQ(inbox.messages, 6);
  EXPECT_EQ(inbox.unseen, 5);
  EXPECT_EQ(inbox.bytes, 10 + 11 + 12 + 13 + 14 + 4);
  EXPECT_EQ(inbox.deleted, 1);
  ASSERT_TRUE(store_->store_flags(demo_, inbox.id, {Uid(1), Uid(2)}, Store::FlagChange::add,
                                  {flag_seen | flag_deleted, {"$label"}}));
  ASSERT_TRUE(
      store_->store_flags(demo_, inbox.id, {Uid(6)}, Store::FlagChange::remove, {flag_seen, {}}));
  ASSERT_TRUE(store_->copy_messages(demo_, inbox.id, {Uid(3)}, "Archive", false));
  ASSERT_TRUE(store_->copy_messages(demo_, inbox.id, {Uid(1), Uid(4)}, "Trash", true));
  ASSERT_TRUE(store_->expunge(demo_, inbox.id, std::nullopt, Store::ExpungeScope::deleted));
  ASSERT_TRUE(store_->deliver({demo_}, "delivered"));
  ASSERT_TRUE(store_->rename_mailbox(demo_, "Archive", "Old"));
  for (const auto& name : {"INBOX", "Old", "Trash", "Sent"}) {
    SCOPED_TRACE(name);
    expect_counts_match_messages(*store_, demo_, box(name));
  }
  EXPECT_EQ(box("INBOX").messages, 3);  // 3, 5 and the delivered one
  EXPECT_EQ(box("Trash").deleted, 1);   // UID 1 moved with its \Deleted
  // Renaming INBOX moves its messages into the new mailbox (and INBOX is empty again):
  // for INBOX they are expunged, as a MOVE out would have them.
  const auto known = box("INBOX").highest_mod_seq;
  std::vector<Uid> were;
  for (const auto& m : *store_->messages(demo_, box("INBOX").id)) were.push_back(m.uid);
  ASSERT_TRUE(store_->rename_mailbox(demo_, "INBOX", "Before"));
  auto gone = store_->changes_since(demo_, box("INBOX").id, known);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->expunged, were);
  EXPECT_TRUE(gone->changed.empty());
  expect_counts_match_messages(*store_, demo_, box("INBOX"));
  expect_counts_match_messages(*store_, demo_, box("Before"));
  EXPECT_EQ(box("Before").messages, 3);
  EXPECT_TRUE(store_->fsck(false)->problems.empty());
}

// STORE, COPY and MOVE of many messages (more than a batch takes: a transaction of their
// own, a few statements for all of them): each message gets what one at a time would give
// it, asked-for UIDs twice or missing included, and the counts and usage follow.
TEST_P(StoreContract, ManyMessagesAreFlaggedCopiedAndMovedAtOnce) {
  constexpr std::uint32_t n = 100;
  constexpr std::int64_t total = n;
  std::int64_t bytes = 0;
  for (std::uint32_t i = 1; i <= n; ++i) {
    const auto body = "message " + std::to_string(i);
    bytes += static_cast<std::int64_t>(body.size());
    const Flags flags = i % 2 ? Flags{flag_seen, {"$old"}} : Flags{};
    ASSERT_TRUE(store_->append(demo_, "INBOX", body, {flags, std::nullopt}));
  }
  const auto inbox = box("INBOX");
  std::vector<Uid> all;
  for (std::uint32_t i = 1; i <= n; ++i) all.push_back(Uid(i));
  auto asked = all;
  asked.push_back(Uid(n));    // twice
  asked.push_back(Uid(500));  // none such
  auto flags_of = [&](const std::string& name) {
    std::vector<Flags> out;
    for (const auto& m : *store_->messages(demo_, box(name).id)) out.push_back(m.flags);
    return out;
  };

  auto added =
      store_->store_flags(demo_, inbox.id, asked, Store::FlagChange::add, {flag_flagged, {"$new"}});
  ASSERT_TRUE(added) << added.error().detail;
  ASSERT_EQ(added->size(), n);
  const auto after_add = flags_of("INBOX");
  for (std::uint32_t i = 1; i <= n; ++i) {
    const auto& c = (*added)[i - 1];
    EXPECT_EQ(c.uid, Uid(i));
    EXPECT_EQ(c.mod_seq, (*added)[0].mod_seq);
    EXPECT_EQ(c.flags, i % 2 ? Flags({flag_seen | flag_flagged, {"$new", "$old"}})
                             : Flags({flag_flagged, {"$new"}}));
    EXPECT_EQ(after_add[i - 1], c.flags) << i;
  }
  EXPECT_GT((*added)[0].mod_seq, inbox.highest_mod_seq);
  EXPECT_EQ(box("INBOX").highest_mod_seq, (*added)[0].mod_seq);
  auto removed = store_->store_flags(demo_, inbox.id, asked, Store::FlagChange::remove,
                                     {flag_seen, {"$old", "$never"}});
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->size(), n / 2);  // the odd ones; the even had neither
  auto replaced = std::vector<Uid>(all.begin(), all.begin() + 80);
  replaced.push_back(Uid(3));
  auto set = store_->store_flags(demo_, inbox.id, replaced, Store::FlagChange::replace,
                                 {flag_deleted, {"z"}});
  ASSERT_TRUE(set);
  EXPECT_EQ(set->size(), 80u);
  auto now = flags_of("INBOX");
  for (std::uint32_t i = 1; i <= n; ++i) {
    EXPECT_EQ(now[i - 1], i <= 80 ? Flags({flag_deleted, {"z"}}) : Flags({flag_flagged, {"$new"}}))
        << i;
  }
  EXPECT_EQ(box("INBOX").deleted, 80);
  EXPECT_EQ(box("INBOX").unseen, total);
  expect_counts_match_messages(*store_, demo_, box("INBOX"));

  auto copied = store_->copy_messages(demo_, inbox.id, asked, "Archive", false);
  ASSERT_TRUE(copied) << copied.error().detail;
  ASSERT_EQ(copied->size(), n);
  for (std::uint32_t i = 1; i <= n; ++i)
    EXPECT_EQ((*copied)[i - 1], std::make_pair(Uid(i), Uid(i)));
  EXPECT_EQ(flags_of("Archive"), flags_of("INBOX"));
  EXPECT_EQ(box("Archive").uid_next, Uid(n + 1));
  const auto archived = *store_->messages(demo_, box("Archive").id);
  EXPECT_EQ(archived.front().mod_seq, archived.back().mod_seq);  // one MODSEQ for the COPY
  EXPECT_EQ(*store_->read_message(demo_, box("Archive").id, Uid(42)), "message 42");
  expect_counts_match_messages(*store_, demo_, box("Archive"));
  EXPECT_EQ(store_->quota_usage(demo_)->messages, 2 * total);
  EXPECT_EQ(store_->quota_usage(demo_)->bytes, 2 * bytes);
  // A copy past the quota copies nothing.
  ASSERT_TRUE(store_->set_quota("demo@example.test", {0, 2 * total + 99}));
  EXPECT_EQ(store_->copy_messages(demo_, inbox.id, all, "Archive", false).error().kind,
            ErrorKind::over_quota);
  EXPECT_EQ(box("Archive").messages, total);
  ASSERT_TRUE(store_->set_quota("demo@example.test", {0, 0}));

  const auto before_move = box("INBOX").highest_mod_seq;
  auto moved_uids = std::vector<Uid>(all.begin() + 30, all.end());
  moved_uids.push_back(Uid(31));
  auto moved = store_->copy_messages(demo_, inbox.id, moved_uids, "Trash", true);
  ASSERT_TRUE(moved) << moved.error().detail;
  ASSERT_EQ(moved->size(), 70u);
  EXPECT_EQ(moved->front(), std::make_pair(Uid(31), Uid(1)));
  EXPECT_EQ(moved->back(), std::make_pair(Uid(n), Uid(70)));
  EXPECT_EQ(box("INBOX").messages, 30);
  EXPECT_EQ(box("Trash").messages, 70);
  EXPECT_EQ(flags_of("Trash").front(), Flags({flag_deleted, {"z"}}));
  EXPECT_EQ(flags_of("Trash").back(), Flags({flag_flagged, {"$new"}}));
  EXPECT_EQ(*store_->read_message(demo_, box("Trash").id, Uid(70)), "message 100");
  auto gone = store_->changes_since(demo_, inbox.id, before_move);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->expunged, std::vector<Uid>(all.begin() + 30, all.end()));
  EXPECT_EQ(store_->mailbox_summary(demo_, "Trash")->keywords,
            (std::vector<std::string>{"$new", "z"}));
  for (const auto& name : {"INBOX", "Archive", "Trash"})
    expect_counts_match_messages(*store_, demo_, box(name));
  EXPECT_EQ(store_->quota_usage(demo_)->messages, 2 * total);
  auto report = store_->fsck(false);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
}

TEST_P(StoreContract, FsckFindsAndRepairsWrongMailboxCounts) {
  ASSERT_TRUE(store_->append(demo_, "INBOX", "one", {}));
  store_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "store.db").c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "UPDATE mailboxes SET unseen_count = 7 WHERE name = 'INBOX'", nullptr, nullptr,
                 nullptr);
    sqlite3_close(db);
  }
  reopen();
  auto report = store_->fsck(false);
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_NE(report->problems[0].find("(INBOX): its message counts are wrong"), std::string::npos);
  ASSERT_TRUE(store_->fsck(true));
  EXPECT_EQ(box("INBOX").unseen, 1);
  EXPECT_TRUE(store_->fsck(false)->problems.empty());
}

TEST_P(StoreContract, KeywordsAreListedAlikeWhetherFewOrManyAreStored) {
  // Big: five messages, one keyword row in the whole store at first (fewer rows than
  // messages: every row is read); Small: one message with three (the store then holds
  // four rows for a mailbox of one: its messages are looked up instead).
  ASSERT_TRUE(store_->create_mailbox(demo_, "Big"));
  ASSERT_TRUE(store_->create_mailbox(demo_, "Small"));
  for (int i = 0; i < 5; ++i) {
    NewMessage m;
    if (i == 3) m.flags.keywords = {"$Label1"};
    ASSERT_TRUE(store_->append(demo_, "Big", "m" + std::to_string(i), m));
  }
  NewMessage many;
  many.flags.keywords = {"zeta", "alpha", "$Junk"};
  ASSERT_TRUE(store_->append(demo_, "Small", "many", many));
  auto keywords_of = [&](const std::string& name) {
    std::vector<std::vector<std::string>> out;
    const auto listed = store_->messages(demo_, box(name).id);
    const auto changes = store_->changes_since(demo_, box(name).id, ModSeq(0));
    EXPECT_TRUE(listed && changes);
    if (!listed || !changes) return out;
    EXPECT_EQ(listed->size(), changes->changed.size());
    for (std::size_t i = 0; i < listed->size(); ++i) {
      out.push_back((*listed)[i].flags.keywords);
      EXPECT_EQ((*listed)[i].flags.keywords, changes->changed[i].flags.keywords) << name << i;
    }
    return out;
  };
  using Keywords = std::vector<std::vector<std::string>>;
  EXPECT_EQ(keywords_of("Big"), (Keywords{{}, {}, {}, {"$Label1"}, {}}));
  EXPECT_EQ(keywords_of("Small"), (Keywords{{"$Junk", "alpha", "zeta"}}));
  // Moved, its keywords go with it and show in its new mailbox only.
  ASSERT_TRUE(store_->copy_messages(demo_, box("Small").id, {Uid(1)}, "Big", true));
  EXPECT_EQ(keywords_of("Big"),
            (Keywords{{}, {}, {}, {"$Label1"}, {}, {"$Junk", "alpha", "zeta"}}));
  EXPECT_EQ(keywords_of("Small"), Keywords{});
}

TEST_P(StoreContract, AStoreOfTheOldSchemaGetsItsCountsWhenOpened) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "a store of schema 3 keeps its bodies in files";
  ASSERT_TRUE(store_->append(demo_, "INBOX", "one", {{flag_seen, {}}, {}}));
  ASSERT_TRUE(store_->append(demo_, "INBOX", "two!", {{flag_deleted, {"$Old"}}, {}}));
  store_.reset();
  {
    // Back to schema 3: no counts, no MODSEQ index, no triggers, no rows of fields.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "store.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, test_support::back_before_migration_12, nullptr, nullptr, nullptr),
              SQLITE_OK);
    for (const auto* sql : {"DROP TRIGGER messages_count_insert",
                            "DROP TRIGGER messages_count_delete",
                            "DROP TRIGGER messages_count_update",
                            "DROP INDEX messages_modseq",
                            "DROP INDEX messages_list",
                            "ALTER TABLE mailboxes DROP COLUMN message_count",
                            "ALTER TABLE mailboxes DROP COLUMN unseen_count",
                            "ALTER TABLE mailboxes DROP COLUMN byte_count",
                            "ALTER TABLE mailboxes DROP COLUMN deleted_count",
                            "DROP TRIGGER message_fields_insert",
                            "DROP TABLE message_fields",
                            "DROP TRIGGER blob_bytes_collected",
                            "DROP TABLE blob_bytes",
                            "DROP TRIGGER message_keywords_defined",
                            "DROP TRIGGER messages_keywords_moved",
                            "DROP TABLE mailbox_keywords",
                            "DROP INDEX messages_unseen",
                            "DROP TRIGGER message_envelopes_insert",
                            "DROP TABLE message_envelopes",
                            "ALTER TABLE blobs DROP COLUMN envelope",
                            "DROP TRIGGER blob_places_collected",
                            "DROP TABLE blob_places",
                            "DROP TABLE body_segments",
                            "PRAGMA user_version = 3"}) {
      ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql;
    }
    sqlite3_close(db);
  }
  reopen();
  const auto inbox = box("INBOX");
  EXPECT_EQ(inbox.messages, 2);
  EXPECT_EQ(inbox.unseen, 1);
  EXPECT_EQ(inbox.bytes, 7);
  EXPECT_EQ(inbox.deleted, 1);
  EXPECT_TRUE(store_->fsck(false)->problems.empty());
  // The keywords already set are defined in their mailbox, and the list still reads them.
  auto summary = store_->mailbox_summary(demo_, "INBOX");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->keywords, std::vector<std::string>{"$Old"});
  EXPECT_EQ(summary->first_unseen, 2u);
  EXPECT_EQ(store_->messages(demo_, inbox.id)->at(1).flags.keywords,
            std::vector<std::string>{"$Old"});
  // The fields of the messages already there are copied beside them.
  auto details = store_->messages_details(demo_, inbox.id, Uid(1), Uid(2), Store::DetailParts::all);
  ASSERT_TRUE(details) << details.error().detail;
  EXPECT_EQ(details->size(), 2u);
  // And their ENVELOPEs, formatted once as a save formats them.
  auto envelopes =
      store_->messages_details(demo_, inbox.id, Uid(1), Uid(2), Store::DetailParts::envelope);
  ASSERT_TRUE(envelopes);
  ASSERT_EQ(envelopes->size(), 2u);
  for (const auto& e : *envelopes)
    EXPECT_EQ(e.envelope, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)") << e.info.uid.value;
}

TEST_P(StoreContract, EachMessageHasItsFieldsBesideItWhereverItGoes) {
  const std::string message =
      "From: Ann <ann@example.org>\r\nSubject: hello\r\n"
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b--\r\n";
  ASSERT_TRUE(store_->append(demo_, "INBOX", message, {}));
  ASSERT_TRUE(store_->deliver({demo_}, message));  // the same body: one row, two messages
  const auto inbox = box("INBOX");
  ASSERT_TRUE(store_->copy_messages(demo_, inbox.id, {Uid(1)}, "Archive", false));
  ASSERT_TRUE(store_->copy_messages(demo_, inbox.id, {Uid(2)}, "Trash", true));
  ASSERT_TRUE(store_->rename_mailbox(demo_, "INBOX", "Old"));
  for (const auto& name : {"Archive", "Trash", "Old"}) {
    SCOPED_TRACE(name);
    auto d =
        store_->messages_details(demo_, box(name).id, Uid(1), Uid(10), Store::DetailParts::all);
    ASSERT_TRUE(d);
    ASSERT_EQ(d->size(), 1u);
    EXPECT_EQ((*d)[0].fields.subject, "hello");
    EXPECT_EQ((*d)[0].fields.from, "Ann <ann@example.org>");
    EXPECT_EQ((*d)[0].structure.parts.size(), 2u);
    auto e = store_->envelope_fields(demo_, box(name).id);
    ASSERT_EQ(e->size(), 1u);
    EXPECT_EQ((*e)[0].second.subject, "hello");
  }
  EXPECT_TRUE(store_->fsck(false)->problems.empty());
  ASSERT_TRUE(
      store_->expunge(demo_, box("Old").id, std::vector<Uid>{Uid(1)}, Store::ExpungeScope::listed));
  ASSERT_TRUE(store_->delete_mailbox(demo_, "Trash"));
  store_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "store.db").c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    int rows = -1;
    sqlite3_exec(
        db, "SELECT count(*) FROM message_fields",
        [](void* n, int, char** v, char**) {
          *static_cast<int*>(n) = std::atoi(v[0]);
          return 0;
        },
        &rows, &error);
    EXPECT_EQ(rows, 1);  // only Archive's copy is left
    ASSERT_EQ(sqlite3_exec(db, "DELETE FROM message_fields", nullptr, nullptr, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DELETE FROM message_envelopes", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  reopen();
  auto report = store_->fsck(false);
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_EQ(report->problems[0], "1 messages have no row of fields (FETCH, SEARCH)");
  auto repaired = store_->fsck(true);
  ASSERT_TRUE(repaired);
  EXPECT_NE(std::find(repaired->repairs.begin(), repaired->repairs.end(),
                      "restored the fields of 1 messages from their bodies' rows"),
            repaired->repairs.end());
  EXPECT_NE(std::find(repaired->repairs.begin(), repaired->repairs.end(),
                      "restored the ENVELOPE of 1 messages from their bodies' rows"),
            repaired->repairs.end());
  EXPECT_TRUE(store_->fsck(false)->problems.empty());
  const auto archived = store_->message_details(demo_, box("Archive").id, Uid(1));
  EXPECT_EQ(archived->fields.subject, "hello");
  EXPECT_EQ(archived->envelope, mime::format_imap_envelope(archived->fields));
}

// Counts rows of the store's database (the store closed): what a query's first column says.
std::int64_t count_rows(const std::filesystem::path& file, const char* sql) {
  sqlite3* db = nullptr;
  std::int64_t n = -1;
  if (sqlite3_open(file.c_str(), &db) == SQLITE_OK) {
    sqlite3_exec(
        db, sql,
        [](void* out, int, char** v, char**) {
          *static_cast<std::int64_t*>(out) = std::atoll(v[0]);
          return 0;
        },
        &n, nullptr);
  }
  sqlite3_close(db);
  return n;
}

TEST_P(StoreContract, EachMessageKeepsItsEnvelopeFormattedAtDelivery) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "the envelope's row is the SQLite store's";
  const std::string message =
      "From: \"Ann \\\"A\\\" Lee\" <ann@example.org>\r\nReply-To: list@example.org\r\n"
      "To: a@x.test, Group: b@x.test;\r\nSubject: caf\xc3\xa9\r\n"
      "Message-ID: <1@x>\r\n\r\nbody\r\n";
  ASSERT_TRUE(store_->append(demo_, "INBOX", message, {}));
  ASSERT_TRUE(store_->deliver({demo_}, message));  // the same body: one row, two messages
  ASSERT_TRUE(store_->copy_messages(demo_, box("INBOX").id, {Uid(2)}, "Archive", false));
  const auto check = [&](const char* name, std::size_t count, bool kept) {
    SCOPED_TRACE(name);
    const auto id = box(name).id;
    auto all = store_->messages_details(demo_, id, Uid(1), Uid(9), Store::DetailParts::all);
    auto envelopes =
        store_->messages_details(demo_, id, Uid(1), Uid(9), Store::DetailParts::envelope);
    ASSERT_TRUE(all && envelopes);
    ASSERT_EQ(all->size(), count);
    ASSERT_EQ(envelopes->size(), count);
    for (std::size_t i = 0; i < count; ++i) {
      const auto& whole = (*all)[i];
      const auto& e = (*envelopes)[i];
      EXPECT_EQ(whole.fields.subject, "caf\xc3\xa9");
      EXPECT_EQ(whole.envelope, kept ? mime::format_imap_envelope(whole.fields) : "");
      EXPECT_EQ(store_->message_details(demo_, id, whole.info.uid)->envelope, whole.envelope);
      // What FETCH ENVELOPE is served from: the kept text, or the fields to format.
      EXPECT_EQ(e.envelope, whole.envelope);
      EXPECT_EQ(e.fields, kept ? mime::EnvelopeFields{} : whole.fields);
    }
  };
  check("INBOX", 2, true);
  check("Archive", 1, true);
  EXPECT_EQ((*store_->messages_details(demo_, box("INBOX").id, Uid(1), Uid(1),
                                       Store::DetailParts::envelope))[0]
                .envelope,
            "(NIL {5}\r\ncaf\xc3\xa9 ((\"Ann \\\"A\\\" Lee\" NIL \"ann\" \"example.org\")) "
            "((\"Ann \\\"A\\\" Lee\" NIL \"ann\" \"example.org\")) "
            "((NIL NIL \"list\" \"example.org\")) ((NIL NIL \"a\" \"x.test\")"
            "(NIL NIL \"Group\" NIL)(NIL NIL \"b\" \"x.test\")(NIL NIL NIL NIL)) NIL NIL NIL "
            "\"<1@x>\")");
  // The rows go with their messages.
  ASSERT_TRUE(store_->expunge(demo_, box("INBOX").id, std::vector<Uid>{Uid(1)},
                              Store::ExpungeScope::listed));
  store_.reset();
  const auto file = dir_ / "store.db";
  EXPECT_EQ(count_rows(file, "SELECT count(*) FROM message_envelopes"), 2);
  // A store written before the envelopes were kept: its messages are served from their
  // fields; a new message of a body saved then gets its envelope.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    for (const auto* sql : {"DELETE FROM message_envelopes", "UPDATE blobs SET envelope = NULL"})
      ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql;
    sqlite3_close(db);
  }
  reopen();
  check("Archive", 1, false);
  ASSERT_TRUE(store_->deliver({demo_}, message));
  auto now = store_->messages_details(demo_, box("INBOX").id, Uid(1), Uid(9),
                                      Store::DetailParts::envelope);
  ASSERT_TRUE(now);
  ASSERT_EQ(now->size(), 2u);
  EXPECT_TRUE((*now)[0].envelope.empty());
  EXPECT_EQ((*now)[1].info.uid, Uid(3));
  EXPECT_EQ((*now)[1].envelope, mime::format_imap_envelope((*now)[0].fields));
}

TEST_P(StoreContract, ChangesSinceAModSeqBringAViewUpToDate) {
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(store_->append(demo_, "INBOX", "m" + std::to_string(i), {}));
  const auto inbox = box("INBOX");
  auto all = store_->changes_since(demo_, inbox.id, ModSeq(0));
  ASSERT_TRUE(all) << all.error().detail;
  EXPECT_EQ(uids_of(all->changed), (std::vector<std::uint32_t>{1, 2, 3, 4}));
  EXPECT_TRUE(all->expunged.empty());
  EXPECT_EQ(all->mailbox.highest_mod_seq, inbox.highest_mod_seq);
  EXPECT_EQ(all->mailbox.messages, 4);

  const auto known = all->mailbox.highest_mod_seq;
  auto none = store_->changes_since(demo_, inbox.id, known);
  EXPECT_TRUE(none->changed.empty());
  EXPECT_TRUE(none->expunged.empty());
  EXPECT_EQ(none->mailbox.highest_mod_seq, known);

  // A flag change, an expunge, a new message, a move out: each is told once, as it is.
  ASSERT_TRUE(store_->store_flags(demo_, inbox.id, {Uid(3)}, Store::FlagChange::add,
                                  {flag_flagged | flag_deleted, {"$todo"}}));
  ASSERT_TRUE(
      store_->expunge(demo_, inbox.id, std::vector<Uid>{Uid(3)}, Store::ExpungeScope::deleted));
  ASSERT_TRUE(store_->store_flags(demo_, inbox.id, {Uid(2)}, Store::FlagChange::add,
                                  {flag_seen, {"$label"}}));
  ASSERT_TRUE(store_->append(demo_, "INBOX", "new", {}));
  ASSERT_TRUE(store_->copy_messages(demo_, inbox.id, {Uid(4)}, "Trash", true));
  auto since = store_->changes_since(demo_, inbox.id, known);
  ASSERT_TRUE(since);
  EXPECT_EQ(uids_of(since->changed), (std::vector<std::uint32_t>{2, 5}));
  EXPECT_EQ(since->changed[0].flags, (Flags{flag_seen, {"$label"}}));
  EXPECT_GT(since->changed[0].mod_seq, known);
  EXPECT_EQ(since->expunged, (std::vector<Uid>{Uid(3), Uid(4)}));
  EXPECT_EQ(since->mailbox.highest_mod_seq, box("INBOX").highest_mod_seq);
  EXPECT_EQ(since->mailbox.uid_next, Uid(6));

  // Applied to what was known, the changes give what a full read gives.
  auto view = all->changed;
  std::erase_if(view, [&](const MessageInfo& m) {
    return std::binary_search(since->expunged.begin(), since->expunged.end(), m.uid);
  });
  for (const auto& c : since->changed) {
    auto at = std::lower_bound(view.begin(), view.end(), c.uid,
                               [](const MessageInfo& m, Uid u) { return m.uid < u; });
    if (at != view.end() && at->uid == c.uid) {
      *at = c;
    } else {
      view.insert(at, c);
    }
  }
  auto now = store_->messages(demo_, inbox.id);
  ASSERT_EQ(uids_of(view), uids_of(*now));
  for (std::size_t i = 0; i < view.size(); ++i) {
    EXPECT_EQ(view[i].flags, (*now)[i].flags);
    EXPECT_EQ(view[i].mod_seq, (*now)[i].mod_seq);
  }

  // Scoped by owner like every read (RELIABILITY A06).
  auto other = store_->create_account("other@example.test", "$y$x", "");
  EXPECT_EQ(store_->changes_since(*other, inbox.id, ModSeq(0)).error().kind, ErrorKind::not_found);
}

TEST_P(StoreContract, SeveralMessagesReadAtOnceInTheOrderAsked) {
  for (const auto* m : {"one", "two", "three", "four"})
    ASSERT_TRUE(store_->append(demo_, "INBOX", m, {}));
  const auto inbox = box("INBOX");
  ASSERT_TRUE(
      store_->expunge(demo_, inbox.id, std::vector<Uid>{Uid(2)}, Store::ExpungeScope::listed));
  auto read = store_->read_messages(demo_, inbox.id, {Uid(3), Uid(2), Uid(1), Uid(9)});
  ASSERT_TRUE(read) << read.error().detail;
  ASSERT_EQ(read->size(), 2u);  // 2 and 9 are not there
  EXPECT_EQ((*read)[0], std::make_pair(Uid(3), std::string("three")));
  EXPECT_EQ((*read)[1], std::make_pair(Uid(1), std::string("one")));
  // The list ends at a body that cannot be read.
  const auto id = test_support::blob_id_of("one");
  remove_body(id);
  read = store_->read_messages(demo_, inbox.id, {Uid(3), Uid(1), Uid(4)});
  ASSERT_TRUE(read);
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].first, Uid(3));
  auto other = store_->create_account("other@example.test", "$y$x", "");
  EXPECT_EQ(store_->read_messages(*other, inbox.id, {Uid(1)}).error().kind, ErrorKind::not_found);
}

}  // namespace
}  // namespace postino::store
