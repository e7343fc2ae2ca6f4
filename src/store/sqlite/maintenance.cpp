// Opening, start-up recovery, garbage collection and fsck of the SQLite store.
#include <sys/statvfs.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "store/sqlite/schema.hpp"
#include "store/sqlite/store_impl.hpp"

namespace postino::store::sqlite {
namespace {

namespace fs = std::filesystem;

}  // namespace

SqliteStore::SqliteStore(const SqliteOptions& options, std::unique_ptr<Writer> writer,
                         std::unique_ptr<BlobStore> blobs)
    : options_(options),
      writer_(std::move(writer)),
      readers_(options.data_dir / "store.db", options.busy_timeout, prepare_summary_statements),
      blobs_(std::move(blobs)),
      log_(std::make_unique<BodyLog>(options.data_dir / "segments", options.log_segment_bytes)) {}

std::size_t SqliteStore::collect_garbage(std::chrono::seconds grace, const TidyGoOn& go_on) {
  auto candidates = readers_.run([&](Database& db) {
    std::vector<std::string> ids;
    auto& q = db.prepare(unreferenced_blobs_query);
    q.bind_all(static_cast<std::int64_t>(grace.count()));
    while (q.step()) ids.push_back(q.text(0));
    return ids;
  });
  // In batches, a writer's job each: one at a time, a pass after a day of deletions (or a
  // start-up after a month of them) was a commit per body.
  constexpr std::size_t batch = 128;
  std::size_t removed = 0;
  for (std::size_t first = 0; first < candidates.size(); first += batch) {
    if (go_on && !go_on(0)) break;
    const auto last = std::min(candidates.size(), first + batch);
    const std::vector<std::string> ids(candidates.begin() + static_cast<std::ptrdiff_t>(first),
                                       candidates.begin() + static_cast<std::ptrdiff_t>(last));
    auto gone = blobs_->remove_all_if(ids, [&](const std::vector<std::string>& free) {
      // Asked under the blob store's pin lock: drop the rows only if still unreferenced.
      return writer_->run([&](Database& db) {
        std::vector<std::string> dropped;
        for (const auto& id : free) {
          db.prepare("DELETE FROM blobs WHERE id = ? AND refs <= 0").bind_all(id).run();
          if (db.changes() > 0) dropped.push_back(id);
        }
        return dropped;
      });
    });
    if (gone) removed += gone->size();
  }
  return removed;
}

bool SqliteStore::remove_segment(std::int64_t segment) {
  const bool unreferenced = writer_->run([&](Database& db) {
    auto& q = db.prepare("SELECT 1 FROM blob_places WHERE segment = ? LIMIT 1");
    q.bind_all(segment);
    const bool referenced = q.step();
    q.reset();
    if (!referenced) db.prepare("DELETE FROM body_segments WHERE id = ?").bind_all(segment).run();
    return !referenced;
  });
  if (!unreferenced) return false;
  auto removed = log_->remove(segment);
  return removed && *removed;
}

std::pair<std::size_t, bool> SqliteStore::compact_segment(std::int64_t segment,
                                                          const TidyGoOn& go_on) {
  struct Body {
    std::string id;
    BodyPlace from, to;
  };
  auto bodies = readers_.run([&](Database& db) {
    std::vector<Body> out;
    auto& q = db.prepare("SELECT blob_id, offset, size FROM blob_places WHERE segment = ?");
    q.bind_all(segment);
    while (q.step()) out.push_back({q.text(0), {segment, q.int64(1), q.int64(2)}, {}});
    q.reset();
    return out;
  });
  std::size_t moved = 0;
  bool left = false;
  // At most 256 bodies (a writer's job of their updates) and compaction_batch_bytes a batch.
  constexpr std::size_t max_bodies = 256;
  std::size_t next = 0;
  while (next < bodies.size()) {
    std::vector<Body> copied;
    std::vector<BodyPlace> places;
    std::uint64_t batch_bytes = 0;
    for (; next < bodies.size() && copied.size() < max_bodies &&
           (batch_bytes == 0 || batch_bytes + static_cast<std::uint64_t>(bodies[next].from.size) <=
                                    options_.compaction_batch_bytes);
         ++next) {
      auto& body = bodies[next];
      // Only a body that still matches its hash is carried over; the scrub and fsck deal
      // with the others where they are.
      auto bytes = log_->read(body.from);
      if (!bytes || blob_id_for(*bytes) != body.id) {
        left = true;
        continue;
      }
      auto place = log_->append(*bytes);
      if (!place) throw StoreException(place.error());
      body.to = *place;
      places.push_back(*place);
      copied.push_back(body);
      batch_bytes += static_cast<std::uint64_t>(body.from.size);
    }
    if (copied.empty()) continue;
    if (auto r = log_->sync(places); !r) throw StoreException(r.error());
    moved += writer_->run([&](Database& db) {
      std::size_t n = 0;
      for (const auto& body : copied) {
        db.prepare(
              "UPDATE blob_places SET segment = ?, offset = ? WHERE blob_id = ? AND segment = ? "
              "AND offset = ?")
            .bind_all(body.to.segment, body.to.offset, body.id, body.from.segment, body.from.offset)
            .run();
        n += static_cast<std::size_t>(db.changes());
      }
      return n;
    });
    // Paced or stopped between batches; the bodies not reached stay where they are, and
    // the segment with them, until the next tidying.
    if (go_on && !go_on(batch_bytes) && next < bodies.size()) {
      left = true;
      break;
    }
  }
  return {moved, left};
}

std::vector<std::string> SqliteStore::tidy_segments(std::chrono::seconds grace,
                                                    const TidyGoOn& go_on) {
  std::vector<std::string> actions;
  auto segments = log_->segments();
  if (!segments) {
    actions.push_back("body segments not listed: " + segments.error().detail);
    return actions;
  }
  const auto live = readers_.run([&](Database& db) {
    std::map<std::int64_t, std::int64_t> out;
    auto& q = db.prepare("SELECT id, live_bytes FROM body_segments");
    while (q.step()) out[q.int64(0)] = q.int64(1);
    q.reset();
    return out;
  });
  std::size_t removed = 0, compacted = 0, moved = 0;
  for (const auto& segment : *segments) {
    if (go_on && !go_on(0)) break;
    // One still filled, or written lately (a save in flight may name it yet), is left.
    if (segment.in_use || segment.age < grace) continue;
    const auto it = live.find(segment.id);
    const std::int64_t referenced = it == live.end() ? 0 : it->second;
    if (referenced <= 0) {
      if (remove_segment(segment.id)) ++removed;
      continue;
    }
    const auto percent = options_.log_compact_percent;
    if (percent == 0 || static_cast<std::uint64_t>(referenced) * 100 >=
                            segment.bytes * static_cast<std::uint64_t>(percent)) {
      continue;
    }
    try {
      const auto [n, left] = compact_segment(segment.id, go_on);
      moved += n;
      if (!left && remove_segment(segment.id)) ++compacted;
    } catch (const StoreException& e) {
      actions.push_back("body segment " + std::to_string(segment.id) +
                        " not compacted: " + e.error.detail);
    }
  }
  if (removed > 0) {
    actions.push_back("removed " + std::to_string(removed) + " body segments nothing refers to");
  }
  if (compacted > 0 || moved > 0) {
    actions.push_back("compacted " + std::to_string(compacted) + " body segments (" +
                      std::to_string(moved) + " messages moved)");
  }
  return actions;
}

std::vector<std::string> SqliteStore::recover(std::chrono::seconds grace) {
  std::vector<std::string> actions;
  if (auto tmp = blobs_->recover(); tmp && *tmp > 0) {
    actions.push_back("removed " + std::to_string(*tmp) + " temporary blob files left by a crash");
  }
  // Staged blobs: promoted when their metadata was committed before the crash, removed
  // when it was not and they are older than the grace period (younger ones may belong to
  // a save in flight in another process).
  std::size_t promoted = 0, dropped = 0;
  if (auto staged = blobs_->staged()) {
    for (const auto& id : *staged) {
      const bool known = readers_.run([&](Database& db) {
        auto& q = db.prepare("SELECT 1 FROM blobs WHERE id = ?");
        q.bind_all(id);
        return q.step();
      });
      if (known) {
        if (blobs_->promote(id)) ++promoted;
        continue;
      }
      auto age = blobs_->age(id);
      if (!age || *age < grace) continue;
      auto gone = blobs_->remove_if(id, [&] {
        return readers_.run([&](Database& db) {
          auto& q = db.prepare("SELECT 1 FROM blobs WHERE id = ?");
          q.bind_all(id);
          return !q.step();
        });
      });
      if (gone && *gone) ++dropped;
    }
  }
  if (promoted > 0) actions.push_back("promoted " + std::to_string(promoted) + " staged blobs");
  if (dropped > 0) {
    actions.push_back("removed " + std::to_string(dropped) +
                      " blobs whose save never committed (a crash)");
  }
  if (options_.tidy_at_open) {
    for (auto& line : collect_and_tidy(grace, {})) actions.push_back(std::move(line));
  }
  return actions;
}

std::vector<std::string> SqliteStore::collect_and_tidy(std::chrono::seconds grace,
                                                       const TidyGoOn& go_on) {
  std::vector<std::string> actions;
  // First: a collected body's place no longer counts towards its segment's bytes.
  if (auto n = collect_garbage(grace, go_on); n > 0) {
    actions.push_back("collected " + std::to_string(n) + " unreferenced blobs");
  }
  for (auto& line : tidy_segments(grace, go_on)) actions.push_back(std::move(line));
  return actions;
}

Result<std::vector<std::string>> SqliteStore::tidy(const TidyGoOn& go_on) {
  return guard([&] { return collect_and_tidy(options_.blob_grace, go_on); });
}

Result<FsckReport> SqliteStore::fsck(bool repair) {
  return guard([&] {
    FsckReport report;
    struct BlobRow {
      std::int64_t size, refs;
      bool in_database;
      std::optional<BodyPlace> place;  // in the body log
      std::int64_t counted = 0;
    };
    std::map<std::string, BlobRow> rows;
    std::set<std::int64_t> referenced_segments;
    bool segment_counts_wrong = false;
    std::vector<std::pair<std::int64_t, std::string>> messages_without_blob;
    readers_.run([&](Database& db) {
      auto& mb = db.prepare(
          "SELECT b.id, b.name, b.uid_next, b.highest_modseq, max(m.uid), max(m.modseq), "
          "count(m.id), b.message_count = count(m.id) AND "
          "b.unseen_count = coalesce(sum((m.flags & 1) = 0), 0) AND "
          "b.byte_count = coalesce(sum(m.size), 0) AND "
          "b.deleted_count = coalesce(sum((m.flags & 8) != 0), 0) "
          "FROM mailboxes b LEFT JOIN messages m ON m.mailbox_id = b.id GROUP BY b.id");
      while (mb.step()) {
        ++report.mailboxes;
        report.messages += static_cast<std::size_t>(mb.int64(6));
        if (!mb.is_null(4) && mb.int64(4) >= mb.int64(2)) {
          report.problems.push_back("mailbox " + std::to_string(mb.int64(0)) + " (" + mb.text(1) +
                                    "): a UID is not below UIDNEXT");
        }
        if (!mb.is_null(5) && mb.int64(5) > mb.int64(3)) {
          report.problems.push_back("mailbox " + std::to_string(mb.int64(0)) + " (" + mb.text(1) +
                                    "): a MODSEQ is above HIGHESTMODSEQ");
        }
        if (mb.int64(7) == 0) {
          report.problems.push_back("mailbox " + std::to_string(mb.int64(0)) + " (" + mb.text(1) +
                                    "): its message counts are wrong");
        }
      }
      mb.reset();
      auto& b = db.prepare(
          "SELECT b.id, b.size, b.refs, x.blob_id IS NOT NULL, p.segment, p.offset, p.size "
          "FROM blobs b LEFT JOIN blob_bytes x ON x.blob_id = b.id "
          "LEFT JOIN blob_places p ON p.blob_id = b.id");
      while (b.step()) {
        auto& row = rows[b.text(0)];
        row = {b.int64(1), b.int64(2), b.int64(3) != 0, std::nullopt};
        if (!b.is_null(4)) row.place = BodyPlace{b.int64(4), b.int64(5), b.int64(6)};
      }
      b.reset();
      // Each segment's count of referenced bytes, which decides when it is compacted.
      auto& seg = db.prepare(
          "SELECT s.id, s.live_bytes, (SELECT coalesce(sum(size), 0) FROM blob_places p "
          "WHERE p.segment = s.id) FROM body_segments s UNION ALL "
          "SELECT p.segment, NULL, sum(p.size) FROM blob_places p WHERE NOT EXISTS "
          "(SELECT 1 FROM body_segments s WHERE s.id = p.segment) GROUP BY p.segment");
      while (seg.step()) {
        referenced_segments.insert(seg.int64(0));
        if (seg.is_null(1) || seg.int64(1) != seg.int64(2)) {
          report.problems.push_back("body segment " + std::to_string(seg.int64(0)) +
                                    ": its count of referenced bytes is wrong");
          segment_counts_wrong = true;
        }
      }
      seg.reset();
      auto& m = db.prepare(
          "SELECT blob_id, count(*) FROM (SELECT blob_id FROM messages UNION ALL "
          "SELECT blob_id FROM queue) GROUP BY blob_id");
      while (m.step()) {
        auto it = rows.find(m.text(0));
        if (it == rows.end()) {
          report.problems.push_back("messages refer to blob " + m.text(0) + " that has no row");
        } else {
          it->second.counted = m.int64(1);
        }
      }
      m.reset();
      auto& fields = db.prepare(
          "SELECT count(*) FROM messages m "
          "WHERE NOT EXISTS (SELECT 1 FROM message_fields f WHERE f.message_id = m.id)");
      fields.step();
      if (const auto n = fields.int64(0); n > 0) {
        report.problems.push_back(std::to_string(n) +
                                  " messages have no row of fields (FETCH, SEARCH)");
      }
      fields.reset();
    });
    report.blobs = rows.size();
    std::set<std::string> files;
    if (auto listed = blobs_->list()) files.insert(listed->begin(), listed->end());
    std::vector<std::string> bad_refs, missing;
    for (const auto& [id, row] : rows) {
      if (row.refs != row.counted) {
        report.problems.push_back("blob " + id + ": reference count " + std::to_string(row.refs) +
                                  ", referenced " + std::to_string(row.counted) + " times");
        bad_refs.push_back(id);
      }
      if (!row.in_database && row.place) {
        // In the body log (a file of the same content, if any, is a spare copy).
        auto bytes = log_->read(*row.place);
        if (!bytes && bytes.error().kind != ErrorKind::not_found) {
          report.problems.push_back("blob " + id + " cannot be read: " + bytes.error().detail);
        } else if (!bytes) {
          report.problems.push_back("blob " + id + " is missing (" + bytes.error().detail + ")");
          if (row.counted > 0) missing.push_back(id);
        } else if (blob_id_for(*bytes) != id) {
          report.problems.push_back("blob " + id + " does not match its hash");
          if (row.counted > 0) missing.push_back(id);
        }
        continue;
      }
      if (row.in_database) {
        // Kept in the database (a file of the same content, if any, is a spare copy).
        if (auto bytes = inline_body(id); bytes && blob_id_for(*bytes) != id) {
          report.problems.push_back("blob " + id + " does not match its hash");
          if (row.counted > 0) missing.push_back(id);
        }
        continue;
      }
      if (!files.contains(id)) {
        if (row.counted > 0) {
          report.problems.push_back("blob " + id + " is missing");
          missing.push_back(id);
        }
        continue;
      }
      if (auto ok = blobs_->verify(id); ok && !*ok) {
        report.problems.push_back("blob " + id + " does not match its hash");
        if (row.counted > 0) missing.push_back(id);
      }
    }
    std::set<std::string> staged;
    if (auto s = blobs_->staged()) staged.insert(s->begin(), s->end());
    std::vector<std::string> orphans;
    for (const auto& id : files) {
      if (rows.contains(id)) continue;
      // A staged blob younger than the grace period may belong to a save in flight.
      auto age = blobs_->age(id);
      if (staged.contains(id) && age && *age < options_.blob_grace) continue;
      orphans.push_back(id);
    }
    for (const auto& id : orphans) report.problems.push_back("blob file " + id + " has no row");
    // Segments no referenced body is in (left by a crash, or emptied since start-up):
    // removed once old enough not to belong to a save in flight.
    std::vector<std::int64_t> idle_segments;
    if (auto segments = log_->segments()) {
      for (const auto& segment : *segments) {
        // One written lately may belong to a save in flight.
        if (segment.in_use || referenced_segments.contains(segment.id) ||
            segment.age < options_.blob_grace) {
          continue;
        }
        report.problems.push_back("body segment " + std::to_string(segment.id) +
                                  " holds no message");
        idle_segments.push_back(segment.id);
      }
    } else {
      report.problems.push_back("body segments not listed: " + segments.error().detail);
    }
    if (!repair) return report;

    writer_->run_alone([&](Database& db) {
      db.exec("BEGIN IMMEDIATE");
      try {
        // Counts are recomputed from the messages themselves.
        db.exec(
            "UPDATE blobs SET refs = (SELECT count(*) FROM messages WHERE blob_id = blobs.id) + "
            "(SELECT count(*) FROM queue WHERE blob_id = blobs.id)");
        db.exec(
            "UPDATE body_segments SET live_bytes = (SELECT coalesce(sum(size), 0) FROM "
            "blob_places WHERE segment = body_segments.id)");
        db.exec(
            "INSERT INTO body_segments (id, live_bytes) SELECT segment, sum(size) FROM "
            "blob_places WHERE segment NOT IN (SELECT id FROM body_segments) GROUP BY segment");
        db.exec(
            "UPDATE blobs SET unreferenced_since = CASE WHEN refs = 0 "
            "THEN coalesce(unreferenced_since, unixepoch()) ELSE NULL END");
        db.exec(
            "UPDATE mailboxes SET "
            "message_count = (SELECT count(*) FROM messages WHERE mailbox_id = mailboxes.id), "
            "unseen_count = (SELECT count(*) FROM messages WHERE mailbox_id = mailboxes.id "
            "AND (flags & 1) = 0), "
            "byte_count = (SELECT coalesce(sum(size), 0) FROM messages "
            "WHERE mailbox_id = mailboxes.id), "
            "deleted_count = (SELECT count(*) FROM messages WHERE mailbox_id = mailboxes.id "
            "AND (flags & 8) != 0)");
        // What is kept beside each message, copied from its body's row where missing.
        const auto restore = [&](const std::string& sql, std::string_view what) {
          db.exec(sql);
          if (db.changes() > 0) {
            report.repairs.push_back("restored the " + std::string(what) + " of " +
                                     std::to_string(db.changes()) +
                                     " messages from their bodies' rows");
          }
        };
        restore(
            "INSERT INTO message_fields SELECT m.id, b.h_date, b.h_subject, b.h_from, "
            "b.h_sender, b.h_reply_to, b.h_to, b.h_cc, b.h_bcc, b.h_in_reply_to, "
            "b.h_message_id, b.h_references, b.structure FROM messages m "
            "JOIN blobs b ON b.id = m.blob_id "
            "WHERE NOT EXISTS (SELECT 1 FROM message_fields f WHERE f.message_id = m.id)",
            "fields");
        // Not a problem when missing (FETCH formats the ENVELOPE from the fields), but
        // slower.
        restore(
            "INSERT INTO message_envelopes SELECT m.id, b.envelope FROM messages m "
            "JOIN blobs b ON b.id = m.blob_id WHERE b.envelope IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM message_envelopes e WHERE e.message_id = m.id)",
            "ENVELOPE");
        // Messages whose body is gone or damaged cannot be served: they are removed and
        // named in the report (the quarantine is this report and the log).
        for (const auto& id : missing) {
          auto& q = db.prepare(
              "SELECT b.name, m.uid FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id "
              "WHERE m.blob_id = ?");
          q.bind_all(id);
          while (q.step()) {
            report.repairs.push_back("removed message UID " + std::to_string(q.int64(1)) + " in " +
                                     q.text(0) + ": its body (blob " + id + ") is lost");
          }
          q.reset();
          db.prepare("DELETE FROM messages WHERE blob_id = ?").bind_all(id).run();
          auto& queued = db.prepare("SELECT queue_id FROM queue WHERE blob_id = ?");
          queued.bind_all(id);
          while (queued.step()) {
            report.repairs.push_back("removed queue entry " + queued.text(0) + ": its body (blob " +
                                     id + ") is lost");
          }
          queued.reset();
          db.prepare("DELETE FROM queue WHERE blob_id = ?").bind_all(id).run();
        }
        db.exec("COMMIT");
      } catch (...) {
        db.exec("ROLLBACK");
        throw;
      }
    });
    // Nothing refers to a damaged body now: its row and file go as garbage collection
    // takes them (under the pin lock, so that a save of the same content cannot slip in).
    for (const auto& id : missing) {
      auto gone = blobs_->remove_if(id, [&] {
        return writer_->run([&](Database& db) {
          db.prepare("DELETE FROM blobs WHERE id = ? AND refs <= 0").bind_all(id).run();
          return db.changes() > 0;
        });
      });
      if (gone && *gone) report.repairs.push_back("removed damaged blob file " + id);
    }
    if (!bad_refs.empty()) report.repairs.push_back("recomputed reference counts");
    report.repairs.push_back("recomputed quota usage and mailbox counts");
    if (segment_counts_wrong) report.repairs.push_back("recomputed body segment counts");
    for (const auto segment : idle_segments) {
      if (remove_segment(segment)) {
        report.repairs.push_back("removed body segment " + std::to_string(segment) +
                                 " (no message in it)");
      }
    }
    for (const auto& id : orphans) {
      // Orphan files are only removed when old enough not to belong to a save in flight.
      if (auto age = blobs_->age(id); !age || *age < options_.blob_grace) continue;
      if (auto gone = blobs_->remove_if(id, [] { return true; }); gone && *gone) {
        report.repairs.push_back("removed orphan blob file " + id);
      }
    }
    return report;
  });
}

Result<std::uint64_t> SqliteStore::free_bytes() {
  struct statvfs st {};
  if (::statvfs(options_.data_dir.c_str(), &st) != 0) {
    return make_error(ErrorKind::temporary, "statvfs " + options_.data_dir.string());
  }
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options) {
  return guard([&]() -> std::unique_ptr<Store> {
    std::error_code ec;
    fs::create_directories(options.data_dir, ec);
    if (ec)
      throw_error(ErrorKind::temporary,
                  "create " + options.data_dir.string() + ": " + ec.message());
    auto db = Database::open(options.data_dir / "store.db", true, options.busy_timeout,
                             options.page_size);
    migrate(*db);
    // The checkpoint runs on the connection that commits, so only the writer's matters.
    auto& size = db->prepare("PRAGMA page_size");
    const std::int64_t page_bytes = size.step() ? std::max<std::int64_t>(1, size.int64(0)) : 4096;
    size.reset();
    db->exec("PRAGMA wal_autocheckpoint=" +
             std::to_string(std::max<std::int64_t>(
                 1, static_cast<std::int64_t>(options.wal_checkpoint_bytes) / page_bytes)));
    // A negative cache_size is KiB. The pages a big job changes stay in memory until its
    // commit instead of being spilled to the WAL and read back (EXPUNGE of 10,000
    // messages: 275 -> 135-189 ms with 16 MiB against SQLite's 2 MiB). SQLite takes the
    // memory as pages are read, not at once.
    db->exec("PRAGMA cache_size=-" +
             std::to_string(std::max<std::size_t>(1, options.writer_cache_bytes / 1024)));
    auto writer = std::make_unique<Writer>(std::move(db), options.max_batch);
    auto blobs = make_file_blob_store(options.data_dir / "blobs");
    if (options.wrap_blob_store) blobs = options.wrap_blob_store(std::move(blobs));
    auto store = std::make_unique<SqliteStore>(options, std::move(writer), std::move(blobs));
    store->recover(options.blob_grace);
    return store;
  });
}

}  // namespace postino::store::sqlite

namespace postino::store {

Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options) {
  return sqlite::open_sqlite_store(options);
}

}  // namespace postino::store
