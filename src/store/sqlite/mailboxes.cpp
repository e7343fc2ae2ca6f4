// Mailboxes of the SQLite store: UIDVALIDITY allocation, hierarchy, rename, subscriptions.
#include <ctime>

#include "store/sqlite/store_impl.hpp"

namespace postino::store::sqlite {
namespace {

MailboxInfo read_mailbox(Statement& q) {
  MailboxInfo m;
  m.id = MailboxId(q.int64(0));
  m.name = q.text(1);
  m.uid_validity = UidValidity(static_cast<std::uint32_t>(q.int64(2)));
  m.uid_next = Uid(static_cast<std::uint32_t>(q.int64(3)));
  m.highest_mod_seq = ModSeq(static_cast<std::uint64_t>(q.int64(4)));
  m.special_use = static_cast<SpecialUse>(q.int64(5));
  m.is_subscribed = q.int64(6) != 0;
  m.messages = q.int64(7);
  m.unseen = q.int64(8);
  m.bytes = q.int64(9);
  m.deleted = q.int64(10);
  return m;
}

// The counts are kept in the row by triggers (schema migration 4).
constexpr const char* mailbox_query =
    "SELECT b.id, b.name, b.uid_validity, b.uid_next, b.highest_modseq, b.special_use, "
    "b.subscribed, b.message_count, b.unseen_count, b.byte_count, b.deleted_count "
    "FROM mailboxes b WHERE b.account_id = ?1 ";

// What mailbox_summary reads (SELECT, answered on the event loop when it can).
const std::string mailbox_named_query = std::string(mailbox_query) + "AND b.name = ?2";
constexpr const char* mailbox_keywords_query =
    "SELECT keyword FROM mailbox_keywords WHERE mailbox_id = ? ORDER BY 1";
constexpr const char* first_unseen_uid_query =
    "SELECT min(uid) FROM messages INDEXED BY messages_unseen "
    "WHERE mailbox_id = ? AND (flags & 1) = 0";
constexpr const char* count_from_uid_query =
    "SELECT count(*) FROM messages WHERE mailbox_id = ? AND uid >= ?";
constexpr const char* count_before_uid_query =
    "SELECT count(*) FROM messages WHERE mailbox_id = ? AND uid < ?";

// RFC 3501 §2.3.1.1: a new UIDVALIDITY for every mailbox incarnation, strictly greater
// than any handed out before, even when the clock went backwards (RELIABILITY F08, K04).
std::uint32_t next_uid_validity(Database& db) {
  auto& q = db.prepare("SELECT value FROM meta WHERE key = 'last_uid_validity'");
  q.step();
  const auto last = q.int64(0);
  q.reset();
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  auto next = std::max(now, last + 1);
  if (next > 0xffffffffLL) next = last + 1;  // keep within 32 bits past 2106
  db.prepare("UPDATE meta SET value = ? WHERE key = 'last_uid_validity'").bind_all(next).run();
  return static_cast<std::uint32_t>(next);
}

std::optional<std::int64_t> find_mailbox_id(Database& db, AccountId account,
                                            const std::string& name) {
  auto& q = db.prepare("SELECT id FROM mailboxes WHERE account_id = ? AND name = ?");
  q.bind_all(account.value, name);
  if (!q.step()) return std::nullopt;
  return q.int64(0);
}

// The sequence number of a mailbox's first message without \Seen, 0 when none: its UID
// from the index of unseen messages (migration 7), then the messages before it counted
// from the start, or those from it on counted from the end when its UID is that near the
// end (there are no more of them than UIDs left). New mail is what is unseen, a few
// entries from the end, so SELECT of a big mailbox reads a few pages instead of its list.
std::uint32_t first_unseen(Database& db, const MailboxInfo& box) {
  if (box.unseen == 0) return 0;
  if (box.unseen == box.messages) return 1;
  const auto one = [&](const char* sql, auto... values) {
    auto& q = db.prepare(sql);
    q.bind_all(box.id.value, values...);
    const auto value = q.step() ? q.int64(0) : 0;
    q.reset();
    return value;
  };
  const auto unseen = one(first_unseen_uid_query);
  if (static_cast<std::int64_t>(box.uid_next.value) - unseen <= box.messages / 2) {
    const auto from_it = one(count_from_uid_query, unseen);
    return static_cast<std::uint32_t>(box.messages - from_it + 1);
  }
  return static_cast<std::uint32_t>(one(count_before_uid_query, unseen) + 1);
}

}  // namespace

std::string SqliteStore::canonical_name(std::string_view mailbox) const {
  auto name = canonical_mailbox_name(mailbox, options_.mailbox_names);
  if (!name) throw_error(ErrorKind::invalid, "invalid mailbox name");
  return *name;
}

MailboxId SqliteStore::insert_mailbox(Database& db, AccountId account, const std::string& name,
                                      SpecialUse use) {
  const auto validity = next_uid_validity(db);
  db.prepare(
        "INSERT INTO mailboxes (account_id, name, uid_validity, uid_next, highest_modseq, "
        "special_use) VALUES (?, ?, ?, 1, 1, ?)")
      .bind_all(account.value, name, static_cast<std::int64_t>(validity),
                static_cast<std::int64_t>(use))
      .run();
  return MailboxId(db.last_insert_id());
}

Result<std::vector<MailboxInfo>> SqliteStore::list_mailboxes(AccountId account) {
  return guard([&] {
    return readers_.run([&](Database& db) {
      std::vector<MailboxInfo> out;
      auto& q = db.prepare(std::string(mailbox_query) + "ORDER BY b.name");
      q.bind_all(account.value);
      while (q.step()) out.push_back(read_mailbox(q));
      return out;
    });
  });
}

MailboxInfo mailbox_row(Database& db, AccountId account, MailboxId mailbox) {
  auto& q = db.prepare(std::string(mailbox_query) + "AND b.id = ?2");
  q.bind_all(account.value, mailbox.value);
  if (!q.step()) throw_error(ErrorKind::not_found, "no such mailbox");
  auto row = read_mailbox(q);
  q.reset();
  return row;
}

namespace {

// The account's mailbox of that (canonical) name with its counts; not_found if none.
MailboxInfo mailbox_named(Database& db, AccountId account, const std::string& name) {
  auto& q = db.prepare(mailbox_named_query);
  q.bind_all(account.value, name);
  if (!q.step()) throw_error(ErrorKind::not_found, "no such mailbox");
  auto row = read_mailbox(q);
  q.reset();
  return row;
}

}  // namespace

Result<MailboxInfo> SqliteStore::mailbox(AccountId account, std::string_view name) {
  return guard([&] {
    const auto canonical = canonical_name(name);
    return readers_.run([&](Database& db) { return mailbox_named(db, account, canonical); });
  });
}

void prepare_summary_statements(Database& db) {
  db.prepare(mailbox_named_query);
  for (const char* sql : {"BEGIN", "COMMIT", mailbox_keywords_query, first_unseen_uid_query,
                          count_from_uid_query, count_before_uid_query})
    db.prepare(sql);
}

Result<MailboxSummary> SqliteStore::mailbox_summary(AccountId account, std::string_view name) {
  return guard([&] {
    const auto canonical = canonical_name(name);
    return readers_.run([&](Database& db) {
      // One read transaction: the counts, keywords and first unseen as of one commit.
      const ReadTransaction snapshot(db);
      MailboxSummary out;
      out.mailbox = mailbox_named(db, account, canonical);
      auto& k = db.prepare(mailbox_keywords_query);
      k.bind_all(out.mailbox.id.value);
      while (k.step()) out.keywords.push_back(k.text(0));
      k.reset();
      out.first_unseen = first_unseen(db, out.mailbox);
      return out;
    });
  });
}

Result<MailboxInfo> SqliteStore::create_mailbox(AccountId account, std::string_view name,
                                                SpecialUse use) {
  auto created = guard([&] {
    const auto canonical = canonical_name(name);
    writer_->run([&](Database& db) {
      if (find_mailbox_id(db, account, canonical)) {
        throw_error(ErrorKind::already_exists, "mailbox exists");
      }
      // RFC 3501 §6.3.3: superior names are created as needed.
      for (auto slash = canonical.find('/'); slash != std::string::npos;
           slash = canonical.find('/', slash + 1)) {
        const auto parent = canonical.substr(0, slash);
        if (!find_mailbox_id(db, account, parent))
          insert_mailbox(db, account, parent, SpecialUse::none);
      }
      insert_mailbox(db, account, canonical, use);
    });
    return canonical;
  });
  if (!created) return created.error();
  return mailbox(account, *created);
}

Result<void> SqliteStore::delete_mailbox(AccountId account, std::string_view name) {
  return guard([&] {
    const auto canonical = canonical_name(name);
    if (canonical == "INBOX") throw_error(ErrorKind::invalid, "INBOX cannot be deleted");
    writer_->run([&](Database& db) {
      auto id = find_mailbox_id(db, account, canonical);
      if (!id) throw_error(ErrorKind::not_found, "no such mailbox");
      auto& children =
          db.prepare("SELECT 1 FROM mailboxes WHERE account_id = ? AND substr(name, 1, ?) = ?");
      children.bind_all(account.value, static_cast<std::int64_t>(canonical.size() + 1),
                        canonical + "/");
      if (children.step()) throw_error(ErrorKind::in_use, "mailbox has children");
      children.reset();
      db.prepare("DELETE FROM messages WHERE mailbox_id = ?").bind_all(*id).run();
      db.prepare("DELETE FROM mailboxes WHERE id = ?").bind_all(*id).run();
    });
  });
}

Result<void> SqliteStore::rename_mailbox(AccountId account, std::string_view from,
                                         std::string_view to) {
  return guard([&] {
    const auto source = canonical_name(from);
    const auto target = canonical_name(to);
    if (target == "INBOX" || target.starts_with(source + "/")) {
      throw_error(ErrorKind::invalid, "cannot rename a mailbox to that name");
    }
    std::optional<MailboxId> inbox_changed;
    writer_->run([&](Database& db) {
      auto source_id = find_mailbox_id(db, account, source);
      if (!source_id) throw_error(ErrorKind::not_found, "no such mailbox");
      if (find_mailbox_id(db, account, target))
        throw_error(ErrorKind::already_exists, "mailbox exists");
      for (auto slash = target.find('/'); slash != std::string::npos;
           slash = target.find('/', slash + 1)) {
        const auto parent = target.substr(0, slash);
        if (!find_mailbox_id(db, account, parent))
          insert_mailbox(db, account, parent, SpecialUse::none);
      }
      if (source == "INBOX") {
        // RFC 3501 §6.3.5: the messages move to the new mailbox; INBOX stays, empty. For
        // INBOX they are expunged (with a MODSEQ of its own, as a MOVE out does), so that
        // sessions, cached views and QRESYNC clients learn they are gone.
        const auto target_id = insert_mailbox(db, account, target, SpecialUse::none);
        std::vector<std::pair<std::int64_t, std::int64_t>> ids;  // row, UID
        auto& q = db.prepare("SELECT id, uid FROM messages WHERE mailbox_id = ? ORDER BY uid");
        q.bind_all(*source_id);
        while (q.step()) ids.emplace_back(q.int64(0), q.int64(1));
        q.reset();
        if (!ids.empty()) inbox_changed = MailboxId(*source_id);
        const auto source_modseq = ids.empty() ? 0 : allocate_modseq(db, MailboxId(*source_id));
        for (auto [id, old_uid] : ids) {
          auto& next = db.prepare(
              "UPDATE mailboxes SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1 "
              "WHERE id = ? RETURNING uid_next - 1, highest_modseq");
          next.bind_all(target_id.value);
          next.step();
          const auto uid = next.int64(0), modseq = next.int64(1);
          next.reset();
          db.prepare("UPDATE messages SET mailbox_id = ?, uid = ?, modseq = ? WHERE id = ?")
              .bind_all(target_id.value, uid, modseq, id)
              .run();
          db.prepare("INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)")
              .bind_all(*source_id, old_uid, source_modseq)
              .run();
        }
        return;
      }
      db.prepare(
            "UPDATE mailboxes SET name = ?3 || substr(name, ?4) WHERE account_id = ?1 AND "
            "(name = ?2 OR substr(name, 1, ?5) = ?2 || '/')")
          .bind_all(account.value, source, target, static_cast<std::int64_t>(source.size() + 1),
                    static_cast<std::int64_t>(source.size() + 1))
          .run();
    });
    if (inbox_changed) changed({*inbox_changed});
  });
}

Result<void> SqliteStore::set_subscribed(AccountId account, std::string_view name,
                                         bool subscribed) {
  return guard([&] {
    const auto canonical = canonical_name(name);
    writer_->run([&](Database& db) {
      db.prepare("UPDATE mailboxes SET subscribed = ? WHERE account_id = ? AND name = ?")
          .bind_all(subscribed ? 1 : 0, account.value, canonical)
          .run();
      if (db.changes() == 0) throw_error(ErrorKind::not_found, "no such mailbox");
    });
  });
}

}  // namespace postino::store::sqlite
