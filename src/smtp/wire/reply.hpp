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

// Fills the "{}" of a reply pattern and adds CRLF.
inline std::string with(std::string_view pattern, std::string_view value) {
  std::string out(pattern);
  out.replace(out.find("{}"), 2, value);
  out += "\r\n";
  return out;
}
inline std::string with_host(std::string_view pattern, std::string_view host) {
  return with(pattern, host);
}

inline constexpr std::string_view c220_greeting = "220 {} ESMTP Postino";
inline constexpr std::string_view c220_ready_for_tls = "220 2.0.0 Ready to start TLS";
inline constexpr std::string_view c221_bye = "221 2.0.0 Bye";
// Postfix's answer to HTTP and other non-SMTP first lines (smtpd_forbidden_commands).
inline constexpr std::string_view c221_forbidden_command =
    "221 2.7.0 Error: I can break rules, too. Goodbye.";
inline constexpr std::string_view c214_help =
    "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH";
inline constexpr std::string_view c235_authenticated = "235 2.7.0 Authentication successful";
inline constexpr std::string_view c250_ok = "250 2.0.0 Ok";
inline constexpr std::string_view c250_sender_ok = "250 2.1.0 Ok";
inline constexpr std::string_view c250_recipient_ok = "250 2.1.5 Ok";
inline constexpr std::string_view c250_queued = "250 2.0.0 Ok: queued as {}";
inline constexpr std::string_view c250_chunk_received = "250 2.0.0 {} octets received";
// RFC 5321 §3.5.3: VRFY is answered without confirming that a user exists.
inline constexpr std::string_view c252_cannot_vrfy =
    "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery";
inline constexpr std::string_view c334_username = "334 VXNlcm5hbWU6";  // "Username:"
inline constexpr std::string_view c334_password = "334 UGFzc3dvcmQ6";  // "Password:"
inline constexpr std::string_view c334_empty = "334 ";
inline constexpr std::string_view c354_start_data = "354 End data with <CR><LF>.<CR><LF>";
inline constexpr std::string_view c421_too_many_errors = "421 4.7.0 {} Error: too many errors";
inline constexpr std::string_view c421_timeout = "421 4.4.2 {} Error: timeout exceeded";
inline constexpr std::string_view c421_shutting_down = "421 4.3.2 {} Service shutting down";
inline constexpr std::string_view c421_too_many_connections =
    "421 4.7.0 {} Error: too many connections, try again later";
inline constexpr std::string_view c421_too_many_auth_failures =
    "421 4.7.0 {} Error: too many failed logins";
inline constexpr std::string_view c451_local_error = "451 4.3.0 Error: queue file write error";
inline constexpr std::string_view c451_dev_tempfail =
    "451 4.3.0 <{}>: Temporary failure (dev mode)";
inline constexpr std::string_view c451_sending_limit =
    "451 4.7.1 Error: sending limit exceeded, try again later";
inline constexpr std::string_view c452_no_space = "452 4.3.1 Insufficient system storage";
inline constexpr std::string_view c452_mailbox_full = "452 4.2.2 Mailbox full";
inline constexpr std::string_view c452_too_many_recipients = "452 4.5.3 Error: too many recipients";
inline constexpr std::string_view c454_auth_unavailable =
    "454 4.7.0 Temporary authentication failure";
inline constexpr std::string_view c500_unrecognized = "500 5.5.2 Error: command not recognized";
inline constexpr std::string_view c500_line_too_long = "500 5.5.2 Error: line too long";
inline constexpr std::string_view c500_bad_characters =
    "500 5.5.2 Error: control characters in command";
inline constexpr std::string_view c501_ehlo_syntax = "501 5.5.4 Syntax: EHLO hostname";
inline constexpr std::string_view c501_helo_syntax = "501 5.5.4 Syntax: HELO hostname";
inline constexpr std::string_view c501_no_arguments =
    "501 5.5.4 Syntax error: no arguments allowed";
inline constexpr std::string_view c501_bdat_syntax = "501 5.5.4 Syntax: BDAT size [LAST]";
inline constexpr std::string_view c501_auth_syntax =
    "501 5.5.4 Syntax: AUTH mechanism [initial-response]";
inline constexpr std::string_view c501_auth_aborted = "501 5.7.0 Authentication aborted";
inline constexpr std::string_view c501_cannot_decode = "501 5.5.2 Cannot decode response";
inline constexpr std::string_view c501_vrfy_syntax = "501 5.5.4 Syntax: VRFY address";
inline constexpr std::string_view c502_auth_not_enabled =
    "502 5.5.1 Error: authentication not enabled";
inline constexpr std::string_view c502_not_implemented = "502 5.5.1 Error: command not implemented";
inline constexpr std::string_view c503_tls_active = "503 5.5.1 Error: TLS already active";
inline constexpr std::string_view c503_send_helo_first = "503 5.5.1 Error: send HELO/EHLO first";
inline constexpr std::string_view c503_nested_mail = "503 5.5.1 Error: nested MAIL command";
inline constexpr std::string_view c503_need_mail = "503 5.5.1 Error: need MAIL command";
inline constexpr std::string_view c503_need_rcpt = "503 5.5.1 Error: need RCPT command";
inline constexpr std::string_view c503_already_authenticated =
    "503 5.5.1 Error: already authenticated";
inline constexpr std::string_view c503_auth_in_transaction =
    "503 5.5.1 Error: MAIL transaction in progress";
inline constexpr std::string_view c503_bdat_after_data =
    "503 5.5.1 Error: BDAT and DATA cannot be mixed";
inline constexpr std::string_view c504_unknown_mechanism =
    "504 5.5.4 Unrecognized authentication type";
inline constexpr std::string_view c530_starttls_first =
    "530 5.7.0 Must issue a STARTTLS command first";
inline constexpr std::string_view c530_auth_required = "530 5.7.0 Authentication required";
inline constexpr std::string_view c535_bad_credentials =
    "535 5.7.8 Error: authentication failed: authentication credentials invalid";
inline constexpr std::string_view c550_unknown_user =
    "550 5.1.1 <{}>: Recipient address rejected: User unknown in local recipient table";
inline constexpr std::string_view c550_bare_lf = "550 5.5.2 Error: bare <LF> received";
inline constexpr std::string_view c550_dev_permfail =
    "550 5.1.1 <{}>: Permanent failure (dev mode)";
inline constexpr std::string_view c552_too_big = "552 5.3.4 Error: message file too big";
inline constexpr std::string_view c552_size_exceeds_limit =
    "552 5.3.4 Message size exceeds fixed limit";
inline constexpr std::string_view c553_null_sender =
    "553 5.7.1 <>: Sender address rejected: not owned by user";
inline constexpr std::string_view c553_sender_not_owned =
    "553 5.7.1 <{}>: Sender address rejected: not owned by user";
inline constexpr std::string_view c554_relay_denied = "554 5.7.1 <{}>: Relay access denied";
inline constexpr std::string_view c554_no_valid_recipients = "554 5.5.1 Error: no valid recipients";
inline constexpr std::string_view c554_too_many_hops = "554 5.4.6 Error: too many hops";
// Postfix's smtpd_forbid_unauth_pipelining (RELIABILITY S04).
inline constexpr std::string_view c554_pipelining =
    "554 5.5.0 Error: SMTP protocol synchronization";

}  // namespace postino::smtp::reply
