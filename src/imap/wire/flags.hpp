// Message flags on the wire (RFC 3501 §2.3.2): system flags and keywords. Pure.
#pragma once

#include <string>
#include <string_view>

#include "store/types.hpp"

namespace postino::imap::wire {

// "\Seen \Flagged $Label1" (no parentheses).
std::string format_flags(const store::Flags& flags);
// The same, appended to `out`.
void append_flags(std::string& out, const store::Flags& flags);

// Adds one flag token to `flags`; false for \Recent, unknown system flags and keywords
// that are not atoms.
bool add_flag(std::string_view token, store::Flags& flags);

}  // namespace postino::imap::wire
