// The store's vocabulary: identifiers with strong types (a UID is not a sequence number),
// accounts, mailboxes and messages as the protocols see them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/memory.hpp"
#include "mime/envelope_fields.hpp"
#include "mime/part.hpp"

namespace postino::store {

// An integer that only compares with its own kind.
template <class Tag, class T>
struct StrongId {
  T value{};
  constexpr StrongId() = default;
  constexpr explicit StrongId(T v) : value(v) {}
  constexpr auto operator<=>(const StrongId&) const = default;
};

using AccountId = StrongId<struct AccountTag, std::int64_t>;
using MailboxId = StrongId<struct MailboxTag, std::int64_t>;
using Uid = StrongId<struct UidTag, std::uint32_t>;
using UidValidity = StrongId<struct UidValidityTag, std::uint32_t>;
using ModSeq = StrongId<struct ModSeqTag, std::uint64_t>;

struct Quota {
  std::int64_t max_bytes = 0;     // 0: unlimited
  std::int64_t max_messages = 0;  // 0: unlimited
};

struct Account {
  AccountId id;
  std::string address;        // lower-case local@domain
  std::string password_hash;  // crypt(3) form
  std::string scram;          // ScramCredentials::str(), may be empty
  Quota quota;
};

struct QuotaUsage {
  Quota quota;
  std::int64_t bytes = 0;
  std::int64_t messages = 0;
};

struct Alias {
  std::string address;               // "sales@example.org", or "@example.org" for a catch-all
  std::vector<std::string> targets;  // addresses, local or remote
};

// RFC 6154 special-use attributes.
enum class SpecialUse { none, sent, drafts, trash, junk, archive };
const char* to_string(SpecialUse s);  // "\\Sent", …; "" for none

struct MailboxInfo {
  MailboxId id;
  std::string name;  // UTF-8, hierarchy separator "/"; "INBOX" is always upper-case
  UidValidity uid_validity;
  Uid uid_next;
  ModSeq highest_mod_seq;
  SpecialUse special_use = SpecialUse::none;
  bool is_subscribed = false;
  std::int64_t messages = 0;
  std::int64_t unseen = 0;
  std::int64_t bytes = 0;
  std::int64_t deleted = 0;  // messages flagged \Deleted (IMAP STATUS DELETED)
};

// What SELECT says of a mailbox without reading its message list (RFC 3501 §6.3.1).
struct MailboxSummary {
  MailboxInfo mailbox;
  std::vector<std::string> keywords;  // defined in the mailbox, sorted
  std::uint32_t first_unseen = 0;     // sequence number; 0 when every message is \Seen
};

// System flags (RFC 3501 §2.3.2) as bits; keywords are separate strings.
enum SystemFlag : std::uint32_t {
  flag_seen = 1u << 0,
  flag_answered = 1u << 1,
  flag_flagged = 1u << 2,
  flag_deleted = 1u << 3,
  flag_draft = 1u << 4,
};

struct Flags {
  std::uint32_t system = 0;
  std::vector<std::string> keywords;  // sorted, unique
  bool operator==(const Flags&) const = default;
};

using SystemClock = std::chrono::system_clock;

struct MessageInfo {
  Uid uid;
  ModSeq mod_seq;
  Flags flags;
  std::int64_t size = 0;  // RFC822.SIZE
  SystemClock::time_point internal_date;
};

// Room for `n` messages in `list`, before it is filled: a big list (64 bytes a message) in
// huge pages (base::advise_huge_pages), 3 page faults for 100,000 messages instead of 1,600.
inline void reserve_messages(std::vector<MessageInfo>& list, std::size_t n) {
  list.reserve(n);
  base::advise_huge_pages(list.data(), list.capacity() * sizeof(MessageInfo));
  if (n >= 4096) base::populate_pages(list.data(), list.capacity() * sizeof(MessageInfo));
}

// Store::changes_since: a mailbox's changes after a mod-sequence.
struct MailboxChanges {
  MailboxInfo mailbox;
  std::vector<MessageInfo> changed;  // added or changed, UID order
  std::vector<Uid> expunged;         // UID order
};

// Where a new message goes, and with what.
struct NewMessage {
  Flags flags;
  std::optional<SystemClock::time_point> internal_date;  // default: now
};

// What was worked out once when the message arrived.
struct MessageDetails {
  MessageInfo info;
  mime::Structure structure;
  mime::EnvelopeFields fields;
  // The IMAP ENVELOPE as formatted at delivery (mime/imap_envelope.hpp); empty for a
  // message saved before the store kept it, whose ENVELOPE is formatted from `fields`.
  std::string envelope;
};

// Full-text search of one mailbox: the messages whose indexed text holds the string, and
// those that are not in the index (their text is read by the caller to decide).
struct TextSearch {
  std::vector<Uid> matching;
  std::vector<Uid> unindexed;
};

// A message accepted for remote recipients (RFC 3461 parameters kept for the DSN).
struct QueueRecipient {
  std::string address;
  std::string orcpt;         // "rfc822;addr" or ""
  std::uint32_t notify = 0;  // bits: 1 NEVER, 2 SUCCESS, 4 FAILURE, 8 DELAY; 0 default
};

struct NewQueueEntry {
  std::string sender;  // "" for the null reverse-path
  std::vector<QueueRecipient> recipients;
  std::string envid;
  int ret = 0;  // 0 unspecified, 1 FULL, 2 HDRS
};

struct QueueEntry {
  std::string queue_id;
  std::string sender;
  std::vector<QueueRecipient> recipients;
  std::vector<int> statuses;              // per recipient: 0 pending, 1 delivered, 2 failed
  std::vector<std::string> last_replies;  // per recipient: what the last try answered
  std::string envid;
  int ret = 0;
  std::int64_t size = 0;
  SystemClock::time_point created;
  SystemClock::time_point next_attempt;
  int attempts = 0;
  bool is_held = false;
  bool delay_warned = false;      // a delay warning went to the sender
  bool bounce_requested = false;  // `postino queue bounce`: fail what is pending
  std::string claimed_by;         // the node delivering it now, "" when none
  SystemClock::time_point lease_until;
};

// Where a queue entry stands, for metrics and `postino status`: held by an administrator;
// active (a node holds a live lease: being delivered now); deferred (tried, waiting for
// its next attempt); incoming (not tried yet).
enum class QueueState { incoming, active, deferred, held };
QueueState queue_state(const QueueEntry& e, SystemClock::time_point now);
const char* to_string(QueueState s);

// What one delivery attempt decided, recorded by Store::finish_attempt.
struct QueueRecipientResult {
  std::size_t position = 0;  // index in QueueEntry::recipients
  int status = 0;            // 0 still pending, 1 delivered, 2 failed
  std::string reply;
};
struct QueueAttempt {
  std::vector<QueueRecipientResult> recipients;
  SystemClock::time_point next_attempt;
  bool delay_warned = false;
};

// What an administrator does to queue entries (`postino queue …`).
enum class QueueAction {
  hold,     // not tried until released
  release,  // tried again, now
  flush,    // tried now, not at its scheduled time
  bounce,   // its pending recipients fail now and the sender gets the report
  remove,   // deleted without a report
};

// One SMTP transaction's outcome, committed at once: local copies and the queue entry.
struct Acceptance {
  std::string id;  // the queue id to use (the SMTP session's message id); "" to generate
  std::vector<AccountId> local_accounts;
  std::string local_message;  // what goes into the INBOXes (with Return-Path)
  std::optional<NewQueueEntry> remote;
  std::string remote_message;  // what is relayed
};

struct SavedMessage {
  UidValidity uid_validity;
  Uid uid;
  ModSeq mod_seq;
};

struct Accepted {
  std::vector<SavedMessage> local;
  std::string queue_id;  // "" when nothing was queued
};

}  // namespace postino::store
