// SMTP command line parsing; see command.hpp.
#include "smtp/wire/command.hpp"
#include "base/ascii.hpp"

#include <array>
#include <cctype>
#include <utility>

namespace postino::smtp::wire {
namespace {

constexpr std::array<std::pair<std::string_view, Verb>, 15> verbs{{
    {"EHLO", Verb::ehlo},
    {"HELO", Verb::helo},
    {"MAIL", Verb::mail},
    {"RCPT", Verb::rcpt},
    {"DATA", Verb::data},
    {"BDAT", Verb::bdat},
    {"RSET", Verb::rset},
    {"NOOP", Verb::noop},
    {"QUIT", Verb::quit},
    {"VRFY", Verb::vrfy},
    {"EXPN", Verb::expn},
    {"HELP", Verb::help},
    {"STARTTLS", Verb::starttls},
    {"AUTH", Verb::auth},
    {"ETRN", Verb::etrn},
}};

// Lines a web browser or proxy sends (cross-protocol attacks, ALPACA) and anything that
// does not start with a letter, as Postfix's smtpd_forbidden_commands does.
bool is_forbidden(std::string_view line, std::string_view verb) {
  if (line.empty()) return false;
  if (!std::isalpha(static_cast<unsigned char>(line.front()))) return true;
  for (auto http : {"GET", "POST", "HEAD", "PUT", "CONNECT", "OPTIONS", "DELETE"}) {
    if (base::iequals(verb, http)) return true;
  }
  return verb.size() > 1 && verb.back() == ':';  // "Host:", "User-Agent:" …
}

}  // namespace

Command parse_command(std::string_view line) {
  Command cmd;
  for (unsigned char c : line) {
    if (c < 0x20 || c == 0x7f) cmd.has_control_chars = true;
  }
  const auto space = line.find(' ');
  cmd.verb_text = line.substr(0, space);
  if (space != std::string_view::npos) {
    // Tolerate extra blanks around the argument, as clients in the wild send them.
    auto arg = line.substr(space + 1);
    while (!arg.empty() && (arg.front() == ' ' || arg.front() == '\t')) arg.remove_prefix(1);
    while (!arg.empty() && (arg.back() == ' ' || arg.back() == '\t')) arg.remove_suffix(1);
    cmd.argument = arg;
  }
  if (is_forbidden(line, cmd.verb_text)) {
    cmd.verb = Verb::forbidden;
    return cmd;
  }
  for (const auto& [name, verb] : verbs) {
    if (base::iequals(cmd.verb_text, name)) cmd.verb = verb;
  }
  return cmd;
}

bool is_valid_helo_argument(std::string_view argument) {
  if (argument.empty() || argument.size() > 255) return false;
  for (unsigned char c : argument) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace postino::smtp::wire
