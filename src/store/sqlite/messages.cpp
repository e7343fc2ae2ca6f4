// Messages of the SQLite store: durable save (blob first, then one metadata commit),
// delivery to many INBOXes with one blob, flags with MODSEQ, copy and move, expunge. What
// is read of them is in message_reads.cpp.
#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <unordered_map>

#include "mime/codec.hpp"
#include "mime/imap_envelope.hpp"
#include "store/sqlite/store_impl.hpp"
#include "store/sync_metrics.hpp"

namespace postino::store::sqlite {

void check_owner(Database& db, AccountId account, MailboxId mailbox) {
  auto& q = db.prepare("SELECT 1 FROM mailboxes WHERE id = ? AND account_id = ?");
  q.bind_all(mailbox.value, account.value);
  if (!q.step()) throw_error(ErrorKind::not_found, "no such mailbox");
}

namespace {

// Whether `messages` more messages of `bytes` in all fit in the account's quota. The usage
// (a sum over the account's mailboxes) is added up only for an account that has a quota:
// a delivery to one without reads its account's row alone, however many mailboxes it has.
void check_quota(Database& db, AccountId account, std::int64_t bytes, std::int64_t messages = 1) {
  auto& limits = db.prepare("SELECT quota_bytes, quota_messages FROM accounts WHERE id = ?");
  limits.bind_all(account.value);
  if (!limits.step()) throw_error(ErrorKind::not_found, "no such account");
  const auto max_bytes = limits.int64(0), max_messages = limits.int64(1);
  limits.reset();
  if (max_bytes <= 0 && max_messages <= 0) return;
  auto& q = db.prepare(account_usage_query);
  q.bind_all(account.value);
  if (!q.step()) throw_error(ErrorKind::not_found, "no such account");
  const auto used_bytes = q.int64(2), used_messages = q.int64(3);
  q.reset();
  if ((max_bytes > 0 && used_bytes + bytes > max_bytes) ||
      (max_messages > 0 && used_messages + messages > max_messages)) {
    throw_error(ErrorKind::over_quota, "quota exceeded");
  }
}

std::vector<std::string> normalized_keywords(const std::vector<std::string>& keywords) {
  std::vector<std::string> out = keywords;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Gives each of the messages (their ids as a JSON array) each of the keywords; one it has
// already stays as it is.
void add_keywords(Database& db, const std::string& message_ids,
                  const std::vector<std::string>& keywords) {
  for (const auto& keyword : keywords) {
    db.prepare(
          "INSERT OR IGNORE INTO message_keywords (message_id, keyword) "
          "SELECT value, ? FROM json_each(?)")
        .bind_all(keyword, message_ids)
        .run();
  }
}

}  // namespace

std::vector<std::string> read_keywords(Database& db, std::int64_t message_id) {
  std::vector<std::string> out;
  auto& q =
      db.prepare("SELECT keyword FROM message_keywords WHERE message_id = ? ORDER BY keyword");
  q.bind_all(message_id);
  while (q.step()) out.push_back(q.text(0));
  return out;
}

std::int64_t allocate_modseq(Database& db, MailboxId mailbox) {
  auto& q = db.prepare(
      "UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ? "
      "RETURNING highest_modseq");
  q.bind_all(mailbox.value);
  if (!q.step()) throw_error(ErrorKind::not_found, "no such mailbox");
  const auto modseq = q.int64(0);
  q.reset();
  return modseq;
}

void SqliteStore::insert_blob_row(Database& db, const BlobInfo& blob) {
  const auto& f = blob.fields;
  // A row saved before ENVELOPEs were kept gets this one (its new messages are served
  // without parsing; those before keep theirs from message_fields).
  db.prepare(
        "INSERT INTO blobs (id, size, refs, structure, h_date, h_subject, h_from, "
        "h_sender, h_reply_to, h_to, h_cc, h_bcc, h_in_reply_to, h_message_id, h_references, "
        "envelope) VALUES (?1, ?2, 0, ?15, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
        "ON CONFLICT (id) DO UPDATE SET envelope = excluded.envelope WHERE envelope IS NULL")
      .bind_blob(15, blob.structure)
      .bind_all(blob.id, blob.size, f.date, f.subject, f.from, f.sender, f.reply_to, f.to, f.cc,
                f.bcc, f.in_reply_to, f.message_id, f.references, blob.envelope)
      .run();
  // Replaced rather than kept: a save of the same content mends bytes found damaged (the
  // scrub removes those), as a file is mended by being written again.
  if (blob.inline_bytes) {
    db.prepare("INSERT OR REPLACE INTO blob_bytes (blob_id, bytes) VALUES (?, ?)")
        .bind_all(blob.id)
        .bind_blob(2, *blob.inline_bytes)
        .run();
  }
  // The bytes just appended take the place of those recorded before (dead space now), as
  // a file is renamed over: a save of the same content mends bytes damaged since.
  if (blob.place) {
    const auto& p = *blob.place;
    db.prepare(
          "INSERT INTO blob_places (blob_id, segment, offset, size) VALUES (?, ?, ?, ?) "
          "ON CONFLICT (blob_id) DO UPDATE SET segment = excluded.segment, "
          "offset = excluded.offset")
        .bind_all(blob.id, p.segment, p.offset, p.size)
        .run();
  }
}

SavedMessage SqliteStore::insert_message(Database& db, MailboxId mailbox, const BlobInfo& blob,
                                         const NewMessage& options) {
  insert_blob_row(db, blob);
  const auto& blob_id = blob.id;
  const auto size = blob.size;
  auto& q = db.prepare(
      "UPDATE mailboxes SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1 "
      "WHERE id = ? RETURNING uid_next - 1, highest_modseq, uid_validity");
  q.bind_all(mailbox.value);
  if (!q.step()) throw_error(ErrorKind::not_found, "no such mailbox");
  const auto uid = q.int64(0), modseq = q.int64(1), validity = q.int64(2);
  q.reset();
  const auto date = to_unix(options.internal_date.value_or(SystemClock::now()));
  db.prepare(
        "INSERT INTO messages (mailbox_id, uid, modseq, flags, internal_date, size, blob_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)")
      .bind_all(mailbox.value, uid, modseq, static_cast<std::int64_t>(options.flags.system), date,
                size, blob_id)
      .run();
  if (!options.flags.keywords.empty()) {
    add_keywords(db, json_array({db.last_insert_id()}),
                 normalized_keywords(options.flags.keywords));
  }
  return {UidValidity(static_cast<std::uint32_t>(validity)), Uid(static_cast<std::uint32_t>(uid)),
          ModSeq(static_cast<std::uint64_t>(modseq))};
}

template <class F>
auto SqliteStore::with_blobs(const std::vector<std::string_view>& messages, F&& job) {
  // Promote each blob once its metadata is committed; otherwise drop it unless another
  // message already refers to the same content.
  struct Pins {
    SqliteStore* store;
    std::vector<std::string> ids;
    bool committed = false;
    ~Pins() {
      for (const auto& id : ids) {
        if (committed) {
          store->blobs_->unpin(id);
          continue;
        }
        store->blobs_->unpin_uncommitted(id);
        try {
          (void)store->blobs_->remove_if(id, [&] {
            return store->readers_.run([&](Database& db) {
              auto& q = db.prepare("SELECT 1 FROM blobs WHERE id = ?");
              q.bind_all(id);
              return !q.step();
            });
          });
        } catch (const StoreException&) {
          // Left staged; start-up recovery removes it after the grace period.
        }
      }
    }
  } pins{this, {}};
  std::vector<BlobInfo> infos;
  std::vector<BodyPlace> places;
  const auto began = std::chrono::steady_clock::now();
  for (const auto message : messages) {
    // Parsed once here, outside the write transaction, and kept with the blob.
    const auto structure = mime::parse_structure(message, options_.mime_limits);
    BlobInfo info{"",
                  static_cast<std::int64_t>(message.size()),
                  mime::encode(structure),
                  mime::extract_envelope_fields(message, structure),
                  "",
                  std::nullopt,
                  std::nullopt};
    info.envelope = mime::format_imap_envelope(info.fields);
    if (message.size() <= options_.inline_body_bytes) {
      // Durable with the commit that names it.
      info.id = blob_id_for(message);
      info.inline_bytes = message;
    } else if (message.size() <= options_.log_body_bytes) {
      // Appended to the body log now, made durable below with whatever else is waiting.
      info.id = blob_id_for(message);
      auto place = log_->append(message);
      if (!place) throw StoreException(place.error());
      info.place = *place;
      places.push_back(*place);
    } else {
      // RELIABILITY §3 (1): the bytes are durable before the metadata that names them.
      auto writer = blobs_->begin();
      if (!writer) throw StoreException(writer.error());
      if (auto r = (*writer)->append(message); !r) throw StoreException(r.error());
      auto id = (*writer)->commit();
      if (!id) throw StoreException(id.error());
      pins.ids.push_back(*id);
      info.id = std::move(*id);
    }
    infos.push_back(std::move(info));
  }
  static auto& prepare = save_duration("prepare");
  static auto& body_sync = save_duration("body_sync");
  static auto& commit = save_duration("commit");
  const auto prepared = std::chrono::steady_clock::now();
  prepare.observe(prepared - began);
  // RELIABILITY §3 (1) for the log: its bytes are durable before the commit that names them.
  if (!places.empty()) {
    if (auto r = log_->sync(places); !r) throw StoreException(r.error());
  }
  const auto synced = std::chrono::steady_clock::now();
  if (!places.empty()) body_sync.observe(synced - prepared);
  last_save_ = synced.time_since_epoch().count();
  auto result = writer_->run([&](Database& db) { return job(db, infos); });
  commit.observe(std::chrono::steady_clock::now() - synced);
  pins.committed = true;
  return result;
}

Result<SavedMessage> SqliteStore::append(AccountId account, std::string_view mailbox,
                                         std::string_view message, const NewMessage& options) {
  return guard([&] {
    const auto name = canonical_name(mailbox);
    // A cheap early check, so that a full account does not write a blob for nothing.
    auto usage = quota_usage(account);
    if (!usage) throw StoreException(usage.error());
    if ((usage->quota.max_bytes > 0 &&
         usage->bytes + static_cast<std::int64_t>(message.size()) > usage->quota.max_bytes) ||
        (usage->quota.max_messages > 0 && usage->messages + 1 > usage->quota.max_messages)) {
      throw_error(ErrorKind::over_quota, "quota exceeded");
    }
    MailboxId id;
    auto saved = with_blobs({message}, [&](Database& db, const std::vector<BlobInfo>& blobs) {
      const auto& blob = blobs.front();
      auto& q = db.prepare("SELECT id FROM mailboxes WHERE account_id = ? AND name = ?");
      q.bind_all(account.value, name);
      if (!q.step()) throw_error(ErrorKind::not_found, "no such mailbox");
      id = MailboxId(q.int64(0));
      q.reset();
      check_quota(db, account, blob.size);
      return insert_message(db, id, blob, options);
    });
    changed({id});
    return saved;
  });
}

void SqliteStore::changed(const std::vector<MailboxId>& mailboxes) const {
  if (!options_.notifier) return;
  for (const auto m : mailboxes) options_.notifier->notify(m);
}

Result<std::vector<SavedMessage>> SqliteStore::deliver(const std::vector<AccountId>& accounts,
                                                       std::string_view message) {
  Acceptance acceptance;
  acceptance.local_accounts = accounts;
  acceptance.local_message = std::string(message);
  auto accepted = accept(acceptance);
  if (!accepted) return accepted.error();
  return std::move(accepted->local);
}

namespace {

// Queue ids like Postfix's: short, unique, safe in logs ("Q" + 13 base32 characters).
std::string new_queue_id() {
  static constexpr char alphabet[] = "0123456789BCDFGHJKLMNPQRSTVWXYZ";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id = "Q";
  auto bits = rng();
  for (int i = 0; i < 13; ++i, bits /= 31) id.push_back(alphabet[bits % 31]);
  return id;
}

}  // namespace

Result<Accepted> SqliteStore::accept(const Acceptance& a) {
  return guard([&] {
    std::vector<std::string_view> bodies;
    if (!a.local_accounts.empty()) bodies.push_back(a.local_message);
    if (a.remote && !a.remote->recipients.empty()) bodies.push_back(a.remote_message);
    Accepted accepted;
    if (bodies.empty()) return accepted;
    std::vector<MailboxId> inboxes;
    auto done = with_blobs(bodies, [&](Database& db, const std::vector<BlobInfo>& blobs) {
      std::size_t next = 0;
      if (!a.local_accounts.empty()) {
        const auto& blob = blobs[next++];
        for (const auto account : a.local_accounts) {
          auto& q = db.prepare("SELECT id FROM mailboxes WHERE account_id = ? AND name = 'INBOX'");
          q.bind_all(account.value);
          if (!q.step()) throw_error(ErrorKind::not_found, "account has no INBOX");
          const MailboxId inbox(q.int64(0));
          q.reset();
          check_quota(db, account, blob.size);
          accepted.local.push_back(insert_message(db, inbox, blob, NewMessage{}));
          inboxes.push_back(inbox);
        }
      }
      if (a.remote && !a.remote->recipients.empty()) {
        const auto& blob = blobs[next];
        insert_blob_row(db, blob);
        accepted.queue_id = a.id.empty() ? new_queue_id() : a.id;
        const auto now = to_unix(SystemClock::now());
        db.prepare(
              "INSERT INTO queue (queue_id, blob_id, sender, envid, ret, created, next_attempt) "
              "VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind_all(accepted.queue_id, blob.id, a.remote->sender, a.remote->envid, a.remote->ret,
                      now, now)
            .run();
        const auto row = db.last_insert_id();
        for (std::size_t i = 0; i < a.remote->recipients.size(); ++i) {
          const auto& r = a.remote->recipients[i];
          db.prepare(
                "INSERT INTO queue_recipients (queue_row, position, address, orcpt, notify) "
                "VALUES (?, ?, ?, ?, ?)")
              .bind_all(row, static_cast<std::int64_t>(i), r.address, r.orcpt,
                        static_cast<std::int64_t>(r.notify))
              .run();
        }
      }
      return accepted;
    });
    changed(inboxes);
    return done;
  });
}

Result<std::vector<MessageInfo>> SqliteStore::store_flags(AccountId account, MailboxId mailbox,
                                                          const std::vector<Uid>& uids,
                                                          FlagChange change, const Flags& flags) {
  return guard([&] { return update_flags(account, mailbox, uids, change, flags, {}).changed; });
}

Result<Store::ConditionalFlags> SqliteStore::store_flags_unchanged_since(
    AccountId account, MailboxId mailbox, const std::vector<Uid>& uids, FlagChange change,
    const Flags& flags, ModSeq unchanged_since) {
  return guard(
      [&] { return update_flags(account, mailbox, uids, change, flags, unchanged_since.value); });
}

Store::ConditionalFlags SqliteStore::update_flags(AccountId account, MailboxId mailbox,
                                                  const std::vector<Uid>& uids, FlagChange change,
                                                  const Flags& flags,
                                                  std::optional<std::uint64_t> unchanged_since) {
  const auto wanted_keywords = normalized_keywords(flags.keywords);
  const auto asked = json_array(uids, [](Uid uid) { return uid.value; });
  auto result = writer_->run_over(uids.size(), [&](Database& db) {
    check_owner(db, account, mailbox);
    // Read, then written, a few statements for all the messages (STORE 1:* of a big mailbox
    // is not a statement or four a message): those asked for that exist, in UID order, and
    // their keywords.
    struct Current {
      std::int64_t id;
      MessageInfo info;
      std::uint32_t system;
      std::uint64_t modseq;
      std::vector<std::string> keywords;
    };
    std::vector<Current> rows;
    auto& q = db.prepare(
        "SELECT m.id, m.uid, m.flags, m.size, m.internal_date, m.modseq "
        "FROM json_each(?) j CROSS JOIN messages m ON m.mailbox_id = ? AND m.uid = j.value "
        "ORDER BY m.uid");
    q.bind_all(asked, mailbox.value);
    while (q.step()) {
      if (!rows.empty() && rows.back().id == q.int64(0)) continue;  // a UID asked twice
      Current row{q.int64(0),
                  {},
                  static_cast<std::uint32_t>(q.int64(2)),
                  static_cast<std::uint64_t>(q.int64(5)),
                  {}};
      row.info.uid = Uid(static_cast<std::uint32_t>(q.int64(1)));
      row.info.size = q.int64(3);
      row.info.internal_date = SystemClock::time_point(std::chrono::seconds(q.int64(4)));
      rows.push_back(std::move(row));
    }
    q.reset();
    const auto ids = json_array(rows, [](const Current& row) { return row.id; });
    {
      std::unordered_map<std::int64_t, std::size_t> at;
      for (std::size_t i = 0; i < rows.size(); ++i) at.emplace(rows[i].id, i);
      auto& k = db.prepare(
          "SELECT k.message_id, k.keyword FROM json_each(?) j "
          "CROSS JOIN message_keywords k ON k.message_id = j.value");
      k.bind_all(ids);
      while (k.step()) rows[at.at(k.int64(0))].keywords.push_back(k.text(1));
      k.reset();
    }
    ConditionalFlags out;
    std::map<std::uint32_t, std::vector<std::int64_t>> by_system;  // the new system flags
    std::vector<std::int64_t> keywords_changed;
    for (auto& row : rows) {
      if (unchanged_since && row.modseq > *unchanged_since) {
        out.modified.push_back(row.info.uid);
        continue;
      }
      auto& old_keywords = row.keywords;
      std::sort(old_keywords.begin(), old_keywords.end());
      Flags next;
      switch (change) {
        case FlagChange::replace:
          next = {flags.system, wanted_keywords};
          break;
        case FlagChange::add:
          next.system = row.system | flags.system;
          std::set_union(old_keywords.begin(), old_keywords.end(), wanted_keywords.begin(),
                         wanted_keywords.end(), std::back_inserter(next.keywords));
          break;
        case FlagChange::remove:
          next.system = row.system & ~flags.system;
          std::set_difference(old_keywords.begin(), old_keywords.end(), wanted_keywords.begin(),
                              wanted_keywords.end(), std::back_inserter(next.keywords));
          break;
      }
      if (next.system == row.system && next.keywords == old_keywords) continue;
      by_system[next.system].push_back(row.id);
      if (next.keywords != old_keywords) keywords_changed.push_back(row.id);
      row.info.flags = std::move(next);
      out.changed.push_back(std::move(row.info));
    }
    if (out.changed.empty()) return out;
    // One new MODSEQ for everything this call changes.
    const auto modseq = allocate_modseq(db, mailbox);
    for (const auto& [system, changed_ids] : by_system) {
      db.prepare(
            "UPDATE messages SET flags = ?, modseq = ? "
            "WHERE id IN (SELECT value FROM json_each(?))")
          .bind_all(static_cast<std::int64_t>(system), modseq, json_array(changed_ids))
          .run();
    }
    if (!keywords_changed.empty()) {
      // Each changed message's keywords become what was computed above: with replace the
      // wanted ones alone, with add its own and the wanted, with remove its own less them.
      const auto changed_ids = json_array(keywords_changed);
      if (change == FlagChange::replace) {
        db.prepare(
              "DELETE FROM message_keywords WHERE message_id IN (SELECT value FROM json_each(?))")
            .bind_all(changed_ids)
            .run();
      }
      if (change == FlagChange::remove) {
        for (const auto& keyword : wanted_keywords) {
          db.prepare(
                "DELETE FROM message_keywords WHERE keyword = ? AND "
                "message_id IN (SELECT value FROM json_each(?))")
              .bind_all(keyword, changed_ids)
              .run();
        }
      } else {
        add_keywords(db, changed_ids, wanted_keywords);
      }
    }
    for (auto& info : out.changed) info.mod_seq = ModSeq(static_cast<std::uint64_t>(modseq));
    return out;
  });
  if (!result.changed.empty()) changed({mailbox});
  return result;
}

Result<std::vector<std::pair<Uid, Uid>>> SqliteStore::copy_messages(AccountId account,
                                                                    MailboxId from,
                                                                    const std::vector<Uid>& uids,
                                                                    std::string_view to,
                                                                    bool move) {
  return guard([&] {
    const auto target_name = canonical_name(to);
    const auto asked = json_array(uids, [](Uid uid) { return uid.value; });
    MailboxId target;
    auto copied_all = writer_->run_over(uids.size(), [&](Database& db) {
      check_owner(db, account, from);
      auto& t = db.prepare("SELECT id FROM mailboxes WHERE account_id = ? AND name = ?");
      t.bind_all(account.value, target_name);
      if (!t.step()) throw_error(ErrorKind::not_found, "no such mailbox");
      target = MailboxId(t.int64(0));
      t.reset();
      // A few statements for all the messages, not a few a message (COPY 1:* of a big
      // mailbox): those asked for that exist, in UID order; the n-th of them becomes the
      // destination's UID first + n.
      std::vector<std::int64_t> ids;
      std::vector<std::pair<Uid, Uid>> copied;
      std::int64_t bytes = 0;
      auto& q = db.prepare(
          "SELECT m.id, m.uid, m.size FROM json_each(?) j "
          "CROSS JOIN messages m ON m.mailbox_id = ? AND m.uid = j.value ORDER BY m.uid");
      q.bind_all(asked, from.value);
      while (q.step()) {
        if (!ids.empty() && ids.back() == q.int64(0)) continue;  // a UID asked twice
        ids.push_back(q.int64(0));
        copied.emplace_back(Uid(static_cast<std::uint32_t>(q.int64(1))), Uid(0));
        bytes += q.int64(2);
      }
      q.reset();
      if (ids.empty()) return copied;
      if (!move) check_quota(db, account, bytes, static_cast<std::int64_t>(ids.size()));
      // The destination's UIDs, and one MODSEQ for every message this adds to it.
      auto& next = db.prepare(
          "UPDATE mailboxes SET uid_next = uid_next + ?1, highest_modseq = highest_modseq + 1 "
          "WHERE id = ?2 RETURNING uid_next - ?1, highest_modseq");
      next.bind_all(static_cast<std::int64_t>(ids.size()), target.value);
      if (!next.step()) throw_error(ErrorKind::not_found, "no such mailbox");
      const auto first = next.int64(0), modseq = next.int64(1);
      next.reset();
      for (std::size_t i = 0; i < copied.size(); ++i) {
        copied[i].second = Uid(static_cast<std::uint32_t>(first + static_cast<std::int64_t>(i)));
      }
      const auto id_list = json_array(ids);
      if (move) {
        // The rows themselves move (their blob references and quota stay counted once).
        const auto source_modseq = allocate_modseq(db, from);
        db.prepare(
              "UPDATE messages SET mailbox_id = ?1, uid = ?2 + j.key, modseq = ?3 "
              "FROM json_each(?4) j WHERE messages.id = j.value")
            .bind_all(target.value, first, modseq, id_list)
            .run();
        db.prepare(
              "INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) "
              "SELECT ?, value, ? FROM json_each(?)")
            .bind_all(from.value, source_modseq,
                      json_array(copied, [](const auto& pair) { return pair.first.value; }))
            .run();
      } else {
        db.prepare(
              "INSERT INTO messages (mailbox_id, uid, modseq, flags, internal_date, size, "
              "blob_id) SELECT ?1, ?2 + j.key, ?3, m.flags, m.internal_date, m.size, m.blob_id "
              "FROM json_each(?4) j CROSS JOIN messages m ON m.id = j.value ORDER BY j.key")
            .bind_all(target.value, first, modseq, id_list)
            .run();
        db.prepare(
              "INSERT INTO message_keywords (message_id, keyword) "
              "SELECT c.id, k.keyword FROM json_each(?1) j "
              "CROSS JOIN message_keywords k ON k.message_id = j.value "
              "CROSS JOIN messages c ON c.mailbox_id = ?2 AND c.uid = ?3 + j.key")
            .bind_all(id_list, target.value, first)
            .run();
      }
      return copied;
    });
    if (!copied_all.empty())
      changed(move ? std::vector<MailboxId>{target, from} : std::vector<MailboxId>{target});
    return copied_all;
  });
}

Result<std::vector<Uid>> SqliteStore::expunge(AccountId account, MailboxId mailbox,
                                              const std::optional<std::vector<Uid>>& uids,
                                              ExpungeScope scope) {
  return guard([&] {
    // Batched however many there are: the messages go in two statements, and SQLite's
    // cost of a big job in a savepoint grows with its statements (Writer::run_unbatched).
    auto removed_all = writer_->run([&](Database& db) {
      check_owner(db, account, mailbox);
      std::vector<std::pair<std::int64_t, Uid>> doomed;
      auto& q = db.prepare(
          "SELECT id, uid FROM messages WHERE mailbox_id = ? AND (flags & ?) != 0 ORDER BY uid");
      if (!uids) {
        q.bind_all(mailbox.value, static_cast<std::int64_t>(flag_deleted));
        while (q.step())
          doomed.emplace_back(q.int64(0), Uid(static_cast<std::uint32_t>(q.int64(1))));
        q.reset();
      } else {
        for (const auto uid : *uids) {
          auto& one = db.prepare(
              "SELECT id FROM messages WHERE mailbox_id = ? AND uid = ? AND (flags & ?) = ?");
          const auto mask = scope == ExpungeScope::deleted ? std::int64_t{flag_deleted} : 0;
          one.bind_all(mailbox.value, static_cast<std::int64_t>(uid.value), mask, mask);
          if (one.step()) doomed.emplace_back(one.int64(0), uid);
        }
      }
      std::vector<Uid> removed;
      if (doomed.empty()) return removed;
      const auto modseq = allocate_modseq(db, mailbox);
      // Two statements for all of them (their ids and UIDs as JSON arrays), not two a
      // message: SQLite's work per statement is most of an expunge's, and in a batch's
      // savepoint its time grew with the square of their number.
      for (const auto& doomed_one : doomed) removed.push_back(doomed_one.second);
      const auto ids = json_array(doomed, [](const auto& d) { return d.first; });
      const auto expunged = json_array(removed, [](Uid uid) { return uid.value; });
      db.prepare("DELETE FROM messages WHERE id IN (SELECT value FROM json_each(?))")
          .bind_all(ids)
          .run();
      db.prepare(
            "INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) "
            "SELECT ?, value, ? FROM json_each(?)")
          .bind_all(mailbox.value, modseq, expunged)
          .run();
      return removed;
    });
    if (!removed_all.empty()) changed({mailbox});
    return removed_all;
  });
}

}  // namespace postino::store::sqlite
