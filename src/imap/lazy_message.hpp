// One message of the selected mailbox, read from the store on first need and once only:
// FETCH and SEARCH ask for its details (structure, envelope fields) and its bytes in any
// order. A null answer means the message was expunged meanwhile (or could not be read).
#pragma once

#include <optional>
#include <string>

#include "store/store.hpp"

namespace postino::imap {

class LazyMessage {
 public:
  LazyMessage(store::Store& store, store::AccountId account, store::MailboxId mailbox,
              store::Uid uid)
      : store_(store), account_(account), mailbox_(mailbox), uid_(uid) {}

  // Details read beforehand, with those of other messages (FETCH of many messages).
  void provide(store::MessageDetails details) { details_.emplace(std::move(details)); }

  const store::MessageDetails* details() {
    if (!details_) {
      auto d = store_.message_details(account_, mailbox_, uid_);
      details_.emplace(d ? std::optional<store::MessageDetails>(std::move(*d)) : std::nullopt);
    }
    return *details_ ? &**details_ : nullptr;
  }

  const std::string* bytes() {
    if (!bytes_) {
      auto r = store_.read_message(account_, mailbox_, uid_);
      bytes_.emplace(r ? std::optional<std::string>(std::move(*r)) : std::nullopt);
    }
    return *bytes_ ? &**bytes_ : nullptr;
  }

 private:
  store::Store& store_;
  store::AccountId account_;
  store::MailboxId mailbox_;
  store::Uid uid_;
  std::optional<std::optional<store::MessageDetails>> details_;  // outer: asked yet
  std::optional<std::optional<std::string>> bytes_;
};

}  // namespace postino::imap
