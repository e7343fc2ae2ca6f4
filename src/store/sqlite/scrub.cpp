// The background scrub of the SQLite store (Store::scrub, RELIABILITY C05): bodies checked
// against the hash that names them; one found missing or damaged is quarantined, so that
// clients stop being served a body that is not the message (a zeroed file keeps its size:
// only the hash tells) and the administrator finds what was lost in one place.
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>

#include "base/durable_file.hpp"
#include "store/sqlite/store_impl.hpp"

namespace postino::store::sqlite {
namespace {

// A message whose body is the damaged one.
struct Holder {
  AccountId account;
  std::string address;
  MailboxId mailbox;
  std::string mailbox_name;
  Uid uid;
};

// A damaged body's bytes kept in quarantine/ for whoever wants to look at them.
Result<void> keep_in_quarantine(const std::filesystem::path& into, const std::string& id,
                                std::string_view bytes) {
  std::error_code ec;
  std::filesystem::create_directories(into, ec);
  if (auto err = base::write_file_durably(into / id, bytes, 0600); !err.empty()) {
    return make_error(ErrorKind::temporary, "quarantine blob " + id + ": " + err);
  }
  return {};
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

Result<Store::ScrubProgress> SqliteStore::scrub(std::string_view after, std::uint64_t max_bytes) {
  return guard([&] {
    constexpr std::int64_t batch = 256;
    ScrubProgress progress;
    progress.last = std::string(after);
    const auto bodies = readers_.run([&](Database& db) {
      std::vector<std::pair<std::string, std::int64_t>> out;
      auto& q =
          db.prepare("SELECT id, size FROM blobs WHERE id > ? AND refs > 0 ORDER BY id LIMIT ?");
      q.bind_all(progress.last, batch);
      while (q.step()) out.emplace_back(q.text(0), q.int64(1));
      q.reset();
      return out;
    });
    progress.done = bodies.size() < static_cast<std::size_t>(batch);
    for (const auto& [id, size] : bodies) {
      if (progress.checked > 0 && progress.bytes >= max_bytes) {
        progress.done = false;
        break;
      }
      progress.last = id;
      ++progress.checked;
      progress.bytes += static_cast<std::uint64_t>(size);
      auto body = body_by_id(id);
      if (body.bytes) {
        if (blob_id_for(*body.bytes) != id)
          quarantine_blob(id, Kept::database, "does not match its hash", progress.quarantined);
        continue;
      }
      if (body.place) {
        auto bytes = log_->read(*body.place);
        if (bytes && blob_id_for(*bytes) == id) continue;
        if (!bytes && bytes.error().kind != ErrorKind::not_found) {
          progress.unreadable.push_back("blob " + id + ": " + bytes.error().detail);
          continue;
        }
        quarantine_blob(id, Kept::log, bytes ? "does not match its hash" : "is missing",
                        progress.quarantined);
        continue;
      }
      auto ok = blobs_->verify(id);
      if (ok && *ok) continue;
      if (!ok && ok.error().kind != ErrorKind::not_found) {
        progress.unreadable.push_back("blob " + id + ": " + ok.error().detail);
        continue;
      }
      quarantine_blob(id, Kept::file, ok ? "does not match its hash" : "is missing",
                      progress.quarantined);
    }
    return progress;
  });
}

void SqliteStore::quarantine_blob(const std::string& id, Kept kept, const std::string& damage,
                                  std::vector<std::string>& described) {
  std::vector<Holder> holders;
  std::vector<std::string> queued;
  const auto dir = options_.data_dir / "quarantine";
  // Who refers to it is asked under the blob store's pin lock as the file is moved (in the
  // writer as the row is removed, for a body kept in the database): an expunge and garbage
  // collection in between would otherwise be taken for damage.
  const auto refer_to_it = [&] {
    return readers_.run([&](Database& db) {
      holders.clear();
      queued.clear();
      auto& m = db.prepare(
          "SELECT b.account_id, a.address, m.mailbox_id, b.name, m.uid FROM messages m "
          "JOIN mailboxes b ON b.id = m.mailbox_id JOIN accounts a ON a.id = b.account_id "
          "WHERE m.blob_id = ? ORDER BY a.address, b.name, m.uid");
      m.bind_all(id);
      while (m.step()) {
        holders.push_back({AccountId{m.int64(0)}, m.text(1), MailboxId{m.int64(2)}, m.text(3),
                           Uid{static_cast<std::uint32_t>(m.int64(4))}});
      }
      m.reset();
      // Entries held already (by an earlier pass, say) are left as they are.
      auto& q =
          db.prepare("SELECT queue_id FROM queue WHERE blob_id = ? AND held = 0 ORDER BY queue_id");
      q.bind_all(id);
      while (q.step()) queued.push_back(q.text(0));
      q.reset();
      return !holders.empty() || !queued.empty();
    });
  };
  auto moved = kept == Kept::database ? quarantine_inline(id, dir, refer_to_it)
               : kept == Kept::log    ? quarantine_logged(id, dir, refer_to_it)
                                      : blobs_->quarantine(id, dir, refer_to_it);
  if (!moved) throw StoreException(moved.error());
  if (!*moved) return;  // mended, pinned by a save or no longer referred to meanwhile

  std::vector<std::string> lines;
  // Expunged as a client's EXPUNGE would: MODSEQ, VANISHED and live sessions told.
  std::map<std::pair<std::int64_t, std::int64_t>, std::vector<Uid>> by_mailbox;
  for (const auto& h : holders) by_mailbox[{h.account.value, h.mailbox.value}].push_back(h.uid);
  for (const auto& [key, uids] : by_mailbox) {
    auto gone = expunge(AccountId{key.first}, MailboxId{key.second}, uids, ExpungeScope::listed);
    if (!gone) throw StoreException(gone.error());
  }
  for (const auto& h : holders) {
    lines.push_back("message UID " + std::to_string(h.uid.value) + " in " + h.mailbox_name +
                    " of " + h.address + ": expunged");
  }
  // A queued message is held, not dropped: the administrator decides (postino queue).
  for (const auto& queue_id : queued) {
    auto held = change_queue(queue_id, QueueAction::hold);
    if (!held) throw StoreException(held.error());
    lines.push_back("queue entry " + queue_id + ": held");
  }
  // The note says what the body was; a later finding (a held entry released, say) adds to it.
  const auto note_path = dir / (id + ".txt");
  std::string note;
  if (std::ifstream in(note_path, std::ios::binary); in) {
    note.assign(std::istreambuf_iterator<char>(in), {});
  }
  note += "blob " + id + " " + damage + " (found by the scrub at " + utc_now() + ")\n";
  for (const auto& line : lines) note += line + "\n";
  if (auto err = base::write_file_durably(note_path, note, 0600); !err.empty()) {
    lines.push_back("note not written: " + err);
  }
  for (const auto& line : lines) described.push_back("blob " + id + " " + damage + ": " + line);
  if (lines.empty()) described.push_back("blob " + id + " " + damage);
}

Result<bool> SqliteStore::quarantine_inline(const std::string& id,
                                            const std::filesystem::path& into,
                                            const std::function<bool()>& confirm) {
  // In the writer, so that no save slips in between the check and the removal: a save of
  // the same content writes its bytes again (messages.cpp) and so mends them.
  return writer_->run([&](Database& db) -> Result<bool> {
    auto& q = db.prepare("SELECT bytes FROM blob_bytes WHERE blob_id = ?");
    q.bind_all(id);
    if (!q.step()) return false;
    const auto bytes = q.blob(0);
    q.reset();
    if (blob_id_for(bytes) == id || !confirm()) return false;
    if (auto kept = keep_in_quarantine(into, id, bytes); !kept) return kept.error();
    db.prepare("DELETE FROM blob_bytes WHERE blob_id = ?").bind_all(id).run();
    return true;
  });
}

Result<bool> SqliteStore::quarantine_logged(const std::string& id,
                                            const std::filesystem::path& into,
                                            const std::function<bool()>& confirm) {
  // In the writer, as for a body in the database, so that no save slips in between the
  // check and the removal: a save of the same content moves the place to the bytes it
  // wrote, which mends it (the check then finds them sound).
  return writer_->run([&](Database& db) -> Result<bool> {
    auto& q = db.prepare("SELECT segment, offset, size FROM blob_places WHERE blob_id = ?");
    q.bind_all(id);
    if (!q.step()) return false;
    const BodyPlace place{q.int64(0), q.int64(1), q.int64(2)};
    q.reset();
    auto bytes = log_->read(place);
    if (!bytes && bytes.error().kind != ErrorKind::not_found) return bytes.error();
    if ((bytes && blob_id_for(*bytes) == id) || !confirm()) return false;
    if (bytes) {
      if (auto kept = keep_in_quarantine(into, id, *bytes); !kept) return kept.error();
    }
    db.prepare("DELETE FROM blob_places WHERE blob_id = ?").bind_all(id).run();
    return true;
  });
}

}  // namespace postino::store::sqlite
