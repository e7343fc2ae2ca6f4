// Change notifications: a session watching a mailbox (IMAP IDLE) hears at once when mail
// arrives, flags change or messages go. The store calls notify() after every commit that
// changes a mailbox. One process now (LocalNotifier); a cluster would carry the same calls
// between nodes (PostgreSQL LISTEN/NOTIFY) behind this interface.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

#include "store/types.hpp"

namespace postino::store {

class ChangeNotifier {
 public:
  using Token = std::uint64_t;
  virtual ~ChangeNotifier() = default;
  // `callback` runs on the thread that committed the change; it must be quick (post to
  // the watcher's own loop) and must not call back into the notifier.
  virtual Token subscribe(MailboxId mailbox, std::function<void()> callback) = 0;
  // After it returns, the callback is not running and never runs again.
  virtual void unsubscribe(Token token) = 0;
  virtual void notify(MailboxId mailbox) = 0;
};

class LocalNotifier final : public ChangeNotifier {
 public:
  Token subscribe(MailboxId mailbox, std::function<void()> callback) override {
    std::lock_guard lock(mutex_);
    const auto token = ++last_;
    watchers_[mailbox.value].emplace(token, std::move(callback));
    mailbox_of_[token] = mailbox.value;
    return token;
  }
  void unsubscribe(Token token) override {
    std::lock_guard lock(mutex_);
    auto it = mailbox_of_.find(token);
    if (it == mailbox_of_.end()) return;
    auto& watchers = watchers_[it->second];
    watchers.erase(token);
    if (watchers.empty()) watchers_.erase(it->second);
    mailbox_of_.erase(it);
  }
  void notify(MailboxId mailbox) override {
    // Callbacks run under the lock: unsubscribe() waits for one that is running.
    std::lock_guard lock(mutex_);
    auto it = watchers_.find(mailbox.value);
    if (it == watchers_.end()) return;
    for (auto& [token, callback] : it->second) callback();
  }

 private:
  std::mutex mutex_;
  Token last_ = 0;
  std::map<std::int64_t, std::map<Token, std::function<void()>>> watchers_;
  std::map<Token, std::int64_t> mailbox_of_;
};

}  // namespace postino::store
