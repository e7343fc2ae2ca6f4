// The selected mailbox's messages as one session sees them: index + 1 is the sequence
// number (RFC 3501 §2.3.1.2). The list is shared, read-only, with the cache of mailbox
// views and with other sessions of the same mailbox until this session changes it (copy
// on write), so that SELECT of a mailbox of 100,000 messages copies nothing.
#pragma once

#include <memory>
#include <vector>

#include "store/types.hpp"

namespace postino::imap {

class MessageView {
 public:
  using List = std::vector<store::MessageInfo>;

  MessageView() : list_(std::make_shared<List>()) {}
  explicit MessageView(std::shared_ptr<const List> shared)
      : list_(std::const_pointer_cast<List>(std::move(shared))) {}

  const List& all() const { return *list_; }
  operator const List&() const { return *list_; }  // NOLINT: reads as the list it is
  std::size_t size() const { return list_->size(); }
  bool empty() const { return list_->empty(); }
  const store::MessageInfo& operator[](std::size_t i) const { return (*list_)[i]; }
  const store::MessageInfo& back() const { return list_->back(); }
  List::const_iterator begin() const { return list_->begin(); }
  List::const_iterator end() const { return list_->end(); }

  // The list to change, this session's own: copied first if anyone else holds it.
  List& edit() {
    if (list_.use_count() > 1) {
      auto own = std::make_shared<List>();
      store::reserve_messages(*own, list_->size());
      own->insert(own->end(), list_->begin(), list_->end());
      list_ = std::move(own);
    }
    return *list_;
  }

 private:
  // Never changed while shared: edit() copies first. (Held as non-const only so that a
  // list this session owns alone is changed in place.)
  std::shared_ptr<List> list_;
};

}  // namespace postino::imap
