// The frame of an IMAP command line (RFC 3501 §2.2.1, §9): tag, command name and the
// rest. Arguments are parsed by each command's own parser.
#pragma once

#include <string>
#include <string_view>

namespace postino::imap::wire {

struct CommandLine {
  std::string_view tag;
  std::string name;            // upper-cased
  std::string_view arguments;  // after the single space following the name; may be empty
};

struct LineError {
  std::string_view tag;  // empty when no valid tag could be read: answer untagged
  std::string message;
};

// tag = 1*<any ASTRING-CHAR except "+">; a command name is an atom.
bool is_tag(std::string_view text);

// Splits `line` (without CRLF). Fills `out` and returns true, or fills `error`.
bool parse_command_line(std::string_view line, CommandLine& out, LineError& error);

}  // namespace postino::imap::wire
