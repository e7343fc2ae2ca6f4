// SORT and THREAD (RFC 5256): the base subject, the orderings and the two threading
// algorithms, as pure functions over what the store keeps of each message (its envelope
// fields, size and arrival), so that neither reads a message file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mime/envelope_fields.hpp"

namespace postino::imap::sort {

struct BaseSubject {
  std::string text;                  // case-folded, for comparison only
  bool is_reply_or_forward = false;  // a "Re:", "Fwd:", "(fwd)" or "[fwd: …]" was removed
};

// RFC 5256 §2.1, from the subject as written (encoded words are decoded here).
BaseSubject base_subject(std::string_view subject);

// One message as SORT and THREAD see it.
struct Item {
  std::uint32_t number = 0;    // what the answer names: sequence number or UID
  std::uint32_t sequence = 0;  // the final tie-break (RFC 5256 §3)
  std::int64_t arrival = 0;    // INTERNALDATE, seconds
  std::int64_t sent = 0;       // the Date field, or INTERNALDATE without one (§2.2)
  std::uint64_t size = 0;
  BaseSubject subject;
  std::string from, to, cc;             // addr-mailbox of the first address, ASCII lower-cased
  std::string message_id;               // "<…>", "" when absent
  std::vector<std::string> references;  // References, or the first msg-id of In-Reply-To
};

Item make_item(std::uint32_t number, std::uint32_t sequence, std::int64_t arrival,
               std::uint64_t size, const mime::EnvelopeFields& fields);

// The msg-ids ("<…>") in a field value, in order.
std::vector<std::string> message_ids(std::string_view value);

enum class Key { arrival, cc, date, from, size, subject, to };
struct Criterion {
  Key key = Key::arrival;
  bool reverse = false;
};

// Orders `items` by the criteria in turn, ties by sequence number (RFC 5256 §3).
void order(std::vector<Item>& items, const std::vector<Criterion>& criteria);

// The threads as the THREAD response writes them: "(1)(2 3 (4)(5))".
std::string thread_ordered_subject(std::vector<Item> items);
std::string thread_references(const std::vector<Item>& items);

}  // namespace postino::imap::sort
