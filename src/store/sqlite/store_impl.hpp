// The SQLite Store's class, shared by its .cpp files (accounts, mailboxes, messages,
// maintenance). Private to store/sqlite.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string_view>

#include "mime/search_text.hpp"
#include "store/blob_store.hpp"
#include "store/body_log.hpp"
#include "store/sqlite/connections.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace postino::store::sqlite {

// Runs `f`, turning a StoreException (or any other exception) into an Error value.
template <class F>
auto guard(F&& f) -> Result<std::invoke_result_t<F>> {
  try {
    if constexpr (std::is_void_v<std::invoke_result_t<F>>) {
      f();
      return {};
    } else {
      return f();
    }
  } catch (const StoreException& e) {
    return e.error;
  } catch (const std::exception& e) {
    return make_error(ErrorKind::temporary, e.what());
  }
}

// Numbers as a JSON array, for a statement that takes a whole set at once
// (`... IN (SELECT value FROM json_each(?))`): one statement for many rows, not one a row.
template <class T, class Number>
std::string json_array(const std::vector<T>& items, Number number) {
  std::string out = "[";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += std::to_string(number(item));
  }
  out += ']';
  return out;
}

inline std::string json_array(const std::vector<std::int64_t>& ids) {
  return json_array(ids, [](std::int64_t id) { return id; });
}

inline std::int64_t to_unix(SystemClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

[[noreturn]] inline void throw_error(ErrorKind kind, std::string detail) {
  throw StoreException(make_error(kind, std::move(detail)));
}

// A read transaction on a reader connection for as long as it lives: several queries
// answered as of one commit.
class ReadTransaction {
 public:
  explicit ReadTransaction(Database& db) : db_(db) { db_.prepare("BEGIN").run(); }
  ~ReadTransaction() {
    try {
      db_.prepare("COMMIT").run();
    } catch (...) {  // a read-only transaction has nothing to lose; the reader pool
    }                // ends one left open before the connection serves again
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  Database& db_;
};

// Compiles what SqliteStore::mailbox_summary runs, for a reader connection as it opens.
// SELECT reads the summary on the event loop when it can, on whichever reader is idle; a
// statement compiled there instead took 0.1 ms of a 0.26 ms SELECT after a restart (the
// loop found a reader that had served other commands, and a LOGIN's yescrypt had just
// evicted the CPU's caches).
void prepare_summary_statements(Database& db);

// Throws not_found unless the mailbox belongs to `account`: every query is scoped by owner
// (RELIABILITY A06).
void check_owner(Database& db, AccountId account, MailboxId mailbox);

// A new MODSEQ of a mailbox, allocated inside the transaction (DESIGN: never from a counter
// in memory, so that several nodes can share the store).
std::int64_t allocate_modseq(Database& db, MailboxId mailbox);

// An account's quota and what it uses: quota_bytes, quota_messages, bytes, messages; no row
// for an account that does not exist. The use is the sum of its mailboxes' counts (schema
// 12), which the triggers on messages keep.
inline constexpr const char* account_usage_query =
    "SELECT a.quota_bytes, a.quota_messages, coalesce(sum(b.byte_count), 0), "
    "coalesce(sum(b.message_count), 0) FROM accounts a "
    "LEFT JOIN mailboxes b ON b.account_id = a.id WHERE a.id = ? GROUP BY a.id";

// A message's keywords, sorted.
std::vector<std::string> read_keywords(Database& db, std::int64_t message_id);

// The mailbox's row with its counts; not_found unless it belongs to `account`.
MailboxInfo mailbox_row(Database& db, AccountId account, MailboxId mailbox);

class SqliteStore final : public Store {
 public:
  SqliteStore(const SqliteOptions& options, std::unique_ptr<Writer> writer,
              std::unique_ptr<BlobStore> blobs);

  Result<void> create_domain(std::string_view domain) override;
  Result<void> delete_domain(std::string_view domain) override;
  Result<std::vector<std::string>> list_domains() override;
  Result<bool> is_local_domain(std::string_view domain) override;

  Result<AccountId> create_account(std::string_view address, std::string_view password_hash,
                                   std::string_view scram) override;
  Result<void> delete_account(std::string_view address) override;
  Result<void> set_password(std::string_view address, std::string_view password_hash,
                            std::string_view scram) override;
  Result<Account> find_account(std::string_view address) override;
  Result<Account> account(AccountId id) override;
  Result<std::vector<Account>> list_accounts(std::string_view domain) override;
  Result<void> set_quota(std::string_view address, Quota quota) override;
  Result<QuotaUsage> quota_usage(AccountId id) override;

  Result<void> create_alias(const Alias& alias) override;
  Result<void> delete_alias(std::string_view address) override;
  Result<std::vector<Alias>> list_aliases(std::string_view domain) override;
  Result<Resolution> resolve(std::string_view address) override;

  Result<std::vector<MailboxInfo>> list_mailboxes(AccountId account) override;
  Result<MailboxInfo> mailbox(AccountId account, std::string_view name) override;
  Result<MailboxSummary> mailbox_summary(AccountId account, std::string_view name) override;
  Result<MailboxInfo> create_mailbox(AccountId account, std::string_view name,
                                     SpecialUse use) override;
  Result<void> delete_mailbox(AccountId account, std::string_view name) override;
  Result<void> rename_mailbox(AccountId account, std::string_view from,
                              std::string_view to) override;
  Result<void> set_subscribed(AccountId account, std::string_view name, bool subscribed) override;

  Result<SavedMessage> append(AccountId account, std::string_view mailbox, std::string_view message,
                              const NewMessage& options) override;
  Result<std::vector<SavedMessage>> deliver(const std::vector<AccountId>& accounts,
                                            std::string_view message) override;
  Result<Accepted> accept(const Acceptance& acceptance) override;
  Result<std::vector<MessageInfo>> messages(AccountId account, MailboxId mailbox) override;
  Result<MailboxChanges> changes_since(AccountId account, MailboxId mailbox, ModSeq since) override;
  Result<std::string> read_message(AccountId account, MailboxId mailbox, Uid uid) override;
  Result<std::vector<std::pair<Uid, std::string>>> read_messages(
      AccountId account, MailboxId mailbox, const std::vector<Uid>& uids) override;
  Result<std::unique_ptr<BlobReader>> open_message(AccountId account, MailboxId mailbox,
                                                   Uid uid) override;
  Result<MessageDetails> message_details(AccountId account, MailboxId mailbox, Uid uid) override;
  Result<std::vector<MessageDetails>> messages_details(AccountId account, MailboxId mailbox,
                                                       Uid first, Uid last,
                                                       DetailParts parts) override;
  void read_ahead(AccountId account, MailboxId mailbox, Uid first, Uid last,
                  DetailParts parts) override;
  Result<std::vector<std::pair<Uid, mime::EnvelopeFields>>> envelope_fields(
      AccountId account, MailboxId mailbox) override;
  Result<std::vector<std::pair<Uid, mime::EnvelopeFields>>> envelope_fields(
      AccountId account, MailboxId mailbox, const std::vector<Uid>& uids) override;
  Result<TextSearch> search_text_all(AccountId account, MailboxId mailbox, TextField field,
                                     const std::vector<std::string_view>& all_of) override;
  Result<IndexProgress> index_text(std::size_t max_text_bytes) override;
  Result<std::vector<MessageInfo>> store_flags(AccountId account, MailboxId mailbox,
                                               const std::vector<Uid>& uids, FlagChange change,
                                               const Flags& flags) override;
  Result<ConditionalFlags> store_flags_unchanged_since(AccountId account, MailboxId mailbox,
                                                       const std::vector<Uid>& uids,
                                                       FlagChange change, const Flags& flags,
                                                       ModSeq unchanged_since) override;
  Result<std::vector<std::pair<Uid, Uid>>> copy_messages(AccountId account, MailboxId from,
                                                         const std::vector<Uid>& uids,
                                                         std::string_view to, bool move) override;
  Result<std::vector<Uid>> expunged_since(AccountId account, MailboxId mailbox,
                                          ModSeq since) override;
  Result<std::vector<Uid>> expunge(AccountId account, MailboxId mailbox,
                                   const std::optional<std::vector<Uid>>& uids,
                                   ExpungeScope scope) override;

  Result<std::vector<QueueEntry>> list_queue() override;
  Result<QueueEntry> queue_entry(std::string_view queue_id) override;
  Result<std::vector<QueueEntry>> claim_queue(std::string_view node, SystemClock::time_point now,
                                              SystemClock::time_point lease_until,
                                              std::size_t limit) override;
  Result<std::size_t> clamp_queue(SystemClock::time_point latest) override;
  Result<std::size_t> release_claims(std::string_view node) override;
  Result<std::unique_ptr<BlobReader>> open_queued(std::string_view queue_id) override;
  Result<void> finish_attempt(std::string_view queue_id, std::string_view node,
                              const QueueAttempt& attempt) override;
  Result<std::size_t> change_queue(std::string_view queue_id, QueueAction action) override;

  Result<FsckReport> fsck(bool repair) override;
  Result<ScrubProgress> scrub(std::string_view after, std::uint64_t max_bytes) override;
  Result<std::uint64_t> free_bytes() override;
  Result<std::vector<std::string>> tidy(const TidyGoOn& go_on) override;

  // Start-up recovery: temporary blob files removed, unreferenced blobs older than
  // `grace` collected. Returns a line per action for the log.
  std::vector<std::string> recover(std::chrono::seconds grace);

 private:
  std::string canonical_name(std::string_view mailbox) const;
  // store_flags with an optional UNCHANGEDSINCE condition.
  ConditionalFlags update_flags(AccountId account, MailboxId mailbox, const std::vector<Uid>& uids,
                                FlagChange change, const Flags& flags,
                                std::optional<std::uint64_t> unchanged_since);
  // After a commit: tells the notifier which mailboxes changed.
  void changed(const std::vector<MailboxId>& mailboxes) const;
  // Inside a write job: creates a mailbox row (no parents) and returns its id.
  MailboxId insert_mailbox(Database& db, AccountId account, const std::string& name,
                           SpecialUse use);
  // A stored body: its id, size and what was parsed from it.
  struct BlobInfo {
    std::string id;
    std::int64_t size = 0;
    std::string structure;  // mime::encode()
    mime::EnvelopeFields fields;
    std::string envelope;  // mime::format_imap_envelope(fields)
    // The bytes when they go into the database (blob_bytes) rather than a file.
    std::optional<std::string_view> inline_bytes;
    // Where they were appended when they went to the body log.
    std::optional<BodyPlace> place;
  };
  // Inside a write job: the blob's row (once per content).
  static void insert_blob_row(Database& db, const BlobInfo& blob);
  // Inside a write job: inserts one message into a mailbox, allocating UID and MODSEQ.
  SavedMessage insert_message(Database& db, MailboxId mailbox, const BlobInfo& blob,
                              const NewMessage& options);
  // Writes the blobs (parsing each once), then runs `job(db, infos)` in a write
  // transaction; promotes them after a commit, drops them after a failure.
  template <class F>
  auto with_blobs(const std::vector<std::string_view>& messages, F&& job);
  // Bodies unreferenced for `grace` removed, in batches; `go_on` is asked before each
  // (Store::tidy; null: never stop).
  std::size_t collect_garbage(std::chrono::seconds grace, const TidyGoOn& go_on);
  // Body-log segments no longer appended to and untouched for `grace`: removed when no
  // body in them is referenced, compacted (their bodies copied to the end of the log)
  // when less than log_compact_percent of them is. Returns a line per action.
  std::vector<std::string> tidy_segments(std::chrono::seconds grace, const TidyGoOn& go_on);
  // collect_garbage() and tidy_segments(), a line per action.
  std::vector<std::string> collect_and_tidy(std::chrono::seconds grace, const TidyGoOn& go_on);
  // Copies the verified bodies of a segment to the end of the log and points their rows
  // there, in batches of at most compaction_batch_bytes, `go_on` told of each; returns
  // how many moved, and whether some were left (damaged, unreadable, or not reached
  // because go_on said stop).
  std::pair<std::size_t, bool> compact_segment(std::int64_t segment, const TidyGoOn& go_on);
  // Removes a segment that no referenced body is in: its row and its file.
  bool remove_segment(std::int64_t segment);
  // Scrub: moves a damaged body into quarantine/, expunges the messages and holds the
  // queue entries naming it; adds a line per holder to `described`.
  enum class Kept { database, log, file };
  void quarantine_blob(const std::string& id, Kept kept, const std::string& damage,
                       std::vector<std::string>& described);
  // The same for a body kept in the database: its bytes copied into `into` and removed
  // when they still do not match and `confirm()` agrees. True when quarantined.
  Result<bool> quarantine_inline(const std::string& id, const std::filesystem::path& into,
                                 const std::function<bool()>& confirm);
  // The same for a body in the log: its bytes (when readable) copied into `into` and its
  // place removed.
  Result<bool> quarantine_logged(const std::string& id, const std::filesystem::path& into,
                                 const std::function<bool()>& confirm);
  // A message's body: its blob id, and its bytes when they are in the database.
  struct BodyRef {
    std::string id;
    std::optional<std::string> bytes;
    std::optional<BodyPlace> place;  // in the body log
  };
  // A body from the five columns of a row that selects `blob_id`, the bytes of blob_bytes
  // and the segment, offset and size of blob_places (LEFT JOINs: NULL where it is not).
  static BodyRef body_at(const Statement& q);
  // The columns body_at() reads, after the blob id, for a query whose blob id is `id`
  // (an SQL expression), and the joins that give them.
  static std::string body_columns();
  static std::string body_joins(const std::string& id);
  // A message's body by mailbox and UID (two parameters), as body_at() reads it.
  static const std::string& message_body_query();
  // A body by its blob id, wherever it is kept.
  BodyRef body_by_id(const std::string& id);
  // A body in the log whose segment was not found (`error`) may have been moved by a
  // compaction since its place was read: its place now, when that is elsewhere.
  std::optional<BodyRef> moved_since(const BodyRef& body, const Error& error);
  // The body of a message, the mailbox checked to belong to the account.
  BodyRef body_of(AccountId account, MailboxId mailbox, Uid uid);
  // Its bytes, or a reader of them, wherever they are kept (the database, else its file).
  Result<std::string> read_body(BodyRef body);
  Result<std::unique_ptr<BlobReader>> open_body(BodyRef body);
  // The bytes of a body kept in the database; none when it is a file only.
  std::optional<std::string> inline_body(const std::string& id);

  SqliteOptions options_;
  std::unique_ptr<Writer> writer_;
  ReaderPool readers_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<BodyLog> log_;
  // When a message was last saved: the background indexer keeps off the writer while
  // mail is arriving (steady_clock ticks).
  std::atomic<std::int64_t> last_save_{0};
};

}  // namespace postino::store::sqlite
