#include "imap/mailbox_views.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>

#include "imap/saved_list.hpp"

namespace postino::imap {

std::vector<store::MessageInfo> apply_changes(const std::vector<store::MessageInfo>& list,
                                              const store::MailboxChanges& changes) {
  std::vector<store::MessageInfo> out;
  store::reserve_messages(out, list.size() + changes.changed.size());
  auto gone = changes.expunged.begin();
  auto changed = changes.changed.begin();
  const auto is_gone = [&](store::Uid uid) {
    while (gone != changes.expunged.end() && *gone < uid) ++gone;
    return gone != changes.expunged.end() && *gone == uid;
  };
  // A merge of two lists in UID order; a changed message replaces the one of its UID.
  for (const auto& m : list) {
    while (changed != changes.changed.end() && changed->uid < m.uid) {
      if (!is_gone(changed->uid)) out.push_back(*changed);
      ++changed;
    }
    if (changed != changes.changed.end() && changed->uid == m.uid) {
      if (!is_gone(m.uid)) out.push_back(*changed);
      ++changed;
    } else if (!is_gone(m.uid)) {
      out.push_back(m);
    }
  }
  for (; changed != changes.changed.end(); ++changed) {
    if (!is_gone(changed->uid)) out.push_back(*changed);
  }
  return out;
}

std::optional<std::vector<store::MessageInfo>> list_as_of(
    const store::MailboxInfo& told, const store::MailboxInfo& now_box,
    const std::vector<store::MessageInfo>& now, const std::vector<store::Uid>& expunged) {
  if (now_box.uid_validity != told.uid_validity || now_box.highest_mod_seq < told.highest_mod_seq) {
    return std::nullopt;
  }
  std::vector<store::MessageInfo> out;
  out.reserve(static_cast<std::size_t>(std::max<std::int64_t>(told.messages, 0)));
  auto gone = expunged.begin();
  const auto put_back_before = [&](store::Uid uid) {
    for (; gone != expunged.end() && *gone < uid; ++gone) {
      store::MessageInfo m;
      m.uid = *gone;
      m.mod_seq = told.highest_mod_seq;
      out.push_back(std::move(m));
    }
  };
  for (const auto& m : now) {
    if (!(m.uid < told.uid_next)) break;
    put_back_before(m.uid);
    // Expunged after `now` was read (`expunged` is read later): `now` has it already.
    if (gone != expunged.end() && *gone == m.uid) ++gone;
    out.push_back(m);
  }
  put_back_before(told.uid_next);
  if (out.size() != static_cast<std::size_t>(told.messages)) return std::nullopt;
  return out;
}

std::vector<std::uint32_t> vanished_earlier(const std::vector<store::Uid>& expunged,
                                            const MessageView& list,
                                            const std::optional<wire::SequenceSet>& known) {
  std::vector<std::uint32_t> out;
  std::size_t at = 0;  // both in UID order
  for (const auto uid : expunged) {
    while (at < list.size() && list[at].uid < uid) ++at;
    if (at < list.size() && list[at].uid == uid) continue;
    if (!known || known->contains(uid.value, 0xffffffffu)) out.push_back(uid.value);
  }
  return out;
}

MailboxViews::MailboxViews(std::size_t max_messages, Files files)
    : max_messages_(max_messages), files_(std::move(files)) {
  if (files_.dir.empty()) return;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(files_.dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() == ".tmp") std::filesystem::remove(it->path(), ec);
  }
}

store::Result<MailboxViews::View> MailboxViews::current(store::Store& store,
                                                        store::AccountId account,
                                                        store::MailboxId mailbox) {
  std::optional<View> cached;
  {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(mailbox.value); it != entries_.end()) {
      it->second.last_used = ++clock_;
      cached = it->second.view;
    }
  }
  const bool from_file = !cached && (cached = load(mailbox)).has_value();
  auto changes = store.changes_since(account, mailbox,
                                     cached ? cached->mailbox.highest_mod_seq : store::ModSeq(0));
  if (!changes) {
    // The saved list of a mailbox deleted since goes with it.
    if (from_file && changes.error().kind == store::ErrorKind::not_found) {
      std::error_code ec;
      std::filesystem::remove(file_of(mailbox), ec);
    }
    return changes.error();
  }
  // A list that is not the mailbox's is dropped and the mailbox read whole.
  const auto read_whole = [&] {
    cached.reset();
    changes = store.changes_since(account, mailbox, store::ModSeq(0));
    return changes.has_value();
  };
  // A mailbox deleted and created again under the same id is another mailbox, and a list
  // newer than the store (a saved list of a store put back from a backup) is not its list.
  if (cached &&
      (changes->mailbox.uid_validity != cached->mailbox.uid_validity ||
       changes->mailbox.highest_mod_seq < cached->mailbox.highest_mod_seq) &&
      !read_whole()) {
    return changes.error();
  }
  View view = from(cached, *changes);
  // Nor is a list that does not add up to the mailbox's count.
  if (cached && view.messages->size() != static_cast<std::size_t>(changes->mailbox.messages)) {
    if (!read_whole()) return changes.error();
    view = from(cached, *changes);
  }
  // Saved when read whole, and again when the saved one was behind by more than an eighth
  // of the list.
  const auto changed = changes->changed.size() + changes->expunged.size();
  if (files_.min_messages > 0 && view.messages->size() >= files_.min_messages &&
      (!cached || (from_file && changed > view.messages->size() / 8)))
    save(view);
  keep(view, account);
  return view;
}

bool MailboxViews::holds(store::AccountId account, std::string_view name) const {
  std::lock_guard lock(mutex_);
  return by_name_.find(std::make_pair(account.value, std::string(name))) != by_name_.end();
}

MailboxViews::View MailboxViews::from(const std::optional<View>& cached,
                                      store::MailboxChanges& changes) {
  View view{changes.mailbox, nullptr};
  if (cached && changes.changed.empty() && changes.expunged.empty()) {
    view.messages = cached->messages;
  } else if (cached) {
    // Made as a list that can change: MessageView changes it in place once it is a
    // session's alone.
    view.messages = std::make_shared<std::vector<store::MessageInfo>>(
        apply_changes(*cached->messages, changes));
  } else {
    view.messages = std::make_shared<std::vector<store::MessageInfo>>(std::move(changes.changed));
  }
  return view;
}

std::filesystem::path MailboxViews::file_of(store::MailboxId mailbox) const {
  return files_.dir / (std::to_string(mailbox.value) + ".list");
}

std::optional<MailboxViews::View> MailboxViews::load(store::MailboxId mailbox) const {
  if (files_.dir.empty() || files_.min_messages == 0) return std::nullopt;
  // Mapped, its pages all at once (MAP_POPULATE), and decoded from the page cache: read
  // into a buffer, the file (1.3 MB for 100,000 messages) was zeroed, copied and a page
  // fault per 4 KiB of fresh memory, some 5 ms of a first SELECT. A list file is only ever
  // replaced by a rename, never cut short in place, so the mapping cannot lose its pages.
  const int fd = ::open(file_of(mailbox).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  void* map = MAP_FAILED;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    // All of it asked of the disk at once, not a read-ahead window at a time.
    (void)::posix_fadvise(fd, 0, st.st_size, POSIX_FADV_WILLNEED);
    map = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ,
                 MAP_PRIVATE | MAP_POPULATE, fd, 0);
  }
  ::close(fd);
  if (map == MAP_FAILED) return std::nullopt;
  auto saved = decode_saved_list(
      std::string_view(static_cast<const char*>(map), static_cast<std::size_t>(st.st_size)));
  ::munmap(map, static_cast<std::size_t>(st.st_size));
  if (!saved || saved->mailbox != mailbox) return std::nullopt;
  View view;
  view.mailbox.id = mailbox;
  view.mailbox.uid_validity = saved->uid_validity;
  view.mailbox.highest_mod_seq = saved->highest_mod_seq;
  view.messages = std::make_shared<std::vector<store::MessageInfo>>(std::move(saved->messages));
  return view;
}

void MailboxViews::save(const View& view) const {
  std::error_code ec;
  std::filesystem::create_directories(files_.dir, ec);
  thread_local std::mt19937_64 random{std::random_device{}()};
  const auto tmp = files_.dir / ("." + std::to_string(random()) + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << encode_saved_list(view.mailbox.id, view.mailbox.uid_validity,
                             view.mailbox.highest_mod_seq, *view.messages);
    if (!out.flush()) {
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::filesystem::rename(tmp, file_of(view.mailbox.id), ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

// An entry costs its messages and one more (so that empty mailboxes are bounded too).
void MailboxViews::keep(const View& view, store::AccountId account) {
  std::lock_guard lock(mutex_);
  if (view.messages->size() + 1 > max_messages_) {
    // Too big to keep: nor is an older list of it kept.
    if (auto old = entries_.find(view.mailbox.id.value); old != entries_.end()) drop(old);
    return;
  }
  auto& entry = entries_[view.mailbox.id.value];
  // Another session may have kept a newer list meanwhile.
  if (entry.view.messages && entry.view.mailbox.uid_validity == view.mailbox.uid_validity &&
      entry.view.mailbox.highest_mod_seq > view.mailbox.highest_mod_seq) {
    return;
  }
  if (entry.view.messages) {
    held_ -= entry.view.messages->size() + 1;
    by_name_.erase(std::make_pair(entry.account.value, entry.view.mailbox.name));  // renamed?
  }
  entry.view = view;
  entry.account = account;
  entry.last_used = ++clock_;
  held_ += view.messages->size() + 1;
  by_name_[std::make_pair(account.value, view.mailbox.name)] = view.mailbox.id.value;
  while (held_ > max_messages_) {
    drop(std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
      return a.second.last_used < b.second.last_used;
    }));
  }
}

void MailboxViews::drop(std::map<std::int64_t, Entry>::iterator entry) {
  held_ -= entry->second.view.messages->size() + 1;
  by_name_.erase(std::make_pair(entry->second.account.value, entry->second.view.mailbox.name));
  entries_.erase(entry);
}

MailboxViews::Stats MailboxViews::stats() const {
  std::lock_guard lock(mutex_);
  return {entries_.size(), held_};
}

}  // namespace postino::imap
