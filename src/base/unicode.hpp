// Case-insensitive matching of UTF-8 text for IMAP SEARCH (RFC 3501 §6.4.4 leaves the
// folding to the server; users expect "ÉTÉ" to find "été"): Unicode's simple lower-case
// mapping, from glibc's C.UTF-8 tables, so no folding table is kept here.
#pragma once

#include <string>
#include <string_view>

namespace postino::base {

// `text` with every character lower-cased; bytes that are not valid UTF-8 stay as they are.
std::string utf8_lower(std::string_view text);

// True when `haystack` contains `lower_needle` (already passed through utf8_lower), case
// folded the same way. Text that is all ASCII is compared without allocating.
bool utf8_icontains(std::string_view haystack, std::string_view lower_needle);

// The characters of UTF-8 text: the bytes that do not continue a sequence (invalid bytes
// count one each).
inline std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (const unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace postino::base
