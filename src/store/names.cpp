// Name validation; see names.hpp.
#include "store/names.hpp"
#include "base/ascii.hpp"

#include <cctype>

namespace postino::store {
namespace {

bool is_atext(unsigned char c) {
  // RFC 5322 §3.2.3 atext; 8-bit allowed for SMTPUTF8 local parts (RFC 6531).
  if (std::isalnum(c) || c >= 0x80) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~':
      return true;
    default:
      return false;
  }
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xe  ? 3
                      : (c >> 3) == 0x1e ? 4
                                         : 0;
    if (len == 0 || i + len > text.size()) return false;
    std::uint32_t cp = len == 1 ? c : (c & (0x7f >> len));
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      return false;
    }
    i += len;
  }
  return true;
}

std::optional<std::string> canonical_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253 || !is_valid_utf8(domain)) return std::nullopt;
  if (domain.back() == '.') domain.remove_suffix(1);
  std::string out = base::to_lower(domain);
  std::size_t start = 0;
  while (start <= out.size()) {
    const auto dot = std::min(out.find('.', start), out.size());
    const std::string_view label(out.data() + start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return std::nullopt;
    }
    for (unsigned char c : label) {
      if (!(std::isalnum(c) || c == '-' || c >= 0x80)) return std::nullopt;
    }
    start = dot + 1;
  }
  return out;
}

std::optional<AddressParts> parse_address(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64 || !is_valid_utf8(address)) {
    return std::nullopt;
  }
  const auto local = address.substr(0, at);
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return std::nullopt;
  }
  for (unsigned char c : local) {
    if (!is_atext(c) && c != '.') return std::nullopt;
  }
  auto domain = canonical_domain(address.substr(at + 1));
  if (!domain) return std::nullopt;
  return AddressParts{base::to_lower(local), *domain};
}

std::optional<std::string> canonical_mailbox_name(std::string_view name,
                                                  const MailboxNameRules& rules) {
  if (name.empty() || name.size() > rules.max_bytes || !is_valid_utf8(name)) return std::nullopt;
  std::string out;
  std::size_t depth = 0, start = 0;
  while (start <= name.size()) {
    const auto slash = std::min(name.find('/', start), name.size());
    const auto level = name.substr(start, slash - start);
    if (level.empty() || level == "." || level == ".." || level.front() == '~') return std::nullopt;
    for (unsigned char c : level) {
      if (c < 0x20 || c == 0x7f) return std::nullopt;
    }
    if (++depth > rules.max_depth) return std::nullopt;
    if (!out.empty()) out.push_back('/');
    // RFC 3501 §5.1: INBOX is case-insensitive (only as the top level).
    out += (depth == 1 && base::to_lower(level) == "inbox") ? std::string("INBOX")
                                                            : std::string(level);
    start = slash + 1;
  }
  return out;
}

}  // namespace postino::store
