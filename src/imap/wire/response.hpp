// IMAP response lines (RFC 3501 §7): tagged status responses.
#pragma once

#include <charconv>
#include <cstdint>
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

// A number in decimal at the end of `out` (no temporary string: FETCH writes several per
// message).
inline void append_number(std::string& out, std::uint64_t n) {
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, static_cast<std::size_t>(end - digits));
}

}  // namespace postino::imap::wire
