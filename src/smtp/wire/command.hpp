// SMTP command lines (RFC 5321 §4.1): the verb and its argument text, as a pure function
// over one line. Arguments are parsed further by each command.
#pragma once

#include <string_view>

namespace postino::smtp::wire {

enum class Verb {
  ehlo,
  helo,
  mail,
  rcpt,
  data,
  bdat,
  rset,
  noop,
  quit,
  vrfy,
  expn,
  help,
  starttls,
  auth,
  etrn,
  unknown,
  forbidden,  // not SMTP at all (HTTP, proxy CONNECT, binary): hang up at once
};

struct Command {
  Verb verb = Verb::unknown;
  std::string_view verb_text;
  std::string_view argument;       // after the first space, may be empty
  bool has_control_chars = false;  // CTL or NUL anywhere in the line (bare CR included)
};

// Parses one command line (without CRLF). Never fails: unknown verbs are Verb::unknown.
Command parse_command(std::string_view line);

// RFC 5321 §4.1.1.1: EHLO/HELO take a domain or an address literal. Accepts printable
// ASCII without spaces, at most 255 octets; anything else is a syntax error.
bool is_valid_helo_argument(std::string_view argument);

}  // namespace postino::smtp::wire
