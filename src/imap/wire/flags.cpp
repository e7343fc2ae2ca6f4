// Flags; see flags.hpp.
#include "imap/wire/flags.hpp"

#include <algorithm>

#include "base/ascii.hpp"

namespace postino::imap::wire {
namespace {

constexpr std::pair<const char*, std::uint32_t> system_flags[] = {
    {"\\Seen", store::flag_seen},       {"\\Answered", store::flag_answered},
    {"\\Flagged", store::flag_flagged}, {"\\Deleted", store::flag_deleted},
    {"\\Draft", store::flag_draft},
};

}  // namespace

std::string format_flags(const store::Flags& flags) {
  std::string out;
  append_flags(out, flags);
  return out;
}

void append_flags(std::string& out, const store::Flags& flags) {
  bool first = true;
  const auto add = [&](std::string_view flag) {
    if (!first) out += ' ';
    first = false;
    out += flag;
  };
  for (const auto& [name, bit] : system_flags) {
    if (flags.system & bit) add(name);
  }
  for (const auto& k : flags.keywords) add(k);
}

bool add_flag(std::string_view token, store::Flags& flags) {
  if (token.empty()) return false;
  if (token.front() == '\\') {
    for (const auto& [name, bit] : system_flags) {
      if (base::iequals(token, name)) {
        flags.system |= bit;
        return true;
      }
    }
    return false;  // \Recent cannot be stored; other system flags do not exist
  }
  for (char c : token) {
    if (c == '*' || c == '%' || c == ']' || c == '\\' || c == '[') return false;
  }
  if (std::find(flags.keywords.begin(), flags.keywords.end(), token) == flags.keywords.end()) {
    flags.keywords.emplace_back(token);
  }
  return true;
}

}  // namespace postino::imap::wire
