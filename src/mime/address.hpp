// RFC 5322 §3.4 address lists as IMAP's ENVELOPE needs them (RFC 3501 §7.4.2): display
// name, source route, mailbox and host, with groups marked. Lenient with broken input.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace postino::mime {

struct Address {
  std::string name;     // display name or group name, unquoted; "" when absent
  std::string route;    // obsolete source route ("@a,@b"); "" when absent
  std::string mailbox;  // local part, or the group name at a group's start
  std::string host;     // domain; "" when absent
  enum class Kind { mailbox, group_start, group_end } kind = Kind::mailbox;
};

std::vector<Address> parse_address_list(std::string_view value);

}  // namespace postino::mime
