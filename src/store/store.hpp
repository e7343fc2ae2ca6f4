// The one storage interface every protocol uses (STYLE.md example 9): domains, accounts,
// aliases, quotas, mailboxes and messages in the domain's own words. Implementations are
// thread-safe and blocking; the network layer calls them from a worker pool, never from an
// I/O thread. Nothing above this interface knows which engine is underneath.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/blob_reader.hpp"
#include "store/error.hpp"
#include "store/types.hpp"

namespace postino::store {

// Where an address delivers to (RFC 5321 §3.6: aliases are expanded at RCPT).
struct Resolution {
  std::vector<std::string> local_accounts;  // canonical addresses of accounts here
  std::vector<std::string> remote;          // addresses in other domains (forwarding)
};

struct FsckReport {
  std::size_t mailboxes = 0;
  std::size_t messages = 0;
  std::size_t blobs = 0;
  std::vector<std::string> problems;  // one line each
  std::vector<std::string> repairs;   // what --repair did
};

class Store {
 public:
  virtual ~Store() = default;

  // -- domains -------------------------------------------------------------------------
  virtual Result<void> create_domain(std::string_view domain) = 0;
  // in_use while accounts or aliases of the domain exist.
  virtual Result<void> delete_domain(std::string_view domain) = 0;
  virtual Result<std::vector<std::string>> list_domains() = 0;
  virtual Result<bool> is_local_domain(std::string_view domain) = 0;

  // -- accounts ------------------------------------------------------------------------
  // Creates the account with INBOX and the special-use mailboxes (RFC 6154): Sent,
  // Drafts, Trash, Junk and Archive. The domain must exist.
  virtual Result<AccountId> create_account(std::string_view address, std::string_view password_hash,
                                           std::string_view scram) = 0;
  // Deletes the account, its mailboxes and messages.
  virtual Result<void> delete_account(std::string_view address) = 0;
  virtual Result<void> set_password(std::string_view address, std::string_view password_hash,
                                    std::string_view scram) = 0;
  virtual Result<Account> find_account(std::string_view address) = 0;
  virtual Result<Account> account(AccountId id) = 0;
  // All accounts, or those of one domain.
  virtual Result<std::vector<Account>> list_accounts(std::string_view domain = {}) = 0;
  virtual Result<void> set_quota(std::string_view address, Quota quota) = 0;
  virtual Result<QuotaUsage> quota_usage(AccountId id) = 0;

  // -- aliases -------------------------------------------------------------------------
  // "alias@domain" or "@domain" (catch-all) → one or more targets. The domain must be
  // local; already_exists if the alias or an account has that address.
  virtual Result<void> create_alias(const Alias& alias) = 0;
  virtual Result<void> delete_alias(std::string_view address) = 0;
  virtual Result<std::vector<Alias>> list_aliases(std::string_view domain = {}) = 0;
  // Resolves a recipient: an account, an alias (recursively, loops cut), "user+tag"
  // sub-addressing, then the domain's catch-all. not_found for an unknown local address;
  // invalid for a domain that is not local.
  virtual Result<Resolution> resolve(std::string_view address) = 0;

  // -- mailboxes -----------------------------------------------------------------------
  virtual Result<std::vector<MailboxInfo>> list_mailboxes(AccountId account) = 0;
  virtual Result<MailboxInfo> mailbox(AccountId account, std::string_view name) = 0;
  // The mailbox with its counts, the keywords defined in it (set on one of its messages
  // since it was created, as Dovecot keeps them) and the sequence number of its first
  // message without \Seen, read at one point in time and without reading the list.
  virtual Result<MailboxSummary> mailbox_summary(AccountId account, std::string_view name) = 0;
  virtual Result<MailboxInfo> create_mailbox(AccountId account, std::string_view name,
                                             SpecialUse use = SpecialUse::none) = 0;
  // Deletes a mailbox and its messages; INBOX cannot be deleted (invalid).
  virtual Result<void> delete_mailbox(AccountId account, std::string_view name) = 0;
  // Renames a mailbox and its children. Renaming INBOX moves its messages into a new
  // mailbox and leaves INBOX empty (RFC 3501 §6.3.5).
  virtual Result<void> rename_mailbox(AccountId account, std::string_view from,
                                      std::string_view to) = 0;
  virtual Result<void> set_subscribed(AccountId account, std::string_view name,
                                      bool subscribed) = 0;

  // -- messages ------------------------------------------------------------------------
  // Stores a message in one mailbox (IMAP APPEND). Returns only once the bytes and the
  // metadata are durable.
  virtual Result<SavedMessage> append(AccountId account, std::string_view mailbox,
                                      std::string_view message, const NewMessage& options) = 0;
  // Delivers one message to the INBOX of each account (one blob for all). All or none:
  // over_quota for any recipient fails the whole delivery.
  virtual Result<std::vector<SavedMessage>> deliver(const std::vector<AccountId>& accounts,
                                                    std::string_view message) = 0;
  // Commits an SMTP transaction: the local copies and the queue entry for remote
  // recipients together, or nothing. Returns once all of it is durable.
  virtual Result<Accepted> accept(const Acceptance& acceptance) = 0;
  // The messages of a mailbox in UID order.
  virtual Result<std::vector<MessageInfo>> messages(AccountId account, MailboxId mailbox) = 0;
  // What changed in a mailbox after `since` (a mod-sequence), read at one point in time:
  // the mailbox as it is then, the messages added or changed after `since` and the UIDs
  // expunged after it, each in UID order. Whoever knew the mailbox as of `since` knows it
  // as of `mailbox.highest_mod_seq` once it applies these (IMAP NOOP and IDLE, a cached
  // view); `since` 0 gives every message and no expunged UIDs.
  virtual Result<MailboxChanges> changes_since(AccountId account, MailboxId mailbox,
                                               ModSeq since) = 0;
  virtual Result<std::string> read_message(AccountId account, MailboxId mailbox, Uid uid) = 0;
  // Several messages' bytes at once, in the order of `uids` (POP3's read-ahead): one owner
  // check and one connection for all. A UID that is not there is skipped; the list ends
  // at the first body that cannot be read (its own read says why).
  virtual Result<std::vector<std::pair<Uid, std::string>>> read_messages(
      AccountId account, MailboxId mailbox, const std::vector<Uid>& uids) = 0;
  // The message's bytes as a stream, for sending large messages piece by piece.
  virtual Result<std::unique_ptr<BlobReader>> open_message(AccountId account, MailboxId mailbox,
                                                           Uid uid) = 0;
  // The message's flags and sizes with its MIME structure and envelope fields, as parsed
  // when it arrived (no blob is read).
  virtual Result<MessageDetails> message_details(AccountId account, MailboxId mailbox, Uid uid) = 0;
  // The same for every message with a UID from `first` to `last`, in UID order (FETCH of
  // many messages asks once per range instead of once per message); `envelope` reads only
  // the ENVELOPE kept at delivery (FETCH ENVELOPE), leaving the structure, the fields and
  // the keywords empty, but for a message saved before ENVELOPEs were kept, whose fields
  // are read instead.
  enum class DetailParts { all, envelope };
  virtual Result<std::vector<MessageDetails>> messages_details(AccountId account, MailboxId mailbox,
                                                               Uid first, Uid last,
                                                               DetailParts parts) = 0;
  // A hint that the `parts` of the messages with a UID from `first` to `last` are to be read
  // soon (a FETCH of many messages whose first rows came from the disk): the store may ask
  // the disk for all of their pages now, so that it reads many at once rather than one at
  // a time as messages_details() reaches them. Returns when the disk has been asked, not
  // when it has answered; nothing is read into the caller's hands, and nothing fails.
  virtual void read_ahead(AccountId account, MailboxId mailbox, Uid first, Uid last,
                          DetailParts parts) = 0;
  // The envelope header fields of every message of a mailbox, in UID order, from the
  // columns kept at delivery (IMAP SEARCH FROM … SUBJECT and SENT* read no message).
  virtual Result<std::vector<std::pair<Uid, mime::EnvelopeFields>>> envelope_fields(
      AccountId account, MailboxId mailbox) = 0;
  // The same for the messages of `uids` only, in UID order and one read (the candidates the
  // full-text index gives a SEARCH FROM … SUBJECT); UIDs not in the mailbox are left out.
  virtual Result<std::vector<std::pair<Uid, mime::EnvelopeFields>>> envelope_fields(
      AccountId account, MailboxId mailbox, const std::vector<Uid>& uids) = 0;
  // The full-text index (IMAP SEARCH BODY, TEXT, and the candidates of FROM … SUBJECT):
  // messages of the mailbox whose text contains every string of `all_of` (at least one),
  // compared with Unicode case folding. `header` is the top-level header with RFC 2047
  // words decoded, `body` the text parts (mime/search_text.hpp). A string of fewer than
  // min_indexed_needle_chars characters cannot be looked up: the answer is `invalid`.
  enum class TextField { header, body, any };
  static constexpr std::size_t min_indexed_needle_chars = 3;
  virtual Result<TextSearch> search_text_all(AccountId account, MailboxId mailbox, TextField field,
                                             const std::vector<std::string_view>& all_of) = 0;
  Result<TextSearch> search_text(AccountId account, MailboxId mailbox, TextField field,
                                 std::string_view needle) {
    return search_text_all(account, mailbox, field, {needle});
  }
  // Fills the full-text index in the background, off the path of saves: a message is
  // durable without it and searched by reading it until it is indexed. Indexes messages
  // that wait for it, about `max_text_bytes` of text in one transaction (at least one
  // message); tells how many it took and whether more wait. While mail is being saved it
  // does nothing and says `busy`: saves never share the writer with the indexer.
  struct IndexProgress {
    std::size_t indexed = 0;
    bool more_waiting = false;
    bool busy = false;
  };
  virtual Result<IndexProgress> index_text(std::size_t max_text_bytes) = 0;
  enum class FlagChange { replace, add, remove };
  // Changes flags of the given UIDs (those that exist); returns the changed messages with
  // their new MODSEQ.
  virtual Result<std::vector<MessageInfo>> store_flags(AccountId account, MailboxId mailbox,
                                                       const std::vector<Uid>& uids,
                                                       FlagChange change, const Flags& flags) = 0;
  // STORE (UNCHANGEDSINCE n) (RFC 7162 §3.1.3): as store_flags, but a message whose MODSEQ
  // is above `unchanged_since` is left alone and listed in `modified`; checked and changed
  // in one transaction.
  struct ConditionalFlags {
    std::vector<MessageInfo> changed;
    std::vector<Uid> modified;
  };
  virtual Result<ConditionalFlags> store_flags_unchanged_since(AccountId account, MailboxId mailbox,
                                                               const std::vector<Uid>& uids,
                                                               FlagChange change,
                                                               const Flags& flags,
                                                               ModSeq unchanged_since) = 0;
  // Copies the given UIDs (those that exist) into `to` of the same account, keeping flags
  // and INTERNALDATE; with `move`, removes them from `from` in the same transaction
  // (RFC 6851: in the source or the destination, never neither). Returns source → new UID
  // pairs in source UID order. The destination's quota applies (copies only).
  virtual Result<std::vector<std::pair<Uid, Uid>>> copy_messages(AccountId account, MailboxId from,
                                                                 const std::vector<Uid>& uids,
                                                                 std::string_view to,
                                                                 bool move) = 0;
  // UIDs expunged from the mailbox after `since` (a mod-sequence), in UID order (RFC 7162
  // QRESYNC: VANISHED (EARLIER)).
  virtual Result<std::vector<Uid>> expunged_since(AccountId account, MailboxId mailbox,
                                                  ModSeq since) = 0;
  // Removes messages: with no list, every message flagged \Deleted; with a list, those of
  // its UIDs that exist (`deleted`: only those flagged \Deleted, as UID EXPUNGE asks).
  // Returns the UIDs removed.
  enum class ExpungeScope { listed, deleted };
  virtual Result<std::vector<Uid>> expunge(AccountId account, MailboxId mailbox,
                                           const std::optional<std::vector<Uid>>& uids,
                                           ExpungeScope scope) = 0;

  // -- outbound queue ------------------------------------------------------------------
  // Entries are claimed with a lease (DESIGN: several nodes may share one queue); a claim
  // ends with finish_attempt, with release_claims, or when its lease runs out.
  // The whole queue, oldest first.
  virtual Result<std::vector<QueueEntry>> list_queue() = 0;
  virtual Result<QueueEntry> queue_entry(std::string_view queue_id) = 0;
  // Claims up to `limit` entries due at `now` (next try reached, not held, no live lease)
  // for `node` until `lease_until`, earliest next try first.
  virtual Result<std::vector<QueueEntry>> claim_queue(std::string_view node,
                                                      SystemClock::time_point now,
                                                      SystemClock::time_point lease_until,
                                                      std::size_t limit) = 0;
  // Brings every next try later than `latest` in to `latest` (a clock set back, a damaged
  // row: RELIABILITY F08), so that no message sleeps for ever. Returns how many moved.
  virtual Result<std::size_t> clamp_queue(SystemClock::time_point latest) = 0;
  // Ends every claim of `node` (a restarted server's deliveries in flight are retried at
  // once). Returns how many were released.
  virtual Result<std::size_t> release_claims(std::string_view node) = 0;
  // The queued message's bytes.
  virtual Result<std::unique_ptr<BlobReader>> open_queued(std::string_view queue_id) = 0;
  // Records what an attempt by `node` decided: recipient statuses and replies, one more
  // attempt, the next try; ends the claim. An entry with no recipient left pending is
  // removed. not_found when the entry is gone (removed by an administrator meanwhile).
  virtual Result<void> finish_attempt(std::string_view queue_id, std::string_view node,
                                      const QueueAttempt& attempt) = 0;
  // Administration; an empty queue_id with flush or release means every entry. Returns how
  // many entries changed; not_found for an unknown id.
  virtual Result<std::size_t> change_queue(std::string_view queue_id, QueueAction action) = 0;

  // -- maintenance ---------------------------------------------------------------------
  // Bytes free for new mail where the store keeps it (Postfix checks 1.5 × the message
  // size limit before MAIL: RELIABILITY F01).
  virtual Result<std::uint64_t> free_bytes() = 0;
  // Checks every invariant (blobs present and matching their hash, UIDs unique and below
  // UIDNEXT, MODSEQs within HIGHESTMODSEQ, blob reference counts); repairs when asked.
  virtual Result<FsckReport> fsck(bool repair) = 0;
  // The background scrub (RELIABILITY C05; store/scrubber.hpp drives it): checks the bodies
  // that messages and queue entries refer to against their hashes, in id order after
  // `after`, until about `max_bytes` have been read (at least one). A body found missing or
  // damaged is quarantined: its file moved to quarantine/ beside a note of what it was,
  // the messages naming it expunged (sessions are told as of any expunge), the queue
  // entries naming it held; each is described in `quarantined`. A body that cannot be read
  // for another reason (EIO, EACCES) is left alone and described in `unreadable`.
  struct ScrubProgress {
    std::string last;  // the last id checked: the next batch starts after it
    std::size_t checked = 0;
    std::uint64_t bytes = 0;
    bool done = false;  // no body after `last`
    std::vector<std::string> quarantined, unreadable;
  };
  virtual Result<ScrubProgress> scrub(std::string_view after, std::uint64_t max_bytes) = 0;
  // Tidying while the store is open (store/tidier.hpp drives it), as its opening does:
  // bodies no message or queue entry has referred to for the grace period removed, and
  // body-log segments nothing refers to any more removed, mostly dead ones compacted: the
  // space of deleted mail given back without a restart. `go_on` is asked before each batch
  // of bodies collected and each segment, and after each batch of bodies a compaction
  // copied, told the bytes copied since it was last asked (the server's Tidier sleeps there
  // to hold the copying to store.tidy_bytes_per_second); false: the rest waits for the
  // next time. A line per action, for the log.
  using TidyGoOn = std::function<bool(std::uint64_t copied)>;
  virtual Result<std::vector<std::string>> tidy(const TidyGoOn& go_on) = 0;
};

}  // namespace postino::store
