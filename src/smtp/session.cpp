// The SMTP session state machine; see session.hpp.
#include "smtp/session.hpp"

#include "smtp/wire/reply.hpp"

namespace postino::smtp {

using wire::Verb;

Session::Session(SessionSettings settings, net::ClientInfo client)
    : settings_(std::move(settings)),
      client_(std::move(client)),
      splitter_(static_cast<std::size_t>(settings_.max_line_bytes)),
      is_tls_(client_.is_tls) {}

net::Output Session::greet() {
  return {reply::with_host(reply::c220_greeting, settings_.hostname), net::After::read};
}

net::Output Session::receive(std::string& input) {
  net::Output out;
  base::consume_lines(splitter_, input, [&](const base::LineStep& step) {
    if (step.kind == base::LineStep::Kind::too_long) {
      // RFC 5321 §4.5.3.1.4; the rest of the line is discarded by the splitter.
      error(reply::c500_line_too_long, out);
    } else {
      handle(wire::parse_command(step.line), out);
    }
    return out.after == net::After::read;
  });
  // RFC 3207 §4.2 / CVE-2011-0411: what the client pipelined after STARTTLS is dropped.
  if (out.after == net::After::start_tls) input.clear();
  return out;
}

void Session::handle(const wire::Command& cmd, net::Output& out) {
  switch (cmd.verb) {
    case Verb::forbidden:
      out.bytes += reply::line(reply::c221_forbidden_command);
      out.after = net::After::close;
      return;
    case Verb::unknown:
      error(cmd.has_control_chars ? reply::c500_bad_characters : reply::c500_unrecognized, out);
      return;
    case Verb::ehlo: return ehlo(cmd, out);
    case Verb::helo: return helo(cmd, out);
    case Verb::starttls: return starttls(cmd, out);
    case Verb::noop:
      // RFC 5321 §4.1.1.9: NOOP may carry a string, which is ignored.
      out.bytes += reply::line(reply::c250_ok);
      return;
    case Verb::rset:
      if (!cmd.argument.empty()) return error(reply::c501_no_arguments, out);
      out.bytes += reply::line(reply::c250_ok);
      return;
    case Verb::quit:
      out.bytes += reply::line(reply::c221_bye);
      out.after = net::After::close;
      return;
    case Verb::mail:
    case Verb::rcpt:
    case Verb::data:
    case Verb::bdat:
    case Verb::vrfy:
    case Verb::expn:
    case Verb::help:
    case Verb::auth:
    case Verb::etrn:
      error(reply::c502_not_implemented, out);
      return;
  }
}

void Session::ehlo(const wire::Command& cmd, net::Output& out) {
  if (!wire::is_valid_helo_argument(cmd.argument)) return error(reply::c501_ehlo_syntax, out);
  // RFC 5321 §4.1.4: EHLO resets the session as RSET does.
  state_ = Ready{std::string(cmd.argument), true};
  out.bytes += "250-" + settings_.hostname + "\r\n";
  if (!is_tls_) out.bytes += "250-STARTTLS\r\n";
  out.bytes += "250 ENHANCEDSTATUSCODES\r\n";
}

void Session::helo(const wire::Command& cmd, net::Output& out) {
  if (!wire::is_valid_helo_argument(cmd.argument)) return error(reply::c501_helo_syntax, out);
  state_ = Ready{std::string(cmd.argument), false};
  out.bytes += "250 " + settings_.hostname + "\r\n";
}

void Session::starttls(const wire::Command& cmd, net::Output& out) {
  if (is_tls_) return error(reply::c503_tls_active, out);
  if (!cmd.argument.empty()) return error(reply::c501_no_arguments, out);
  out.bytes += reply::line(reply::c220_ready_for_tls);
  out.after = net::After::start_tls;
}

void Session::tls_started(const net::TlsInfo& info) {
  is_tls_ = true;
  tls_ = info;
  state_ = Greeted{};  // RFC 3207 §4.2: forget everything learned before TLS
}

void Session::error(std::string_view reply_line, net::Output& out) {
  out.bytes += reply::line(reply_line);
  if (++errors_ >= settings_.max_errors) {
    out.bytes += reply::with_host(reply::c421_too_many_errors, settings_.hostname);
    out.after = net::After::close;
  }
}

std::string Session::timeout_reply() {
  return reply::with_host(reply::c421_timeout, settings_.hostname);
}

std::string Session::shutdown_reply() {
  return reply::with_host(reply::c421_shutting_down, settings_.hostname);
}

}  // namespace postino::smtp
