// Names the store accepts: domains, addresses and mailbox names, validated and put in
// canonical form before anything is stored (RELIABILITY I01: no traversal, no control
// characters, bounded length and depth).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postino::store {

// A domain name in lower case: labels of letters, digits and hyphens (or U-labels as
// UTF-8), 1–63 octets each, 253 at most. nullopt when invalid.
std::optional<std::string> canonical_domain(std::string_view domain);

struct AddressParts {
  std::string local;   // as given (local parts are case-sensitive by RFC, folded here:
                       // mailbox addresses in Postino are case-insensitive, as users expect)
  std::string domain;  // canonical
  std::string str() const { return local + "@" + domain; }
};

// "local@domain" with a dot-atom or plain local part (no quotes, spaces, control
// characters or another "@"), lower-cased. nullopt when invalid.
std::optional<AddressParts> parse_address(std::string_view address);

struct MailboxNameRules {
  std::size_t max_bytes = 255;
  std::size_t max_depth = 16;
};

// A mailbox name in canonical form: "/"-separated levels, none empty, "." or "..", none
// starting with "~" or holding control characters, valid UTF-8; "INBOX" (any case) as the
// first level becomes "INBOX". nullopt when invalid.
std::optional<std::string> canonical_mailbox_name(std::string_view name,
                                                  const MailboxNameRules& rules);

bool is_valid_utf8(std::string_view text);

}  // namespace postino::store
