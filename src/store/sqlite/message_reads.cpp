// Reading the SQLite store's messages: a mailbox's list and what changed in it since a
// MODSEQ, bodies, the details kept from delivery (structure, envelope fields).
#include <algorithm>
#include <map>

#include "mime/codec.hpp"
#include "store/no_wait.hpp"
#include "store/sqlite/read_ahead.hpp"
#include "store/sqlite/store_impl.hpp"

namespace postino::store::sqlite {
namespace {

// The h_date … h_references columns (of message_fields), selected in that order from
// `first` on.
template <class Statement>
void read_envelope_fields(Statement& q, int first, mime::EnvelopeFields& f) {
  std::string* columns[] = {&f.date, &f.subject, &f.from,        &f.sender,     &f.reply_to,  &f.to,
                            &f.cc,   &f.bcc,     &f.in_reply_to, &f.message_id, &f.references};
  for (int i = 0; i < 11; ++i) *columns[i] = q.text(first + i);
}

// The UIDs expunged from a mailbox after a MODSEQ, in UID order.
std::vector<Uid> read_expunged(Database& db, MailboxId mailbox, std::int64_t after) {
  auto& q = db.prepare("SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid");
  q.bind_all(mailbox.value, after);
  std::vector<Uid> out;
  while (q.step()) out.emplace_back(static_cast<std::uint32_t>(q.int64(0)));
  q.reset();
  return out;
}

// The messages of a mailbox with a MODSEQ above `since`, in UID order (all when 0).
std::vector<MessageInfo> read_message_list(Database& db, MailboxId mailbox, std::int64_t since,
                                           std::size_t expected = 0) {
  std::map<std::int64_t, std::vector<std::string>> keywords;
  // Keywords are kept by message, not by mailbox: SQLite walks the mailbox's messages and
  // looks each one up, a probe per message (for 100,000 of them 19 ms warm and about 30 ms
  // of a first SELECT cold, even with no keyword anywhere). When the store holds fewer rows
  // than the mailbox has messages, reading every row and keeping this mailbox's is
  // cheaper; counting them stops at the mailbox's size.
  // A mailbox where no keyword was ever set (mailbox_keywords, migration 7) needs neither.
  auto& defined = db.prepare("SELECT 1 FROM mailbox_keywords WHERE mailbox_id = ? LIMIT 1");
  defined.bind_all(mailbox.value);
  const bool has_keywords = defined.step();
  defined.reset();
  bool scan_keywords = false;
  if (has_keywords && since == 0) {
    auto size = static_cast<std::int64_t>(expected);
    if (size == 0) {
      auto& c = db.prepare("SELECT message_count FROM mailboxes WHERE id = ?");
      c.bind_all(mailbox.value);
      if (c.step()) size = c.int64(0);
      c.reset();
    }
    auto& n = db.prepare("SELECT count(*) FROM (SELECT 1 FROM message_keywords LIMIT ?)");
    n.bind_all(size);
    scan_keywords = n.step() && n.int64(0) < size;
    n.reset();
  }
  auto& k = scan_keywords
                ? db.prepare(
                      "SELECT k.message_id, k.keyword FROM message_keywords k CROSS JOIN "
                      "messages m ON m.id = k.message_id WHERE m.mailbox_id = ? AND m.modseq > ? "
                      "ORDER BY k.keyword")
                : db.prepare(
                      "SELECT k.message_id, k.keyword FROM message_keywords k JOIN messages m "
                      "ON m.id = k.message_id WHERE m.mailbox_id = ? AND m.modseq > ? "
                      "ORDER BY k.keyword");
  if (has_keywords) {
    k.bind_all(mailbox.value, since);
    while (k.step()) keywords[k.int64(0)].push_back(k.text(1));
    k.reset();
  }
  std::vector<MessageInfo> out;
  reserve_messages(out, expected);
  // Everything: the index that holds every column asked for, in UID order (the table is
  // not read); changes: the (mailbox_id, modseq) index (only the changed rows are read),
  // then sorted.
  auto& q = since == 0 ? db.prepare(
                             "SELECT id, uid, modseq, flags, size, internal_date "
                             "FROM messages INDEXED BY messages_list "
                             "WHERE mailbox_id = ? ORDER BY uid")
                       : db.prepare(
                             "SELECT id, uid, modseq, flags, size, internal_date "
                             "FROM messages INDEXED BY messages_modseq "
                             "WHERE mailbox_id = ? AND modseq > ? ORDER BY uid");
  if (since == 0) {
    q.bind_all(mailbox.value);
  } else {
    q.bind_all(mailbox.value, since);
  }
  while (q.step()) {
    MessageInfo m;
    m.uid = Uid(static_cast<std::uint32_t>(q.int64(1)));
    m.mod_seq = ModSeq(static_cast<std::uint64_t>(q.int64(2)));
    m.flags.system = static_cast<std::uint32_t>(q.int64(3));
    if (!keywords.empty()) {
      if (auto it = keywords.find(q.int64(0)); it != keywords.end())
        m.flags.keywords = std::move(it->second);
    }
    m.size = q.int64(4);
    m.internal_date = SystemClock::time_point(std::chrono::seconds(q.int64(5)));
    out.push_back(std::move(m));
  }
  q.reset();
  return out;
}

}  // namespace

Result<std::vector<MessageInfo>> SqliteStore::messages(AccountId account, MailboxId mailbox) {
  return guard([&] {
    return readers_.run([&](Database& db) {
      check_owner(db, account, mailbox);
      return read_message_list(db, mailbox, 0);
    });
  });
}

Result<MailboxChanges> SqliteStore::changes_since(AccountId account, MailboxId mailbox,
                                                  ModSeq since) {
  return guard([&] {
    return readers_.run([&](Database& db) {
      // One read transaction: the mailbox row and its changes as of one commit.
      const ReadTransaction snapshot(db);
      MailboxChanges out;
      out.mailbox = mailbox_row(db, account, mailbox);
      const auto after = static_cast<std::int64_t>(since.value);
      out.changed = read_message_list(
          db, mailbox, after, after == 0 ? static_cast<std::size_t>(out.mailbox.messages) : 0);
      if (after > 0) out.expunged = read_expunged(db, mailbox, after);
      return out;
    });
  });
}

namespace {

// The message's row is there, so a body file that is not is damage to the store (fsck
// names it), not a message expunged meanwhile.
Error damaged_if_missing(Error e) {
  if (e.kind == ErrorKind::not_found) e.kind = ErrorKind::corrupt;
  return e;
}

}  // namespace

Result<std::unique_ptr<BlobReader>> SqliteStore::open_message(AccountId account, MailboxId mailbox,
                                                              Uid uid) {
  return guard([&] {
    auto reader = open_body(body_of(account, mailbox, uid));
    if (!reader) throw StoreException(damaged_if_missing(reader.error()));
    return std::move(*reader);
  });
}

Result<std::string> SqliteStore::read_message(AccountId account, MailboxId mailbox, Uid uid) {
  return guard([&] {
    auto bytes = read_body(body_of(account, mailbox, uid));
    if (!bytes) throw StoreException(damaged_if_missing(bytes.error()));
    return std::move(*bytes);
  });
}

std::string SqliteStore::body_columns() {
  return "x.bytes, p.segment, p.offset, p.size";
}

std::string SqliteStore::body_joins(const std::string& id) {
  return "LEFT JOIN blob_bytes x ON x.blob_id = " + id +
         " LEFT JOIN blob_places p ON p.blob_id = " + id + " ";
}

const std::string& SqliteStore::message_body_query() {
  static const std::string query = "SELECT m.blob_id, " + body_columns() + " FROM messages m " +
                                   body_joins("m.blob_id") + "WHERE m.mailbox_id = ? AND m.uid = ?";
  return query;
}

SqliteStore::BodyRef SqliteStore::body_at(const Statement& q) {
  BodyRef body{q.text(0), std::nullopt, std::nullopt};
  if (!q.is_null(1)) body.bytes = q.blob(1);
  if (!q.is_null(2)) body.place = BodyPlace{q.int64(2), q.int64(3), q.int64(4)};
  return body;
}

SqliteStore::BodyRef SqliteStore::body_of(AccountId account, MailboxId mailbox, Uid uid) {
  return readers_.run([&](Database& db) {
    check_owner(db, account, mailbox);
    auto& q = db.prepare(message_body_query());
    q.bind_all(mailbox.value, static_cast<std::int64_t>(uid.value));
    if (!q.step()) throw_error(ErrorKind::not_found, "no such message");
    return body_at(q);
  });
}

SqliteStore::BodyRef SqliteStore::body_by_id(const std::string& id) {
  static const std::string query =
      "SELECT b.id, " + body_columns() + " FROM blobs b " + body_joins("b.id") + "WHERE b.id = ?";
  return readers_.run([&](Database& db) {
    auto& q = db.prepare(query);
    q.bind_all(id);
    if (!q.step()) return BodyRef{id, std::nullopt, std::nullopt};
    auto body = body_at(q);
    q.reset();
    return body;
  });
}

std::optional<std::string> SqliteStore::inline_body(const std::string& id) {
  return readers_.run([&](Database& db) -> std::optional<std::string> {
    auto& q = db.prepare("SELECT bytes FROM blob_bytes WHERE blob_id = ?");
    q.bind_all(id);
    if (!q.step()) return std::nullopt;
    return q.blob(0);
  });
}

std::optional<SqliteStore::BodyRef> SqliteStore::moved_since(const BodyRef& body,
                                                             const Error& error) {
  if (!body.place || error.kind != ErrorKind::not_found) return std::nullopt;
  auto again = body_by_id(body.id);
  if (!again.place || again.place->segment == body.place->segment) return std::nullopt;
  return again;
}

Result<std::string> SqliteStore::read_body(BodyRef body) {
  if (body.bytes) return std::move(*body.bytes);
  if (!body.place) return blobs_->read(body.id);
  if (options_.before_log_read) options_.before_log_read();
  auto bytes = log_->read(*body.place);
  if (bytes) return bytes;
  if (auto again = moved_since(body, bytes.error())) return read_body(std::move(*again));
  return bytes;
}

Result<std::unique_ptr<BlobReader>> SqliteStore::open_body(BodyRef body) {
  if (body.bytes) return make_memory_blob_reader(std::move(*body.bytes));
  if (!body.place) return blobs_->open(body.id);
  if (options_.before_log_read) options_.before_log_read();
  auto reader = log_->open(*body.place);
  if (reader) return reader;
  if (auto again = moved_since(body, reader.error())) return open_body(std::move(*again));
  return reader;
}

Result<std::vector<std::pair<Uid, std::string>>> SqliteStore::read_messages(
    AccountId account, MailboxId mailbox, const std::vector<Uid>& uids) {
  return guard([&] {
    // One statement for all of them (their UIDs as a JSON array), not one a message: a
    // statement's start, every cursor opened again from its root, cost more than reading
    // a 5 KB body (POP3's read-ahead of 1,000 messages, in sqlite3: 11.9 against 5.0 µs a
    // message). CROSS JOIN keeps json_each outermost, so the rows come in the order asked.
    static const std::string query =
        "SELECT m.blob_id, " + body_columns() +
        ", m.uid FROM json_each(?) j CROSS JOIN messages m ON m.mailbox_id = ? AND "
        "m.uid = j.value " +
        body_joins("m.blob_id");
    auto bodies = readers_.run([&](Database& db) {
      check_owner(db, account, mailbox);
      std::vector<std::pair<Uid, BodyRef>> out;
      auto& q = db.prepare(query);
      q.bind_all(json_array(uids, [](Uid uid) { return uid.value; }), mailbox.value);
      while (q.step()) out.emplace_back(Uid(static_cast<std::uint32_t>(q.int64(5))), body_at(q));
      q.reset();
      return out;
    });
    std::vector<std::pair<Uid, std::string>> out;
    for (auto& [uid, body] : bodies) {
      auto bytes = read_body(std::move(body));
      if (!bytes) break;
      out.emplace_back(uid, std::move(*bytes));
    }
    return out;
  });
}

namespace {

constexpr const char* details_columns =
    "SELECT m.id, m.uid, m.modseq, m.flags, m.size, m.internal_date, f.structure, "
    "f.h_date, f.h_subject, f.h_from, f.h_sender, f.h_reply_to, f.h_to, f.h_cc, f.h_bcc, "
    "f.h_in_reply_to, f.h_message_id, f.h_references, e.envelope FROM messages m "
    "JOIN message_fields f ON f.message_id = m.id "
    "LEFT JOIN message_envelopes e ON e.message_id = m.id ";

// DetailParts::envelope: what the mailbox's list index holds (messages_list: no row of
// messages is read) and the kept ENVELOPE.
constexpr const char* envelope_columns =
    "SELECT m.id, m.uid, m.modseq, m.flags, m.size, m.internal_date, e.envelope "
    "FROM messages m LEFT JOIN message_envelopes e ON e.message_id = m.id ";

template <class Statement>
MessageInfo read_info(Statement& q) {
  MessageInfo info;
  info.uid = Uid(static_cast<std::uint32_t>(q.int64(1)));
  info.mod_seq = ModSeq(static_cast<std::uint64_t>(q.int64(2)));
  info.flags.system = static_cast<std::uint32_t>(q.int64(3));
  info.size = q.int64(4);
  info.internal_date = SystemClock::time_point(std::chrono::seconds(q.int64(5)));
  return info;
}

// One row of details_columns; the keywords are read after.
template <class Statement>
std::pair<std::int64_t, MessageDetails> read_details(Statement& q) {
  MessageDetails d;
  const auto id = q.int64(0);
  d.info = read_info(q);
  auto structure = mime::decode(q.blob(6));
  if (!structure) throw_error(ErrorKind::corrupt, "stored MIME structure is damaged");
  d.structure = std::move(*structure);
  read_envelope_fields(q, 7, d.fields);
  if (!q.is_null(18)) d.envelope = q.text(18);
  return {id, std::move(d)};
}

// Steps `q` (bound, its first column a UID, its rows in UID order) and gives each row with
// the entry of `out` (in UID order too) of its UID, found by walking on from the previous
// row's; rows of UIDs not in `out` are skipped.
template <class Statement, class Fn>
void in_step(Statement& q, std::vector<MessageDetails>& out, Fn fn) {
  std::size_t at = 0;
  while (q.step()) {
    const Uid uid(static_cast<std::uint32_t>(q.int64(0)));
    while (at < out.size() && out[at].info.uid < uid) ++at;
    if (at < out.size() && out[at].info.uid == uid) fn(q, out[at]);
  }
  q.reset();
}

// One row of envelope_columns (the fields of a message without a kept ENVELOPE are read
// after, for the whole range at once).
template <class Statement>
MessageDetails read_envelope(Statement& q) {
  MessageDetails d;
  d.info = read_info(q);
  if (!q.is_null(6)) d.envelope = q.text(6);
  return d;
}

}  // namespace

Result<MessageDetails> SqliteStore::message_details(AccountId account, MailboxId mailbox, Uid uid) {
  return guard([&] {
    return readers_.run([&](Database& db) {
      check_owner(db, account, mailbox);
      auto& q = db.prepare(std::string(details_columns) + "WHERE m.mailbox_id = ? AND m.uid = ?");
      q.bind_all(mailbox.value, static_cast<std::int64_t>(uid.value));
      if (!q.step()) throw_error(ErrorKind::not_found, "no such message");
      auto [id, d] = read_details(q);
      q.reset();
      d.info.flags.keywords = read_keywords(db, id);
      return d;
    });
  });
}

Result<std::vector<MessageDetails>> SqliteStore::messages_details(AccountId account,
                                                                  MailboxId mailbox, Uid first,
                                                                  Uid last, DetailParts parts) {
  return guard([&] {
    return readers_.run([&](Database& db) {
      check_owner(db, account, mailbox);
      std::vector<MessageDetails> out;
      // Room for a batch's rows (FETCH asks for dense ranges): no copies of growing.
      out.reserve(std::min<std::size_t>(last.value - first.value + 1, 1024));
      const bool all = parts == DetailParts::all;
      auto& q = db.prepare(std::string(all ? details_columns : envelope_columns) +
                           "WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid");
      q.bind_all(mailbox.value, static_cast<std::int64_t>(first.value),
                 static_cast<std::int64_t>(last.value));
      bool unkept = false;  // a message saved before ENVELOPEs were kept
      while (q.step()) {
        out.push_back(all ? read_details(q).second : read_envelope(q));
        unkept = unkept || out.back().envelope.empty();
      }
      q.reset();
      if (!all) {
        if (unkept) {
          // Their fields in one more query, in UID order as `out` is (one query per
          // message made FETCH 1:* (ENVELOPE) of such a mailbox 1.7 times as slow).
          auto& f = db.prepare(
              "SELECT m.uid, f.h_date, f.h_subject, f.h_from, f.h_sender, f.h_reply_to, "
              "f.h_to, f.h_cc, f.h_bcc, f.h_in_reply_to, f.h_message_id, f.h_references "
              "FROM messages m JOIN message_fields f ON f.message_id = m.id "
              "WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? AND NOT EXISTS "
              "(SELECT 1 FROM message_envelopes e WHERE e.message_id = m.id) ORDER BY m.uid");
          f.bind_all(mailbox.value, static_cast<std::int64_t>(first.value),
                     static_cast<std::int64_t>(last.value));
          in_step(f, out,
                  [](auto& row, MessageDetails& d) { read_envelope_fields(row, 1, d.fields); });
        }
        return out;
      }
      // The keywords of the whole range in one query too.
      auto& k = db.prepare(
          "SELECT m.uid, k.keyword FROM messages m JOIN message_keywords k ON k.message_id = m.id "
          "WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid, k.keyword");
      k.bind_all(mailbox.value, static_cast<std::int64_t>(first.value),
                 static_cast<std::int64_t>(last.value));
      in_step(k, out,
              [](auto& row, MessageDetails& d) { d.info.flags.keywords.push_back(row.text(1)); });
      return out;
    });
  });
}

namespace {

// The root pages of the b-trees that reads of many messages go through: the list's index
// (the rows' columns and ids), then by message id the kept ENVELOPEs and the fields and
// structure. Empty when one is missing.
struct ReadAheadRoots {
  std::uint32_t list = 0, envelopes = 0, fields = 0;
};
std::optional<ReadAheadRoots> read_ahead_roots(Database& db) {
  ReadAheadRoots roots;
  auto& r = db.prepare(
      "SELECT name, rootpage FROM sqlite_schema WHERE name IN "
      "('messages_list', 'message_envelopes', 'message_fields')");
  while (r.step()) {
    const auto name = r.text(0);
    const auto page = static_cast<std::uint32_t>(r.int64(1));
    (name == "messages_list"       ? roots.list
     : name == "message_envelopes" ? roots.envelopes
                                   : roots.fields) = page;
  }
  r.reset();
  if (roots.list == 0 || roots.envelopes == 0 || roots.fields == 0) return std::nullopt;
  return roots;
}

// Asks the disk for the leaves of the tables rooted at `tables` that hold the rows of `ids`.
void will_need_rows(const BtreeFile& file, std::vector<std::int64_t> ids,
                    std::initializer_list<std::uint32_t> tables) {
  std::sort(ids.begin(), ids.end());
  std::vector<std::uint32_t> pages;
  for (const auto root : tables) {
    const auto leaves = file.table_leaves(root, ids);
    pages.insert(pages.end(), leaves.begin(), leaves.end());
  }
  file.will_need(std::move(pages));
}

}  // namespace

void SqliteStore::read_ahead(AccountId account, MailboxId mailbox, Uid first, Uid last,
                             DetailParts parts) {
  if (no_wait()) return;  // it reads interior pages, which may have to wait
  (void)guard([&] {
    readers_.run([&](Database& db) {
      const auto file = BtreeFile::of(db.handle());
      if (!file) return;
      check_owner(db, account, mailbox);
      // What messages_details() reads: the list's index, then by id the kept ENVELOPEs
      // and, for all parts, the fields and structure.
      const auto roots = read_ahead_roots(db);
      if (!roots) return;
      file->will_need(file->index_leaves(roots->list,
                                         {mailbox.value, static_cast<std::int64_t>(first.value)},
                                         {mailbox.value, static_cast<std::int64_t>(last.value)}));
      // The ids, from those leaves as they arrive (many at once, being asked for together).
      auto& q = db.prepare(
          "SELECT id FROM messages INDEXED BY messages_list "
          "WHERE mailbox_id = ? AND uid BETWEEN ? AND ?");
      q.bind_all(mailbox.value, static_cast<std::int64_t>(first.value),
                 static_cast<std::int64_t>(last.value));
      std::vector<std::int64_t> ids;
      while (q.step()) ids.push_back(q.int64(0));
      q.reset();
      if (parts == DetailParts::all) {
        will_need_rows(*file, std::move(ids), {roots->envelopes, roots->fields});
      } else {
        will_need_rows(*file, std::move(ids), {roots->envelopes});
      }
    });
  });
}

Result<std::vector<std::pair<Uid, mime::EnvelopeFields>>> SqliteStore::envelope_fields(
    AccountId account, MailboxId mailbox) {
  return guard([&] {
    return readers_.run([&](Database& db) {
      check_owner(db, account, mailbox);
      std::vector<std::pair<Uid, mime::EnvelopeFields>> out;
      auto& q = db.prepare(
          "SELECT m.uid, f.h_date, f.h_subject, f.h_from, f.h_sender, f.h_reply_to, f.h_to, "
          "f.h_cc, f.h_bcc, f.h_in_reply_to, f.h_message_id, f.h_references FROM messages m "
          "JOIN message_fields f ON f.message_id = m.id WHERE m.mailbox_id = ? ORDER BY m.uid");
      q.bind_all(mailbox.value);
      while (q.step()) {
        auto& [uid, f] = out.emplace_back();
        uid = Uid(static_cast<std::uint32_t>(q.int64(0)));
        read_envelope_fields(q, 1, f);
      }
      q.reset();
      return out;
    });
  });
}

Result<std::vector<std::pair<Uid, mime::EnvelopeFields>>> SqliteStore::envelope_fields(
    AccountId account, MailboxId mailbox, const std::vector<Uid>& uids) {
  return guard([&] {
    return readers_.run([&](Database& db) {
      check_owner(db, account, mailbox);
      const auto asked = json_array(uids, [](Uid uid) { return uid.value; });
      // Candidates of a search lie anywhere in the mailbox, a random read each when cold
      // (the list's leaf, then the fields' leaf): the disk is asked for all of them at
      // once, the list's leaves, then, their ids read, the fields' (store/sqlite/
      // read_ahead.hpp). For a few, not worth the walks.
      constexpr std::size_t read_ahead_from = 16;
      const auto file =
          uids.size() >= read_ahead_from && !no_wait() ? BtreeFile::of(db.handle()) : std::nullopt;
      if (const auto roots = file ? read_ahead_roots(db) : std::nullopt) {
        std::vector<std::int64_t> keys;
        for (const auto uid : uids) keys.push_back(uid.value);
        std::sort(keys.begin(), keys.end());  // the walk takes them in key order
        file->will_need(file->index_leaves(roots->list, mailbox.value, keys));
        auto& q = db.prepare(
            "SELECT m.id FROM json_each(?) j CROSS JOIN messages m INDEXED BY messages_list "
            "ON m.mailbox_id = ? AND m.uid = j.value");
        q.bind_all(asked, mailbox.value);
        std::vector<std::int64_t> ids;
        while (q.step()) ids.push_back(q.int64(0));
        q.reset();
        will_need_rows(*file, std::move(ids), {roots->fields});
      }
      std::vector<std::pair<Uid, mime::EnvelopeFields>> out;
      auto& q = db.prepare(
          "SELECT m.uid, f.h_date, f.h_subject, f.h_from, f.h_sender, f.h_reply_to, f.h_to, "
          "f.h_cc, f.h_bcc, f.h_in_reply_to, f.h_message_id, f.h_references "
          "FROM json_each(?) j CROSS JOIN messages m INDEXED BY messages_list "
          "ON m.mailbox_id = ? AND m.uid = j.value "
          "JOIN message_fields f ON f.message_id = m.id ORDER BY m.uid");
      q.bind_all(asked, mailbox.value);
      while (q.step()) {
        const Uid uid(static_cast<std::uint32_t>(q.int64(0)));
        if (!out.empty() && out.back().first == uid) continue;  // asked twice
        auto& [at, f] = out.emplace_back();
        at = uid;
        read_envelope_fields(q, 1, f);
      }
      q.reset();
      return out;
    });
  });
}

Result<std::vector<Uid>> SqliteStore::expunged_since(AccountId account, MailboxId mailbox,
                                                     ModSeq since) {
  return guard([&] {
    return readers_.run([&](Database& db) {
      check_owner(db, account, mailbox);
      return read_expunged(db, mailbox, static_cast<std::int64_t>(since.value));
    });
  });
}

}  // namespace postino::store::sqlite
