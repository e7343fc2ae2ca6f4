// The outbound queue of the SQLite store: entries claimed with a lease, attempts recorded
// per recipient, administration. Entries are written by accept() (messages.cpp).
#include <map>

#include "store/sqlite/store_impl.hpp"

namespace postino::store::sqlite {
namespace {

SystemClock::time_point from_unix(std::int64_t t) {
  return SystemClock::time_point(std::chrono::seconds(t));
}

constexpr const char* entry_columns =
    "q.id, q.queue_id, q.sender, b.size, q.created, q.next_attempt, q.attempts, q.held, "
    "q.envid, q.ret, q.delay_warned, q.bounce_requested, ifnull(q.claimed_by, ''), "
    "ifnull(q.lease_until, 0) FROM queue q JOIN blobs b ON b.id = q.blob_id";

// Reads the rows of a query selecting entry_columns, then each entry's recipients.
std::vector<QueueEntry> read_entries(Database& db, Statement& q) {
  std::vector<std::pair<std::int64_t, QueueEntry>> rows;
  while (q.step()) {
    QueueEntry e;
    e.queue_id = q.text(1);
    e.sender = q.text(2);
    e.size = q.int64(3);
    e.created = from_unix(q.int64(4));
    e.next_attempt = from_unix(q.int64(5));
    e.attempts = static_cast<int>(q.int64(6));
    e.is_held = q.int64(7) != 0;
    e.envid = q.text(8);
    e.ret = static_cast<int>(q.int64(9));
    e.delay_warned = q.int64(10) != 0;
    e.bounce_requested = q.int64(11) != 0;
    e.claimed_by = q.text(12);
    e.lease_until = from_unix(q.int64(13));
    rows.emplace_back(q.int64(0), std::move(e));
  }
  q.reset();
  std::vector<QueueEntry> out;
  for (auto& [row, e] : rows) {
    auto& r = db.prepare(
        "SELECT address, orcpt, notify, status, last_reply FROM queue_recipients "
        "WHERE queue_row = ? ORDER BY position");
    r.bind_all(row);
    while (r.step()) {
      e.recipients.push_back({r.text(0), r.text(1), static_cast<std::uint32_t>(r.int64(2))});
      e.statuses.push_back(static_cast<int>(r.int64(3)));
      e.last_replies.push_back(r.text(4));
    }
    r.reset();
    out.push_back(std::move(e));
  }
  return out;
}

std::int64_t row_of(Database& db, std::string_view queue_id) {
  auto& q = db.prepare("SELECT id FROM queue WHERE queue_id = ?");
  q.bind_all(queue_id);
  if (!q.step()) throw_error(ErrorKind::not_found, "no such queue entry");
  const auto row = q.int64(0);
  q.reset();
  return row;
}

}  // namespace

Result<std::vector<QueueEntry>> SqliteStore::list_queue() {
  return guard([&] {
    return readers_.run([&](Database& db) {
      auto& q = db.prepare(std::string("SELECT ") + entry_columns + " ORDER BY q.created, q.id");
      return read_entries(db, q);
    });
  });
}

Result<QueueEntry> SqliteStore::queue_entry(std::string_view queue_id) {
  return guard([&] {
    return readers_.run([&](Database& db) {
      auto& q = db.prepare(std::string("SELECT ") + entry_columns + " WHERE q.queue_id = ?");
      q.bind_all(queue_id);
      auto entries = read_entries(db, q);
      if (entries.empty()) throw_error(ErrorKind::not_found, "no such queue entry");
      return std::move(entries.front());
    });
  });
}

Result<std::vector<QueueEntry>> SqliteStore::claim_queue(std::string_view node,
                                                         SystemClock::time_point now,
                                                         SystemClock::time_point lease_until,
                                                         std::size_t limit) {
  return guard([&]() -> std::vector<QueueEntry> {
    const auto at = to_unix(now);
    constexpr const char* due =
        "next_attempt <= ?1 AND held = 0 AND (claimed_by IS NULL OR lease_until < ?1)";
    // Most polls find nothing due: they ask a reader and never wait for the writer.
    const bool any = readers_.run([&](Database& db) {
      auto& q = db.prepare(std::string("SELECT 1 FROM queue WHERE ") + due + " LIMIT 1");
      q.bind_all(at);
      const bool found = q.step();
      q.reset();
      return found;
    });
    if (!any) return {};
    return writer_->run([&](Database& db) {
      auto& q = db.prepare(std::string("SELECT id FROM queue WHERE ") + due +
                           " ORDER BY next_attempt, id LIMIT ?2");
      q.bind_all(at, static_cast<std::int64_t>(limit));
      std::vector<std::int64_t> rows;
      while (q.step()) rows.push_back(q.int64(0));
      q.reset();
      std::vector<QueueEntry> out;
      for (const auto row : rows) {
        db.prepare("UPDATE queue SET claimed_by = ?, lease_until = ? WHERE id = ?")
            .bind_all(node, to_unix(lease_until), row)
            .run();
        auto& e = db.prepare(std::string("SELECT ") + entry_columns + " WHERE q.id = ?");
        e.bind_all(row);
        for (auto& entry : read_entries(db, e)) out.push_back(std::move(entry));
      }
      return out;
    });
  });
}

Result<std::size_t> SqliteStore::clamp_queue(SystemClock::time_point latest) {
  return guard([&] {
    const auto at = to_unix(latest);
    const bool any = readers_.run([&](Database& db) {
      auto& q = db.prepare("SELECT 1 FROM queue WHERE next_attempt > ? LIMIT 1");
      q.bind_all(at);
      const bool found = q.step();
      q.reset();
      return found;
    });
    if (!any) return std::size_t{0};
    return writer_->run([&](Database& db) {
      db.prepare("UPDATE queue SET next_attempt = ?1 WHERE next_attempt > ?1").bind_all(at).run();
      return static_cast<std::size_t>(db.changes());
    });
  });
}

Result<std::size_t> SqliteStore::release_claims(std::string_view node) {
  return guard([&] {
    return writer_->run([&](Database& db) {
      db.prepare("UPDATE queue SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = ?")
          .bind_all(node)
          .run();
      return static_cast<std::size_t>(db.changes());
    });
  });
}

Result<std::unique_ptr<BlobReader>> SqliteStore::open_queued(std::string_view queue_id) {
  return guard([&] {
    auto body = readers_.run([&](Database& db) {
      static const std::string query = "SELECT q.blob_id, " + body_columns() + " FROM queue q " +
                                       body_joins("q.blob_id") + "WHERE q.queue_id = ?";
      auto& q = db.prepare(query);
      q.bind_all(queue_id);
      if (!q.step()) throw_error(ErrorKind::not_found, "no such queue entry");
      auto out = body_at(q);
      q.reset();
      return out;
    });
    auto reader = open_body(std::move(body));
    if (!reader) throw StoreException(reader.error());
    return std::move(*reader);
  });
}

Result<void> SqliteStore::finish_attempt(std::string_view queue_id, std::string_view node,
                                         const QueueAttempt& attempt) {
  return guard([&] {
    writer_->run([&](Database& db) {
      const auto row = row_of(db, queue_id);
      for (const auto& r : attempt.recipients) {
        db.prepare(
              "UPDATE queue_recipients SET status = ?, last_reply = ? "
              "WHERE queue_row = ? AND position = ? AND status = 0")
            .bind_all(static_cast<std::int64_t>(r.status), r.reply, row,
                      static_cast<std::int64_t>(r.position))
            .run();
      }
      auto& pending =
          db.prepare("SELECT count(*) FROM queue_recipients WHERE queue_row = ? AND status = 0");
      pending.bind_all(row);
      pending.step();
      const bool done = pending.int64(0) == 0;
      pending.reset();
      if (done) {
        db.prepare("DELETE FROM queue WHERE id = ?").bind_all(row).run();
        return;
      }
      // A claim taken over by another node after our lease ran out stays theirs. A bounce
      // asked for while this attempt was under way (an attempt that acts on one leaves no
      // entry) stays asked for, and due when it was asked: the attempt does not undo it.
      db.prepare(
            "UPDATE queue SET attempts = attempts + 1, "
            "next_attempt = CASE WHEN bounce_requested = 1 THEN min(next_attempt, ?1) ELSE ?1 END, "
            "delay_warned = max(delay_warned, ?2), "
            "claimed_by = CASE WHEN claimed_by = ?3 THEN NULL ELSE claimed_by END, "
            "lease_until = CASE WHEN claimed_by = ?3 THEN NULL ELSE lease_until END WHERE id = ?4")
          .bind_all(to_unix(attempt.next_attempt), std::int64_t{attempt.delay_warned}, node, row)
          .run();
    });
  });
}

Result<std::size_t> SqliteStore::change_queue(std::string_view queue_id, QueueAction action) {
  return guard([&] {
    return writer_->run([&](Database& db) -> std::size_t {
      const auto now = to_unix(SystemClock::now());
      std::string sql;
      switch (action) {
        case QueueAction::hold:
          sql = "UPDATE queue SET held = 1 WHERE queue_id = ?1";
          break;
        case QueueAction::release:
          sql = "UPDATE queue SET held = 0, next_attempt = ?2 WHERE held = 1";
          break;
        case QueueAction::flush:
          sql = "UPDATE queue SET next_attempt = ?2 WHERE held = 0";
          break;
        case QueueAction::bounce:
          sql = "UPDATE queue SET bounce_requested = 1, held = 0, next_attempt = ?2 WHERE 1";
          break;
        case QueueAction::remove:
          sql = "DELETE FROM queue WHERE queue_id = ?1";
          break;
      }
      if (action != QueueAction::hold && action != QueueAction::remove) {
        if (!queue_id.empty()) sql += " AND queue_id = ?1";
      }
      const bool takes_all = action == QueueAction::flush || action == QueueAction::release;
      if (queue_id.empty() && !takes_all) throw_error(ErrorKind::invalid, "a queue id is needed");
      if (!queue_id.empty()) row_of(db, queue_id);  // not_found for an unknown id
      auto& statement = db.prepare(sql);
      if (sql.find("?1") != std::string::npos) statement.bind(1, queue_id);
      if (sql.find("?2") != std::string::npos) statement.bind(2, now);
      statement.run();
      return static_cast<std::size_t>(db.changes());
    });
  });
}

}  // namespace postino::store::sqlite
