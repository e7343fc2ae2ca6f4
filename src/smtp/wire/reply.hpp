// SMTP replies with their meaning in their names: RFC 5321 §4.2 reply codes with the
// RFC 3463 enhanced status codes (RFC 2034: every reply after EHLO carries one).
#pragma once

#include <string>
#include <string_view>

namespace postino::smtp::reply {

// "CODE TEXT\r\n"
inline std::string line(std::string_view code_and_text) {
  std::string out(code_and_text);
  out += "\r\n";
  return out;
}

inline constexpr std::string_view c250_ok = "250 2.0.0 Ok";
inline constexpr std::string_view c221_bye = "221 2.0.0 Bye";
inline constexpr std::string_view c220_ready_for_tls = "220 2.0.0 Ready to start TLS";
// Postfix's answer to HTTP and other non-SMTP first lines (smtpd_forbidden_commands).
inline constexpr std::string_view c221_forbidden_command =
    "221 2.7.0 Error: I can break rules, too. Goodbye.";
inline constexpr std::string_view c500_unrecognized = "500 5.5.2 Error: command not recognized";
inline constexpr std::string_view c500_line_too_long = "500 5.5.2 Error: line too long";
inline constexpr std::string_view c500_bad_characters =
    "500 5.5.2 Error: control characters in command";
inline constexpr std::string_view c501_ehlo_syntax = "501 5.5.4 Syntax: EHLO hostname";
inline constexpr std::string_view c501_helo_syntax = "501 5.5.4 Syntax: HELO hostname";
inline constexpr std::string_view c501_no_arguments = "501 5.5.4 Syntax error: no arguments allowed";
inline constexpr std::string_view c502_not_implemented = "502 5.5.1 Error: command not implemented";
inline constexpr std::string_view c503_tls_active = "503 5.5.1 Error: TLS already active";
// Host-name bearing replies are built by the session: "421 4.7.0 HOST Error: …".
inline constexpr std::string_view c421_too_many_errors = "421 4.7.0 {} Error: too many errors";
inline constexpr std::string_view c421_timeout = "421 4.4.2 {} Error: timeout exceeded";
inline constexpr std::string_view c421_shutting_down = "421 4.3.2 {} Service shutting down";
inline constexpr std::string_view c421_too_many_connections =
    "421 4.7.0 {} Error: too many connections, try again later";
inline constexpr std::string_view c220_greeting = "220 {} ESMTP Postino";

// Fills the "{}" of a host-name bearing reply and adds CRLF.
inline std::string with_host(std::string_view pattern, std::string_view host) {
  std::string out(pattern);
  out.replace(out.find("{}"), 2, host);
  out += "\r\n";
  return out;
}

}  // namespace postino::smtp::reply
