// IMAP response lines (RFC 3501 §7): tagged status responses.
#pragma once

#include <string>
#include <string_view>

namespace postino::imap::wire {

// "TAG TEXT\r\n", e.g. tagged("a1", "OK LOGIN completed").
inline std::string tagged(std::string_view tag, std::string_view text) {
  std::string out(tag);
  out += ' ';
  out += text;
  out += "\r\n";
  return out;
}

}  // namespace postino::imap::wire
