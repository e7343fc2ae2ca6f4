// Mailbox names on the wire (RFC 3501 §5.1.3): modified UTF-7 to and from the UTF-8 the
// store keeps, and the astring form names are written in. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postino::imap::wire {

// Modified UTF-7 → UTF-8. nullopt for anything RFC 3501 §5.1.3 does not allow: a shift
// that encodes printable ASCII, an unterminated or empty shift ("&-" is "&"), bits left
// over, lone surrogates (RELIABILITY I02).
std::optional<std::string> decode_mutf7(std::string_view name);
// UTF-8 → modified UTF-7 (the input is valid UTF-8).
std::string encode_mutf7(std::string_view utf8);

// A UTF-8 name as UTF8=ACCEPT (RFC 6855 §3) sends it: valid UTF-8 without control
// characters; nullopt otherwise.
std::optional<std::string> decode_utf8_name(std::string_view name);

// A name as an IMAP astring: the atom when it is one, else a quoted string.
std::string astring(std::string_view text);

// LIST wildcards (RFC 3501 §6.3.8): "*" matches anything, "%" anything but "/".
bool list_matches(std::string_view pattern, std::string_view name);

// INBOX is case-insensitive as a first level, in patterns as in names.
std::string fold_inbox(std::string name);

}  // namespace postino::imap::wire
