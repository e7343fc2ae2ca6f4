// EHLO, HELO (RFC 5321 §4.1.1.1) and STARTTLS (RFC 3207).
#include <vector>

#include "smtp/session.hpp"
#include "smtp/wire/reply.hpp"

namespace postino::smtp {

void Session::ehlo(const wire::Command& cmd, net::Output& out) {
  if (!wire::is_valid_helo_argument(cmd.argument)) return error(reply::c501_ehlo_syntax, out);
  // RFC 5321 §4.1.4: EHLO resets the session as RSET does.
  reset_transaction();
  state_ = Ready{std::string(cmd.argument), true};
  std::vector<std::string> lines = {settings_.hostname,
                                    "PIPELINING",
                                    "SIZE " + std::to_string(settings_.max_message_bytes),
                                    "ENHANCEDSTATUSCODES",
                                    "8BITMIME",
                                    "SMTPUTF8",
                                    "CHUNKING",
                                    "DSN"};
  if (!is_tls_) lines.emplace_back("STARTTLS");
  // RFC 4954 §4 and RFC 8314: passwords only inside TLS, and only where users submit.
  if (settings_.is_submission && is_tls_ && !account_)
    lines.emplace_back("AUTH PLAIN LOGIN SCRAM-SHA-256");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out.bytes += (i + 1 < lines.size() ? "250-" : "250 ") + lines[i] + "\r\n";
  }
}

void Session::helo(const wire::Command& cmd, net::Output& out) {
  if (!wire::is_valid_helo_argument(cmd.argument)) return error(reply::c501_helo_syntax, out);
  reset_transaction();
  state_ = Ready{std::string(cmd.argument), false};
  out.bytes += "250 " + settings_.hostname + "\r\n";
}

void Session::starttls(const wire::Command& cmd, net::Output& out) {
  if (is_tls_) return error(reply::c503_tls_active, out);
  if (!cmd.argument.empty()) return error(reply::c501_no_arguments, out);
  out.bytes += reply::line(reply::c220_ready_for_tls);
  out.after = net::After::start_tls;
}

}  // namespace postino::smtp
