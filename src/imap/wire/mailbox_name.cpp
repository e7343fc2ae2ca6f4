// Modified UTF-7; see mailbox_name.hpp.
#include "imap/wire/mailbox_name.hpp"

#include "base/ascii.hpp"
#include "imap/wire/receiver.hpp"
#include "store/names.hpp"

#include <cstdint>
#include <vector>

namespace postino::imap::wire {
namespace {

// RFC 3501 §5.1.3: base64 with "," instead of "/".
constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int value_of(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == ',') return 63;
  return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

}  // namespace

std::optional<std::string> decode_mutf7(std::string_view name) {
  std::string out;
  std::size_t i = 0;
  while (i < name.size()) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c >= 0x80 || c < 0x20 || c == 0x7f) return std::nullopt;  // only printable ASCII
    if (c != '&') {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    const auto end = name.find('-', i + 1);
    if (end == std::string_view::npos) return std::nullopt;
    if (end == i + 1) {  // "&-" is "&"
      out.push_back('&');
      i = end + 1;
      continue;
    }
    // Decode base64 bits into UTF-16 units.
    std::uint32_t bits = 0;
    int nbits = 0;
    std::vector<std::uint16_t> units;
    for (std::size_t k = i + 1; k < end; ++k) {
      const int v = value_of(name[k]);
      if (v < 0) return std::nullopt;
      bits = (bits << 6) | static_cast<std::uint32_t>(v);
      nbits += 6;
      if (nbits >= 16) {
        nbits -= 16;
        units.push_back(static_cast<std::uint16_t>((bits >> nbits) & 0xffff));
      }
    }
    // Leftover bits must be fewer than 6 and zero.
    if (nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0 || units.empty()) return std::nullopt;
    for (std::size_t u = 0; u < units.size(); ++u) {
      std::uint32_t cp = units[u];
      if (cp >= 0xd800 && cp <= 0xdbff) {
        if (u + 1 >= units.size() || units[u + 1] < 0xdc00 || units[u + 1] > 0xdfff)
          return std::nullopt;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (units[++u] - 0xdc00);
      } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        return std::nullopt;  // a lone low surrogate
      } else if (cp >= 0x20 && cp <= 0x7e) {
        return std::nullopt;  // printable ASCII must not be encoded
      }
      append_utf8(out, cp);
    }
    i = end + 1;
    // Two shifts in a row ("&AAA-&BBB-") should have been one; refused as Dovecot does.
    if (i < name.size() && name[i] == '&' && i + 1 < name.size() && name[i + 1] != '-')
      return std::nullopt;
  }
  return out;
}

std::optional<std::string> decode_utf8_name(std::string_view name) {
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return std::nullopt;
  }
  if (!store::is_valid_utf8(name)) return std::nullopt;
  return std::string(name);
}

std::string encode_mutf7(std::string_view utf8) {
  std::string out;
  std::size_t i = 0;
  while (i < utf8.size()) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c >= 0x20 && c <= 0x7e) {
      out += c == '&' ? "&-" : std::string(1, static_cast<char>(c));
      ++i;
      continue;
    }
    // A run of non-printable or non-ASCII characters becomes one shift.
    std::vector<std::uint16_t> units;
    while (i < utf8.size()) {
      const auto b = static_cast<unsigned char>(utf8[i]);
      if (b >= 0x20 && b <= 0x7e) break;
      std::uint32_t cp = b;
      std::size_t len = 1;
      if (b >= 0xf0)
        cp = b & 0x07, len = 4;
      else if (b >= 0xe0)
        cp = b & 0x0f, len = 3;
      else if (b >= 0xc0)
        cp = b & 0x1f, len = 2;
      for (std::size_t k = 1; k < len && i + k < utf8.size(); ++k) {
        cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3f);
      }
      i += len;
      if (cp >= 0x10000) {
        cp -= 0x10000;
        units.push_back(static_cast<std::uint16_t>(0xd800 + (cp >> 10)));
        units.push_back(static_cast<std::uint16_t>(0xdc00 + (cp & 0x3ff)));
      } else {
        units.push_back(static_cast<std::uint16_t>(cp));
      }
    }
    out.push_back('&');
    std::uint32_t bits = 0;
    int nbits = 0;
    for (auto u : units) {
      bits = (bits << 16) | u;
      nbits += 16;
      while (nbits >= 6) {
        nbits -= 6;
        out.push_back(alphabet[(bits >> nbits) & 0x3f]);
      }
    }
    if (nbits > 0) out.push_back(alphabet[(bits << (6 - nbits)) & 0x3f]);
    out.push_back('-');
  }
  return out;
}

std::string astring(std::string_view text) {
  bool atom = !text.empty();
  for (unsigned char c : text) atom = atom && is_atom_char(c);
  if (atom) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

bool list_matches(std::string_view pattern, std::string_view name) {
  // Runs of wildcards are one ("%*" and "*%" are "*"); a pattern with more other
  // characters than the name cannot match. Then one pass per pattern character over the
  // name: O(pattern × name), never the exponential backtracking a client could ask for
  // with "LIST "" "**********…x"" (found by fuzz/imap_names).
  std::string p;
  std::size_t literals = 0;
  for (const char c : pattern) {
    const bool wild = c == '*' || c == '%';
    if (wild && !p.empty() && (p.back() == '*' || p.back() == '%')) {
      if (c == '*') p.back() = '*';
      continue;
    }
    p.push_back(c);
    literals += wild ? 0 : 1;
  }
  if (literals > name.size()) return false;
  // matched[j]: the pattern so far matches the first j characters of the name.
  std::vector<char> matched(name.size() + 1, 0), next(name.size() + 1, 0);
  matched[0] = 1;
  for (const char c : p) {
    next[0] = (c == '*' || c == '%') ? matched[0] : 0;
    for (std::size_t j = 1; j <= name.size(); ++j) {
      const char n = name[j - 1];
      if (c == '*')
        next[j] = matched[j] || next[j - 1];
      else if (c == '%')
        next[j] = matched[j] || (next[j - 1] && n != '/');
      else
        next[j] = matched[j - 1] && n == c;
    }
    matched.swap(next);
  }
  return matched[name.size()] != 0;
}

std::string fold_inbox(std::string name) {
  if (base::iequals(name.substr(0, 5), "INBOX") && (name.size() == 5 || name[5] == '/')) {
    name.replace(0, 5, "INBOX");
  }
  return name;
}

}  // namespace postino::imap::wire
