// The message lists of recently selected mailboxes, kept between sessions (DESIGN: caches
// over re-reading): SELECT of a mailbox seen before reads from the store only what changed
// since (Store::changes_since, through the MODSEQ index) instead of every message's row,
// and sessions of the same mailbox share one list (MessageView). Bounded by the number of
// messages held (imap.view_cache_messages), least recently used mailbox out first.
// Big lists are also saved in files (imap/saved_list.hpp), read back when the mailbox is
// not in memory (after a restart, or once it was pushed out).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "imap/message_view.hpp"
#include "imap/wire/sequence_set.hpp"
#include "store/store.hpp"

namespace postino::imap {

// A list brought up to date: `expunged` taken out, `changed` put in its UID's place
// (replacing the message of the same UID, or added). Both lists in UID order.
std::vector<store::MessageInfo> apply_changes(const std::vector<store::MessageInfo>& list,
                                              const store::MailboxChanges& changes);

// The list SELECT told a client of (`told`: the mailbox as of its answer) made from a list
// read since (`now`, of the mailbox as of `now_box`) and the UIDs expunged in between:
// messages added since are left out (the next poll announces them), messages expunged
// since are put back in their places by UID alone (the next poll reports them expunged).
// `expunged` may be read after `now`, and name messages `now` still has.
// nullopt when the two are not the same mailbox or do not add up to the count told.
std::optional<std::vector<store::MessageInfo>> list_as_of(
    const store::MailboxInfo& told, const store::MailboxInfo& now_box,
    const std::vector<store::MessageInfo>& now, const std::vector<store::Uid>& expunged);

// QRESYNC's VANISHED (EARLIER) (RFC 7162 §3.2.5.1): the UIDs expunged since the client's
// MODSEQ (`expunged`, in UID order, read after `list`) that it knew of (`known`; all when
// none), without those `list` still holds: expunged after it was read, they are reported
// by the next poll, which takes them out of the list.
std::vector<std::uint32_t> vanished_earlier(const std::vector<store::Uid>& expunged,
                                            const MessageView& list,
                                            const std::optional<wire::SequenceSet>& known);

// Where MailboxViews saves lists of at least `min_messages` messages
// (imap.list_file_messages); an empty dir or 0 saves none.
struct SavedListFiles {
  std::filesystem::path dir;
  std::size_t min_messages = 0;
};

class MailboxViews {
 public:
  using Files = SavedListFiles;
  // Removes what a save cut short by a crash left in the directory.
  explicit MailboxViews(std::size_t max_messages, Files files = {});
  MailboxViews(const MailboxViews&) = delete;
  MailboxViews& operator=(const MailboxViews&) = delete;

  struct View {
    store::MailboxInfo mailbox;  // as of the list
    std::shared_ptr<const std::vector<store::MessageInfo>> messages;
  };
  // The mailbox and its messages as they are now (the store checks the owner).
  store::Result<View> current(store::Store& store, store::AccountId account,
                              store::MailboxId mailbox);

  // Whether the list of the account's mailbox `name` is kept, that is, the mailbox was
  // selected lately (what the store keeps of it is then likely in memory too).
  bool holds(store::AccountId account, std::string_view name) const;

  struct Stats {
    std::size_t mailboxes = 0;
    std::size_t messages = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    View view;
    store::AccountId account;
    std::uint64_t last_used = 0;
  };
  void keep(const View& view, store::AccountId account);
  // Takes an entry out of entries_, by_name_ and held_ (under mutex_).
  void drop(std::map<std::int64_t, Entry>::iterator entry);
  // The view of `changes` applied to `cached` (the whole list when none).
  static View from(const std::optional<View>& cached, store::MailboxChanges& changes);
  // The mailbox's saved list, if there is one whole and of this mailbox.
  std::optional<View> load(store::MailboxId mailbox) const;
  // Saves the list (a new file renamed over the old; failures only cost the next read).
  void save(const View& view) const;
  std::filesystem::path file_of(store::MailboxId mailbox) const;

  const std::size_t max_messages_;
  const Files files_;
  mutable std::mutex mutex_;
  std::map<std::int64_t, Entry> entries_;  // by mailbox id
  // The entries by account and mailbox name (holds() on every SELECT).
  std::map<std::pair<std::int64_t, std::string>, std::int64_t, std::less<>> by_name_;
  std::size_t held_ = 0;  // messages in entries_, and one per entry
  std::uint64_t clock_ = 0;
};

}  // namespace postino::imap
