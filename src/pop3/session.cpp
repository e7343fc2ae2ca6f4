// The POP3 session state machine; see session.hpp.
#include "pop3/session.hpp"

#include <algorithm>
#include <array>

namespace postino::pop3 {
namespace {

// RFC 1939 and RFC 2449/5034 commands that arrive with the mail store.
constexpr std::array<std::string_view, 13> later_commands = {"USER", "PASS", "APOP", "AUTH", "STAT",
                                                             "LIST", "RETR", "DELE", "RSET", "TOP",
                                                             "UIDL", "LAST", "XTND"};

}  // namespace

Session::Session(SessionSettings settings, net::ClientInfo client)
    : settings_(settings),
      client_(std::move(client)),
      splitter_(settings_.max_line_bytes),
      is_tls_(client_.is_tls) {}

net::Output Session::greet() {
  net::Output out;
  out.bytes = "+OK Postino ready.\r\n";
  return out;
}

net::Output Session::receive(std::string& input) {
  net::Output out;
  base::consume_lines(splitter_, input, [&](const base::LineStep& step) {
    if (step.kind == base::LineStep::Kind::too_long) {
      bad("Line too long", out);
    } else {
      handle(step.line, out);
    }
    return out.after == net::After::read;
  });
  // RFC 2595 §4: nothing pipelined after STLS survives the handshake.
  if (out.after == net::After::start_tls) input.clear();
  return out;
}

void Session::handle(std::string_view line, net::Output& out) {
  wire::Command cmd;
  if (!wire::parse_command(line, cmd)) return bad("Unknown command", out);
  const auto& k = cmd.keyword;
  if (k == "CAPA") {
    if (!cmd.arguments.empty()) return bad("CAPA takes no arguments", out);
    return capa(out);
  }
  if (k == "NOOP") {
    if (!cmd.arguments.empty()) return bad("NOOP takes no arguments", out);
    out.bytes += "+OK\r\n";
    return;
  }
  if (k == "QUIT") {
    // RFC 1939 §4: QUIT in AUTHORIZATION ends the session without entering UPDATE.
    out.bytes += "+OK Postino signing off\r\n";
    out.after = net::After::close;
    return;
  }
  if (k == "STLS") {
    if (is_tls_) return bad("Command not permitted when TLS active", out);
    if (!cmd.arguments.empty()) return bad("STLS takes no arguments", out);
    out.bytes += "+OK Begin TLS negotiation\r\n";
    out.after = net::After::start_tls;
    return;
  }
  if (std::find(later_commands.begin(), later_commands.end(), k) != later_commands.end()) {
    return bad("Command not implemented", out);
  }
  bad("Unknown command", out);
}

void Session::bad(std::string_view text, net::Output& out) {
  out.bytes += "-ERR ";
  out.bytes += text;
  out.bytes += "\r\n";
  if (++bad_commands_ >= settings_.max_bad_commands) {
    out.bytes += "-ERR Too many bad commands, closing\r\n";
    out.after = net::After::close;
  }
}

void Session::capa(net::Output& out) {
  // RFC 2449 §5: only what this server really does is listed.
  out.bytes += "+OK Capability list follows\r\n";
  if (!is_tls_) out.bytes += "STLS\r\n";
  out.bytes += "RESP-CODES\r\nPIPELINING\r\nIMPLEMENTATION Postino\r\n.\r\n";
}

void Session::tls_started(const net::TlsInfo&) {
  is_tls_ = true;
}

std::string Session::timeout_reply() {
  return "-ERR Disconnected for inactivity\r\n";
}

std::string Session::shutdown_reply() {
  return "-ERR [SYS/TEMP] Server shutting down\r\n";
}

}  // namespace postino::pop3
