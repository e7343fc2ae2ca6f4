// Schema migrations; see schema.hpp. A migration is never edited once released: changes
// go into a new one.
#include "store/sqlite/schema.hpp"

#include <sqlite3.h>

#include <exception>
#include <new>
#include <string>

#include "mime/imap_envelope.hpp"

namespace postino::store::sqlite {
namespace {

// imap_envelope(h_date, …, h_references): the ENVELOPE of a body saved before they were
// kept (migration 8), formatted as a save formats it.
// Called by SQLite: nothing may be thrown through it.
void imap_envelope_function(sqlite3_context* context, int argc, sqlite3_value** argv) {
  try {
    mime::EnvelopeFields f;
    std::string* columns[] = {&f.date,        &f.subject,    &f.from,      &f.sender,
                              &f.reply_to,    &f.to,         &f.cc,        &f.bcc,
                              &f.in_reply_to, &f.message_id, &f.references};
    for (int i = 0; i < argc && i < 11; ++i) {
      const auto* text = sqlite3_value_text(argv[i]);
      if (text)
        columns[i]->assign(reinterpret_cast<const char*>(text), sqlite3_value_bytes(argv[i]));
    }
    const auto envelope = mime::format_imap_envelope(f);
    sqlite3_result_text(context, envelope.data(), static_cast<int>(envelope.size()),
                        SQLITE_TRANSIENT);
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(context);
  } catch (const std::exception& e) {
    sqlite3_result_error(context, e.what(), -1);
  }
}

constexpr const char* migrations[] = {
    // 1: accounts, mailboxes, messages, blobs.
    R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES ('last_uid_validity', 0);

CREATE TABLE domains (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);

CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  domain_id INTEGER NOT NULL REFERENCES domains(id),
  address TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  scram TEXT NOT NULL DEFAULT '',
  quota_bytes INTEGER NOT NULL DEFAULT 0,
  quota_messages INTEGER NOT NULL DEFAULT 0,
  used_bytes INTEGER NOT NULL DEFAULT 0,
  used_messages INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX accounts_domain ON accounts(domain_id);

CREATE TABLE aliases (
  id INTEGER PRIMARY KEY,
  domain_id INTEGER NOT NULL REFERENCES domains(id),
  address TEXT NOT NULL UNIQUE  -- "local@domain", or "@domain" for the catch-all
);
CREATE INDEX aliases_domain ON aliases(domain_id);
CREATE TABLE alias_targets (
  alias_id INTEGER NOT NULL REFERENCES aliases(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  target TEXT NOT NULL,
  PRIMARY KEY (alias_id, position)
) WITHOUT ROWID;

CREATE TABLE mailboxes (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  uid_validity INTEGER NOT NULL,
  uid_next INTEGER NOT NULL,
  highest_modseq INTEGER NOT NULL,
  special_use INTEGER NOT NULL DEFAULT 0,
  subscribed INTEGER NOT NULL DEFAULT 0,
  UNIQUE (account_id, name)
);

CREATE TABLE blobs (
  id TEXT PRIMARY KEY,           -- lower-case hex SHA-256 of the content
  size INTEGER NOT NULL,
  refs INTEGER NOT NULL,         -- messages pointing at it (kept by triggers)
  unreferenced_since INTEGER,    -- unix time refs dropped to 0; collected after a grace
  -- Parsed once at delivery (DESIGN: IMAP caches): the MIME structure (mime/codec) and
  -- the header fields of ENVELOPE, SEARCH and SORT, unfolded.
  structure BLOB NOT NULL,
  h_date TEXT NOT NULL, h_subject TEXT NOT NULL, h_from TEXT NOT NULL, h_sender TEXT NOT NULL,
  h_reply_to TEXT NOT NULL, h_to TEXT NOT NULL, h_cc TEXT NOT NULL, h_bcc TEXT NOT NULL,
  h_in_reply_to TEXT NOT NULL, h_message_id TEXT NOT NULL, h_references TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  internal_date INTEGER NOT NULL,  -- unix seconds
  size INTEGER NOT NULL,
  blob_id TEXT NOT NULL REFERENCES blobs(id),
  UNIQUE (mailbox_id, uid)
);
CREATE INDEX messages_blob ON messages(blob_id);

CREATE TABLE message_keywords (
  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  keyword TEXT NOT NULL,
  PRIMARY KEY (message_id, keyword)
) WITHOUT ROWID;

-- Expunged UIDs with the MODSEQ of their removal (RFC 7162 VANISHED).
CREATE TABLE expunged (
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;

-- The outbound queue (DESIGN: durable, in the store): one row per accepted message for
-- remote recipients, claimed with a lease so that several nodes can share it.
CREATE TABLE queue (
  id INTEGER PRIMARY KEY,
  queue_id TEXT NOT NULL UNIQUE,
  blob_id TEXT NOT NULL REFERENCES blobs(id),
  sender TEXT NOT NULL,            -- '' is the null reverse-path
  envid TEXT NOT NULL,
  ret INTEGER NOT NULL,            -- 0 unspecified, 1 FULL, 2 HDRS (RFC 3461)
  created INTEGER NOT NULL,        -- unix time the message was accepted
  next_attempt INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  held INTEGER NOT NULL DEFAULT 0,
  claimed_by TEXT,
  lease_until INTEGER
);
CREATE INDEX queue_next ON queue(next_attempt);
CREATE TABLE queue_recipients (
  queue_row INTEGER NOT NULL REFERENCES queue(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  address TEXT NOT NULL,
  orcpt TEXT NOT NULL,             -- "type;address" as given, '' when absent
  notify INTEGER NOT NULL,         -- bits: 1 never, 2 success, 4 failure, 8 delay
  status INTEGER NOT NULL DEFAULT 0,  -- 0 pending, 1 delivered, 2 failed
  last_reply TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (queue_row, position)
) WITHOUT ROWID;

CREATE TRIGGER queue_after_insert AFTER INSERT ON queue BEGIN
  UPDATE blobs SET refs = refs + 1, unreferenced_since = NULL WHERE id = NEW.blob_id;
END;
CREATE TRIGGER queue_after_delete AFTER DELETE ON queue BEGIN
  UPDATE blobs SET refs = refs - 1,
         unreferenced_since = CASE WHEN refs = 1 THEN unixepoch() ELSE unreferenced_since END
   WHERE id = OLD.blob_id;
END;

-- Reference counts and quota usage follow every insert and delete of a message.
CREATE TRIGGER messages_after_insert AFTER INSERT ON messages BEGIN
  UPDATE blobs SET refs = refs + 1, unreferenced_since = NULL WHERE id = NEW.blob_id;
  UPDATE accounts SET used_bytes = used_bytes + NEW.size, used_messages = used_messages + 1
   WHERE id = (SELECT account_id FROM mailboxes WHERE id = NEW.mailbox_id);
END;
CREATE TRIGGER messages_after_delete AFTER DELETE ON messages BEGIN
  UPDATE blobs SET refs = refs - 1,
         unreferenced_since = CASE WHEN refs = 1 THEN unixepoch() ELSE unreferenced_since END
   WHERE id = OLD.blob_id;
  UPDATE accounts SET used_bytes = used_bytes - OLD.size, used_messages = used_messages - 1
   WHERE id = (SELECT account_id FROM mailboxes WHERE id = OLD.mailbox_id);
END;
CREATE TRIGGER messages_after_move AFTER UPDATE OF mailbox_id ON messages BEGIN
  UPDATE accounts SET used_bytes = used_bytes - OLD.size, used_messages = used_messages - 1
   WHERE id = (SELECT account_id FROM mailboxes WHERE id = OLD.mailbox_id);
  UPDATE accounts SET used_bytes = used_bytes + NEW.size, used_messages = used_messages + 1
   WHERE id = (SELECT account_id FROM mailboxes WHERE id = NEW.mailbox_id);
END;
)sql",
    // 2: the full-text index of SEARCH BODY and TEXT (SQLite FTS5, trigram tokenizer:
    // any substring of three characters or more, Unicode case folding), filled in the
    // background (Store::index_text). blobs.text_rowid: the blob's row in blob_text; NULL
    // while waiting to be indexed; 0 when it has too much text to be. Blobs without a row
    // are read by the search instead.
    R"sql(
CREATE VIRTUAL TABLE blob_text USING fts5(header, body, tokenize = 'trigram');
ALTER TABLE blobs ADD COLUMN text_rowid INTEGER;
CREATE INDEX blobs_text ON blobs(text_rowid) WHERE text_rowid > 0;
CREATE INDEX blobs_unindexed ON blobs(id) WHERE ifnull(text_rowid, 0) = 0;
CREATE TRIGGER blobs_after_delete AFTER DELETE ON blobs WHEN OLD.text_rowid > 0 BEGIN
  DELETE FROM blob_text WHERE rowid = OLD.text_rowid;
END;
)sql",
    // 3: the outbound queue's delay warning (sent once) and an administrator's bounce
    // request, carried out by the server that delivers the entry.
    R"sql(
ALTER TABLE queue ADD COLUMN delay_warned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queue ADD COLUMN bounce_requested INTEGER NOT NULL DEFAULT 0;
)sql",
    // 4: a mailbox's counts kept in its row by triggers (STATUS, LIST-STATUS and SELECT
    // read one row instead of adding up every message), its messages by MODSEQ (what
    // changed since a session or a cached view last looked is found without reading the
    // rest: NOOP and IDLE of a big mailbox, CONDSTORE), and its message list in one index.
    R"sql(
ALTER TABLE mailboxes ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN unseen_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN byte_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN deleted_count INTEGER NOT NULL DEFAULT 0;
UPDATE mailboxes SET
  message_count = (SELECT count(*) FROM messages WHERE mailbox_id = mailboxes.id),
  unseen_count = (SELECT count(*) FROM messages
                  WHERE mailbox_id = mailboxes.id AND (flags & 1) = 0),
  byte_count = (SELECT coalesce(sum(size), 0) FROM messages WHERE mailbox_id = mailboxes.id),
  deleted_count = (SELECT count(*) FROM messages
                   WHERE mailbox_id = mailboxes.id AND (flags & 8) != 0);
CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);
-- Every column of a mailbox's message list (Store::messages, changes_since from 0) in UID
-- order: SELECT of a mailbox not in the view cache reads this index alone, about a third
-- of the table's pages (100,000 messages, cold page cache: 208 -> 25 ms in sqlite3).
CREATE INDEX messages_list ON messages(mailbox_id, uid, modseq, flags, size, internal_date);
CREATE TRIGGER messages_count_insert AFTER INSERT ON messages BEGIN
  UPDATE mailboxes SET message_count = message_count + 1,
         unseen_count = unseen_count + ((NEW.flags & 1) = 0), byte_count = byte_count + NEW.size,
         deleted_count = deleted_count + ((NEW.flags & 8) != 0)
   WHERE id = NEW.mailbox_id;
END;
CREATE TRIGGER messages_count_delete AFTER DELETE ON messages BEGIN
  UPDATE mailboxes SET message_count = message_count - 1,
         unseen_count = unseen_count - ((OLD.flags & 1) = 0), byte_count = byte_count - OLD.size,
         deleted_count = deleted_count - ((OLD.flags & 8) != 0)
   WHERE id = OLD.mailbox_id;
END;
CREATE TRIGGER messages_count_update AFTER UPDATE OF mailbox_id, flags, size ON messages
  WHEN OLD.mailbox_id != NEW.mailbox_id OR (OLD.flags & 9) != (NEW.flags & 9)
    OR OLD.size != NEW.size BEGIN
  UPDATE mailboxes SET message_count = message_count - 1,
         unseen_count = unseen_count - ((OLD.flags & 1) = 0), byte_count = byte_count - OLD.size,
         deleted_count = deleted_count - ((OLD.flags & 8) != 0)
   WHERE id = OLD.mailbox_id;
  UPDATE mailboxes SET message_count = message_count + 1,
         unseen_count = unseen_count + ((NEW.flags & 1) = 0), byte_count = byte_count + NEW.size,
         deleted_count = deleted_count + ((NEW.flags & 8) != 0)
   WHERE id = NEW.mailbox_id;
END;
)sql",
    // 5: what FETCH, SEARCH and SORT read of each message (its MIME structure and envelope
    // header fields) beside the message, by its row id: FETCH 1:* (ENVELOPE) of a big
    // mailbox walks the messages and these rows in step instead of looking up each body's
    // row by its hash, a random read apiece. Copied from the body's row by a trigger (that
    // row stays the source); goes with the message.
    R"sql(
CREATE TABLE message_fields (
  message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
  h_date TEXT NOT NULL, h_subject TEXT NOT NULL, h_from TEXT NOT NULL, h_sender TEXT NOT NULL,
  h_reply_to TEXT NOT NULL, h_to TEXT NOT NULL, h_cc TEXT NOT NULL, h_bcc TEXT NOT NULL,
  h_in_reply_to TEXT NOT NULL, h_message_id TEXT NOT NULL, h_references TEXT NOT NULL,
  structure BLOB NOT NULL
);
INSERT INTO message_fields
  SELECT m.id, b.h_date, b.h_subject, b.h_from, b.h_sender, b.h_reply_to,
       b.h_to, b.h_cc, b.h_bcc, b.h_in_reply_to, b.h_message_id, b.h_references, b.structure
  FROM messages m JOIN blobs b ON b.id = m.blob_id;
CREATE TRIGGER message_fields_insert AFTER INSERT ON messages BEGIN
  INSERT INTO message_fields
    SELECT NEW.id, b.h_date, b.h_subject, b.h_from, b.h_sender, b.h_reply_to,
       b.h_to, b.h_cc, b.h_bcc, b.h_in_reply_to, b.h_message_id, b.h_references, b.structure
    FROM blobs b WHERE b.id = NEW.blob_id;
END;
)sql",
    // 6: small bodies in the database (DESIGN: "small ones may live in the database"):
    // a file costs its creation, its fsync and its directory's, where a row rides on the
    // commit that saves the message anyway. A body is here, in its file, or both (saved
    // under another inline_body_bytes); the row goes with its blob's row.
    R"sql(
CREATE TABLE blob_bytes (
  blob_id TEXT PRIMARY KEY,
  bytes BLOB NOT NULL
);
CREATE TRIGGER blob_bytes_collected AFTER DELETE ON blobs BEGIN
  DELETE FROM blob_bytes WHERE blob_id = OLD.id;
END;
)sql",
    // 7: what SELECT says of a mailbox without reading its message list (RFC 3501 §6.3.1):
    // the keywords defined in it (FLAGS), kept as Dovecot keeps them, once set on one of its
    // messages and for as long as the mailbox lives; its unseen messages by UID (the first
    // unseen, UNSEEN, is the first entry instead of a walk over every message). A list
    // read also skips the keyword queries of a mailbox that never had one.
    R"sql(
CREATE TABLE mailbox_keywords (
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  keyword TEXT NOT NULL,
  PRIMARY KEY (mailbox_id, keyword)
) WITHOUT ROWID;
INSERT OR IGNORE INTO mailbox_keywords
  SELECT m.mailbox_id, k.keyword FROM message_keywords k JOIN messages m ON m.id = k.message_id;
CREATE TRIGGER message_keywords_defined AFTER INSERT ON message_keywords BEGIN
  INSERT OR IGNORE INTO mailbox_keywords
    SELECT mailbox_id, NEW.keyword FROM messages WHERE id = NEW.message_id;
END;
CREATE TRIGGER messages_keywords_moved AFTER UPDATE OF mailbox_id ON messages BEGIN
  INSERT OR IGNORE INTO mailbox_keywords
    SELECT NEW.mailbox_id, keyword FROM message_keywords WHERE message_id = NEW.id;
END;
CREATE INDEX messages_unseen ON messages(mailbox_id, uid) WHERE (flags & 1) = 0;
)sql",
    // 8: each message's IMAP ENVELOPE as formatted at delivery (DESIGN: IMAP caches), in a
    // table of its own so that FETCH 1:* (ENVELOPE) reads these rows and the list's index,
    // nothing else (100,000 messages, warm: 360-530 -> 200-230 ms, most of it was parsing
    // the address fields again). Formatted once per body and kept with its row, copied for
    // each message by a trigger as message_fields is; goes with the message. The bodies
    // saved before are formatted here, once (imap_envelope(), registered by migrate():
    // 100,000 messages in under 6 s).
    R"sql(
ALTER TABLE blobs ADD COLUMN envelope TEXT;
CREATE TABLE message_envelopes (
  message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
  envelope TEXT NOT NULL
);
CREATE TRIGGER message_envelopes_insert AFTER INSERT ON messages BEGIN
  INSERT INTO message_envelopes
    SELECT NEW.id, b.envelope FROM blobs b WHERE b.id = NEW.blob_id AND b.envelope IS NOT NULL;
END;
UPDATE blobs SET envelope = imap_envelope(h_date, h_subject, h_from, h_sender, h_reply_to,
    h_to, h_cc, h_bcc, h_in_reply_to, h_message_id, h_references);
INSERT INTO message_envelopes
  SELECT m.id, b.envelope FROM messages m JOIN blobs b ON b.id = m.blob_id;
)sql",
    // 9: bodies in the body log (store/body_log.hpp): where each is, written once to a
    // segment rather than twice through the WAL; and how many bytes of each segment are
    // still referenced, so that an emptied segment is removed and a mostly dead one
    // compacted. A body is in the database, the log or its file (reads look in that
    // order); its place goes with its blob's row. (The triggers test for a segment's row
    // rather than INSERT OR IGNORE: a statement's own conflict policy, an upsert's, would
    // override the trigger's.)
    R"sql(
CREATE TABLE blob_places (
  blob_id TEXT PRIMARY KEY,
  segment INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  size INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX blob_places_segment ON blob_places(segment);
CREATE TABLE body_segments (
  id INTEGER PRIMARY KEY,
  live_bytes INTEGER NOT NULL
);
CREATE TRIGGER blob_places_added AFTER INSERT ON blob_places BEGIN
  INSERT INTO body_segments (id, live_bytes) SELECT NEW.segment, 0
    WHERE NOT EXISTS (SELECT 1 FROM body_segments WHERE id = NEW.segment);
  UPDATE body_segments SET live_bytes = live_bytes + NEW.size WHERE id = NEW.segment;
END;
CREATE TRIGGER blob_places_removed AFTER DELETE ON blob_places BEGIN
  UPDATE body_segments SET live_bytes = live_bytes - OLD.size WHERE id = OLD.segment;
END;
CREATE TRIGGER blob_places_moved AFTER UPDATE OF segment ON blob_places BEGIN
  UPDATE body_segments SET live_bytes = live_bytes - OLD.size WHERE id = OLD.segment;
  INSERT INTO body_segments (id, live_bytes) SELECT NEW.segment, 0
    WHERE NOT EXISTS (SELECT 1 FROM body_segments WHERE id = NEW.segment);
  UPDATE body_segments SET live_bytes = live_bytes + NEW.size WHERE id = NEW.segment;
END;
CREATE TRIGGER blob_places_collected AFTER DELETE ON blobs BEGIN
  DELETE FROM blob_places WHERE blob_id = OLD.id;
END;
)sql",
    // 10: fewer pages written a save. blobs becomes a rowid table: a new blob's row (a
    // kilobyte of parsed header fields) is appended after the last one instead of landing
    // in a random leaf by its hash (WITHOUT ROWID: a split every few saves), and the hash
    // stays unique through an index of small entries. The blobs waiting for the text index
    // are indexed in the order they came (rowid) rather than by hash, a segment's bodies by
    // their offset. Measured on 100 KB deliveries: 29.6 -> 24.8 pages a commit of 3 saves.
    // The index from a text-index row to its blob carries the hash (the table's key before):
    // SEARCH BODY of a word in every message goes from its hits to their messages without
    // reading a blob's row (without it, 100,000 hits read 100,000 rows: 3x slower cold).
    // The table is rebuilt (SQLite's "generalized ALTER TABLE": new table, copy, drop,
    // rename) with foreign keys off (migrate() turns them off and checks them after) and
    // the legacy rename, which leaves the triggers of other tables naming "blobs" alone.
    R"sql(
PRAGMA legacy_alter_table = ON;
CREATE TABLE blobs_by_rowid (
  id TEXT NOT NULL UNIQUE,       -- lower-case hex SHA-256 of the content
  size INTEGER NOT NULL,
  refs INTEGER NOT NULL,         -- messages pointing at it (kept by triggers)
  unreferenced_since INTEGER,    -- unix time refs dropped to 0; collected after a grace
  structure BLOB NOT NULL,       -- as in migration 1
  h_date TEXT NOT NULL, h_subject TEXT NOT NULL, h_from TEXT NOT NULL, h_sender TEXT NOT NULL,
  h_reply_to TEXT NOT NULL, h_to TEXT NOT NULL, h_cc TEXT NOT NULL, h_bcc TEXT NOT NULL,
  h_in_reply_to TEXT NOT NULL, h_message_id TEXT NOT NULL, h_references TEXT NOT NULL,
  text_rowid INTEGER,            -- migration 2
  envelope TEXT                  -- migration 8
);
INSERT INTO blobs_by_rowid (id, size, refs, unreferenced_since, structure, h_date, h_subject,
    h_from, h_sender, h_reply_to, h_to, h_cc, h_bcc, h_in_reply_to, h_message_id,
    h_references, text_rowid, envelope)
  SELECT id, size, refs, unreferenced_since, structure, h_date, h_subject, h_from, h_sender,
    h_reply_to, h_to, h_cc, h_bcc, h_in_reply_to, h_message_id, h_references, text_rowid,
    envelope
  FROM blobs;
DROP TABLE blobs;
ALTER TABLE blobs_by_rowid RENAME TO blobs;
PRAGMA legacy_alter_table = OFF;
CREATE INDEX blobs_text ON blobs(text_rowid, id) WHERE text_rowid > 0;
CREATE INDEX blobs_unindexed ON blobs(text_rowid) WHERE ifnull(text_rowid, 0) = 0;
CREATE TRIGGER blobs_after_delete AFTER DELETE ON blobs WHEN OLD.text_rowid > 0 BEGIN
  DELETE FROM blob_text WHERE rowid = OLD.text_rowid;
END;
CREATE TRIGGER blob_bytes_collected AFTER DELETE ON blobs BEGIN
  DELETE FROM blob_bytes WHERE blob_id = OLD.id;
END;
CREATE TRIGGER blob_places_collected AFTER DELETE ON blobs BEGIN
  DELETE FROM blob_places WHERE blob_id = OLD.id;
END;
DROP INDEX blob_places_segment;
CREATE INDEX blob_places_segment ON blob_places(segment, offset);
)sql",
    // 11: the bodies nothing refers to any more, by when that began, so that collecting them
    // (at start-up and every store.tidy_interval_seconds) reads those rows, not every body's
    // (200,000 bodies: a scan of 0.85 s each time). A body enters when its last reference
    // goes (the triggers set unreferenced_since) and leaves when one comes back or it is
    // collected; a delivery's new row (refs 0 for a moment, unreferenced_since NULL) never
    // enters, so saves write no page of it.
    R"sql(
CREATE INDEX blobs_unreferenced ON blobs(unreferenced_since)
  WHERE refs <= 0 AND unreferenced_since IS NOT NULL;
)sql",
    // 12: fewer statements for each message saved, copied, flagged or expunged. An account's
    // quota usage is the sum of its mailboxes' counts (kept by the triggers of migration 4)
    // instead of two more columns an UPDATE of its own kept for every message, and a
    // message moving between two mailboxes of its account (they always are) changed them
    // twice for nothing. A flag change updates its mailbox's counts in one statement
    // instead of taking the message out of them and putting it back.
    R"sql(
DROP TRIGGER messages_after_insert;
DROP TRIGGER messages_after_delete;
DROP TRIGGER messages_after_move;
CREATE TRIGGER messages_after_insert AFTER INSERT ON messages BEGIN
  UPDATE blobs SET refs = refs + 1, unreferenced_since = NULL WHERE id = NEW.blob_id;
END;
CREATE TRIGGER messages_after_delete AFTER DELETE ON messages BEGIN
  UPDATE blobs SET refs = refs - 1,
         unreferenced_since = CASE WHEN refs = 1 THEN unixepoch() ELSE unreferenced_since END
   WHERE id = OLD.blob_id;
END;
ALTER TABLE accounts DROP COLUMN used_bytes;
ALTER TABLE accounts DROP COLUMN used_messages;
DROP TRIGGER messages_count_update;
CREATE TRIGGER messages_count_flags AFTER UPDATE OF flags ON messages
  WHEN OLD.mailbox_id = NEW.mailbox_id AND OLD.size = NEW.size
    AND (OLD.flags & 9) != (NEW.flags & 9) BEGIN
  UPDATE mailboxes SET
         unseen_count = unseen_count + ((NEW.flags & 1) = 0) - ((OLD.flags & 1) = 0),
         deleted_count = deleted_count + ((NEW.flags & 8) != 0) - ((OLD.flags & 8) != 0)
   WHERE id = NEW.mailbox_id;
END;
CREATE TRIGGER messages_count_update AFTER UPDATE OF mailbox_id, size ON messages
  WHEN OLD.mailbox_id != NEW.mailbox_id OR OLD.size != NEW.size BEGIN
  UPDATE mailboxes SET message_count = message_count - 1,
         unseen_count = unseen_count - ((OLD.flags & 1) = 0), byte_count = byte_count - OLD.size,
         deleted_count = deleted_count - ((OLD.flags & 8) != 0)
   WHERE id = OLD.mailbox_id;
  UPDATE mailboxes SET message_count = message_count + 1,
         unseen_count = unseen_count + ((NEW.flags & 1) = 0), byte_count = byte_count + NEW.size,
         deleted_count = deleted_count + ((NEW.flags & 8) != 0)
   WHERE id = NEW.mailbox_id;
END;
)sql",
};

// After a migration that rebuilt a table: every row still names a parent that exists (the
// rows were copied with their keys, so a violation means the copy went wrong).
void check_foreign_keys(Database& db) {
  auto& check = db.prepare("PRAGMA foreign_key_check");
  if (check.step()) {
    const auto detail = check.text(0) + " row " + std::to_string(check.int64(1)) + " names a " +
                        check.text(2) + " row that does not exist";
    check.reset();
    throw StoreException(make_error(ErrorKind::corrupt, "migrating the store broke a reference (" +
                                                            detail + "); left as it was"));
  }
  check.reset();
}

}  // namespace

void migrate(Database& db) {
  // Foreign keys are off while migrations run (a rebuilt table is dropped while other tables
  // still name it, migration 10) and checked before the commit. PRAGMA foreign_keys does
  // nothing inside a transaction: it is set around it, and back on however this ends.
  db.exec("PRAGMA foreign_keys=OFF");
  struct KeysBackOn {
    Database& db;
    ~KeysBackOn() {
      try {
        db.exec("PRAGMA legacy_alter_table=OFF");
        db.exec("PRAGMA foreign_keys=ON");
      } catch (...) {
      }
    }
  } keys_back_on{db};
  db.exec("BEGIN IMMEDIATE");
  try {
    auto& version_query = db.prepare("PRAGMA user_version");
    version_query.step();
    const int current = static_cast<int>(version_query.int64(0));
    version_query.reset();
    constexpr int known = static_cast<int>(std::size(migrations));
    static_assert(known == schema_version);
    if (current > known) {
      throw StoreException(
          make_error(ErrorKind::corrupt, "the store's schema version " + std::to_string(current) +
                                             " is newer than this postino knows (" +
                                             std::to_string(known) + "); refusing to start"));
    }
    if (current < known && sqlite3_create_function_v2(
                               db.handle(), "imap_envelope", 11,
                               SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, nullptr,
                               imap_envelope_function, nullptr, nullptr, nullptr) != SQLITE_OK) {
      fail(db.handle(), sqlite3_errcode(db.handle()), "register imap_envelope");
    }
    for (int v = current; v < known; ++v) db.exec(migrations[v]);
    if (current < known) {
      check_foreign_keys(db);
      db.exec("PRAGMA user_version = " + std::to_string(known));
    }
    db.exec("COMMIT");
  } catch (...) {
    db.exec("ROLLBACK");
    throw;
  }
}

}  // namespace postino::store::sqlite
