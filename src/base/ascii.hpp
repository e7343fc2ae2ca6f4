// ASCII case handling for protocol keywords, header names and domains (RFC 5321 §2.4,
// RFC 5322 §1.2.2: case-insensitive, ASCII only; other bytes compare as they are).
#pragma once

#include <string>
#include <string_view>

namespace postino::base {

inline char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
inline char ascii_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// True when every byte is 7-bit ASCII.
inline bool is_ascii(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

inline std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = ascii_lower(c);
  return out;
}

// True when `haystack` contains `lower_needle` (already lower-case), ASCII letters
// compared without case; nothing is allocated.
inline bool icontains(std::string_view haystack, std::string_view lower_needle) {
  if (lower_needle.empty()) return true;
  if (haystack.size() < lower_needle.size()) return false;
  for (std::size_t i = 0; i + lower_needle.size() <= haystack.size(); ++i) {
    std::size_t j = 0;
    while (j < lower_needle.size() && ascii_lower(haystack[i + j]) == lower_needle[j]) ++j;
    if (j == lower_needle.size()) return true;
  }
  return false;
}

inline std::string to_upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = ascii_upper(c);
  return out;
}

// The byte two hex digits spell ("3D" → '='), or -1 when either is not a hex digit
// (quoted-printable, RFC 2231 %-escapes).
inline int hex_byte(char high, char low) {
  auto value = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  const int h = value(high), l = value(low);
  return h < 0 || l < 0 ? -1 : h * 16 + l;
}

}  // namespace postino::base
