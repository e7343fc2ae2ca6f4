// IMAP command line framing; see command_line.hpp.
#include "imap/wire/command_line.hpp"

#include <cctype>

namespace postino::imap::wire {
namespace {

// RFC 3501 §9: ATOM-CHAR is any CHAR except atom-specials.
bool is_atom_char(unsigned char c) {
  if (c <= 0x1f || c >= 0x7f) return false;  // CTL and 8-bit
  switch (c) {
    case '(':
    case ')':
    case '{':
    case ' ':
    case '%':
    case '*':
    case '"':
    case '\\':
    case ']':
      return false;
    default:
      return true;
  }
}

}  // namespace

bool is_tag(std::string_view text) {
  if (text.empty()) return false;
  for (unsigned char c : text) {
    // ASTRING-CHAR adds "]" to ATOM-CHAR; a tag excludes "+".
    if (c == '+' || !(is_atom_char(c) || c == ']')) return false;
  }
  return true;
}

bool parse_command_line(std::string_view line, CommandLine& out, LineError& error) {
  const auto space = line.find(' ');
  const auto tag = line.substr(0, space);
  if (!is_tag(tag)) {
    error = {"", tag.empty() ? "Missing tag" : "Invalid tag"};
    return false;
  }
  if (space == std::string_view::npos || space + 1 == line.size()) {
    error = {tag, "Missing command"};
    return false;
  }
  auto rest = line.substr(space + 1);
  const auto name_end = rest.find(' ');
  const auto name = rest.substr(0, name_end);
  for (unsigned char c : name) {
    if (!is_atom_char(c)) {
      error = {tag, "Invalid command name"};
      return false;
    }
  }
  out.tag = tag;
  out.name.clear();
  for (unsigned char c : name) out.name.push_back(static_cast<char>(std::toupper(c)));
  out.arguments =
      name_end == std::string_view::npos ? std::string_view{} : rest.substr(name_end + 1);
  return true;
}

}  // namespace postino::imap::wire
