// POP3 command lines (RFC 1939 §3, RFC 2449 §3): a keyword of 3–4 letters and arguments.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace postino::pop3::wire {

struct Command {
  std::string keyword;  // upper-cased
  std::vector<std::string_view> arguments;
};

// Parses one command line (without CRLF). False when the keyword is not 3 or 4 letters
// (RFC 2449 §3) or the line holds control characters.
bool parse_command(std::string_view line, Command& out);

}  // namespace postino::pop3::wire
