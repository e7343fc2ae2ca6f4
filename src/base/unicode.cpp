// See unicode.hpp.
#include "base/unicode.hpp"

#include <locale.h>
#include <wctype.h>

#include "base/ascii.hpp"

namespace postino::base {
namespace {

locale_t utf8_locale() {
  // C.UTF-8 ships with glibc (Debian 12: 2.36); without it only ASCII folds.
  static const locale_t locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{});
  return locale;
}

// The code point at text[i] and its length, or length 0 when the bytes are not UTF-8.
std::pair<char32_t, std::size_t> decode(std::string_view text, std::size_t i) {
  const auto b = static_cast<unsigned char>(text[i]);
  std::size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > text.size()) return {0, 0};
  char32_t c = n == 1 ? b : b & (0x7F >> n);
  for (std::size_t k = 1; k < n; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xC0) != 0x80) return {0, 0};
    c = (c << 6) | (next & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
      (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) {
    return {0, 0};
  }
  return {c, n};
}

void encode(char32_t c, std::string& out) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

}  // namespace

std::string utf8_lower(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto locale = utf8_locale();
  for (std::size_t i = 0; i < text.size();) {
    const auto [c, n] = decode(text, i);
    if (n == 0) {  // not UTF-8: the byte as it is
      out += text[i++];
      continue;
    }
    if (n == 1 || locale == locale_t{}) {
      out += ascii_lower(text[i]);
      if (n > 1) out.append(text.substr(i + 1, n - 1));
    } else {
      encode(static_cast<char32_t>(towlower_l(static_cast<wint_t>(c), locale)), out);
    }
    i += n;
  }
  return out;
}

bool utf8_icontains(std::string_view haystack, std::string_view lower_needle) {
  if (is_ascii(haystack)) return icontains(haystack, lower_needle);
  return utf8_lower(haystack).find(lower_needle) != std::string::npos;
}

}  // namespace postino::base
