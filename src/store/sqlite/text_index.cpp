// The full-text index of IMAP SEARCH BODY and TEXT (see schema.cpp migration 2 and
// docs/ARCHITECTURE.md): looking a string up, and filling the index in the background.
#include "base/unicode.hpp"
#include "mime/codec.hpp"
#include "store/sqlite/store_impl.hpp"

namespace postino::store::sqlite {

Result<TextSearch> SqliteStore::search_text_all(AccountId account, MailboxId mailbox,
                                                TextField field,
                                                const std::vector<std::string_view>& all_of) {
  return guard([&] {
    if (all_of.empty()) throw_error(ErrorKind::invalid, "no search string");
    // An FTS5 string: each needle as one phrase, which the trigram tokenizer turns into a
    // substring match, all of them ANDed (the index intersects them itself); a column
    // filter for HEADER and BODY.
    std::string query = field == TextField::header ? "header : ("
                        : field == TextField::body ? "body : ("
                                                   : "(";
    for (const auto needle : all_of) {
      if (base::utf8_length(needle) < min_indexed_needle_chars)
        throw_error(ErrorKind::invalid, "search string too short");
      if (query.back() != '(') query += " AND ";
      query += '"';
      for (const char c : needle) query += c == '"' ? std::string("\"\"") : std::string(1, c);
      query += '"';
    }
    query += ')';
    return readers_.run([&](Database& db) {
      check_owner(db, account, mailbox);
      TextSearch out;
      // CROSS JOIN keeps this order: the index lookup first, then the blobs and messages
      // it names, each found by its own index (driven from the mailbox's messages instead,
      // SQLite runs the MATCH once per message; found by mailbox, each hit scans the
      // mailbox: both are quadratic).
      auto& q = db.prepare(
          "SELECT m.uid FROM blob_text t CROSS JOIN blobs b INDEXED BY blobs_text "
          "ON b.text_rowid = t.rowid AND b.text_rowid > 0 "
          "CROSS JOIN messages m INDEXED BY messages_blob ON m.blob_id = b.id "
          "WHERE blob_text MATCH ? AND m.mailbox_id = ? ORDER BY m.uid");
      q.bind_all(query, mailbox.value);
      while (q.step()) out.matching.emplace_back(static_cast<std::uint32_t>(q.int64(0)));
      q.reset();
      // From the (few) blobs without text, as above.
      auto& u = db.prepare(
          "SELECT m.uid FROM blobs b INDEXED BY blobs_unindexed "
          "CROSS JOIN messages m INDEXED BY messages_blob ON m.blob_id = b.id "
          "WHERE ifnull(b.text_rowid, 0) = 0 AND m.mailbox_id = ? ORDER BY m.uid");
      u.bind_all(mailbox.value);
      while (u.step()) out.unindexed.emplace_back(static_cast<std::uint32_t>(u.int64(0)));
      u.reset();
      return out;
    });
  });
}

Result<Store::IndexProgress> SqliteStore::index_text(std::size_t max_text_bytes) {
  constexpr std::int64_t max_looked_at = 256;
  return guard([&]() -> IndexProgress {
    if (options_.max_indexed_text_bytes == 0) return {};
    // Saves come first: while mail arrives (one saved in the last text_index_quiet),
    // the index waits and searches read the newest messages instead.
    const auto since_save = std::chrono::steady_clock::now().time_since_epoch() -
                            std::chrono::steady_clock::duration(last_save_.load());
    if (since_save < options_.text_index_quiet) return {0, true, true};
    struct Pending {
      std::string id;
      std::optional<mime::SearchText> text;  // none: too much text to index
    };
    auto waiting = readers_.run([&](Database& db) {
      std::vector<std::pair<std::string, std::string>> out;  // id, encoded structure
      auto& q = db.prepare(
          "SELECT id, structure FROM blobs INDEXED BY blobs_unindexed "
          "WHERE ifnull(text_rowid, 0) = 0 AND text_rowid IS NULL LIMIT ?");
      q.bind_all(max_looked_at);
      while (q.step()) out.emplace_back(q.text(0), std::string(q.blob(1)));
      q.reset();
      return out;
    });
    if (waiting.empty()) return {};
    // Up to max_text_bytes of text (at least one message) per write transaction, so that
    // the saves queued behind it wait little.
    std::vector<Pending> pending;
    std::size_t text_bytes = 0;
    for (const auto& [id, encoded] : waiting) {
      if (!pending.empty() && text_bytes >= max_text_bytes) break;
      pending.push_back({id, std::nullopt});
      auto structure = mime::decode(encoded);
      auto bytes = read_body(body_by_id(id));
      if (!structure || !bytes) continue;  // marked 0, left to reading; fsck tells more
      auto text = mime::search_text(*bytes, *structure, options_.max_indexed_text_bytes);
      if (!text.is_complete) continue;
      text_bytes += text.text.header.size() + text.text.body.size();
      pending.back().text = std::move(text.text);
    }
    // Text extracted outside the write transaction; the rows written in one, which ends
    // early when a save waits for it: the index flushes what it was given at the commit
    // (and merges in proportion), so a short transaction keeps the wait short (a whole
    // batch of 1 MB of text held saves for 200-700 ms).
    const std::size_t written = writer_->run([&](Database& db) {
      std::size_t n = 0;
      for (const auto& p : pending) {
        if (n > 0 && writer_->others_waiting()) break;
        ++n;
        auto& waiting = db.prepare("SELECT 1 FROM blobs WHERE id = ? AND text_rowid IS NULL");
        waiting.bind_all(p.id);
        const bool still_waiting = waiting.step();
        waiting.reset();
        if (!still_waiting) continue;  // collected, or indexed by another node meanwhile
        std::int64_t rowid = 0;
        if (p.text) {
          db.prepare("INSERT INTO blob_text (header, body) VALUES (?, ?)")
              .bind_all(p.text->header, p.text->body)
              .run();
          rowid = db.last_insert_id();
        }
        db.prepare("UPDATE blobs SET text_rowid = ? WHERE id = ?").bind_all(rowid, p.id).run();
      }
      return n;
    });
    if (written < pending.size()) return {written, true, true};  // saves first
    return {pending.size(), pending.size() < waiting.size() ||
                                static_cast<std::int64_t>(waiting.size()) == max_looked_at};
  });
}

}  // namespace postino::store::sqlite
