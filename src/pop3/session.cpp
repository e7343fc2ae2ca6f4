// The POP3 session: readers, command dispatch, CAPA; see session.hpp. Login is in
// commands/login.cpp, the maildrop commands in commands/maildrop.cpp.
#include "pop3/session.hpp"

#include <algorithm>
#include <array>

namespace postino::pop3 {

Session::Session(SessionSettings settings, net::ClientInfo client)
    : settings_(std::move(settings)),
      client_(std::move(client)),
      splitter_(settings_.max_line_bytes),
      is_tls_(client_.is_tls) {}

Session::~Session() {
  if (locked_ && settings_.locks) settings_.locks->unlock(*locked_);
}

net::Output Session::greet() {
  net::Output out;
  out.bytes = "+OK Postino ready.\r\n";
  return out;
}

net::Output Session::receive(std::string& input) {
  return process(input, {});
}

net::Output Session::resume(std::string& input) {
  if (std::exchange(stream_failed_, false)) {
    net::Output out;
    out.after = net::After::close;
    return out;
  }
  auto out = work_.take();
  if (out.after == net::After::close) return out;
  return process(input, std::move(out));
}

net::Output Session::process(std::string& input, net::Output out) {
  while (out.after == net::After::read) {
    const auto step = splitter_.next(input);
    const std::string line(step.line);
    input.erase(0, step.consumed);
    if (step.kind == base::LineStep::Kind::need_more) {
      if (step.consumed == 0 || input.empty()) break;
      continue;
    }
    if (step.kind == base::LineStep::Kind::too_long) {
      auth_.reset();
      bad("Line too long", out);
      continue;
    }
    if (auth_) {
      auth_response(line, out);
      continue;
    }
    handle(line, out);
  }
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
  if (std::holds_alternative<Transaction>(state_)) return transaction_command(cmd, out);
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
  if (k == "USER") return user(cmd, out);
  if (k == "PASS") {
    // The password is the rest of the line, spaces included (RFC 1939 §7).
    const auto space = line.find(' ');
    return pass(space == std::string_view::npos ? std::string_view{} : line.substr(space + 1), out);
  }
  if (k == "AUTH") return auth(cmd, out);
  static constexpr std::array<std::string_view, 8> later = {"STAT", "LIST", "RETR", "DELE",
                                                            "RSET", "TOP",  "UIDL", "LAST"};
  if (std::find(later.begin(), later.end(), k) != later.end()) {
    return bad("Command not valid before login", out);
  }
  bad("Unknown command", out);
}

void Session::bad(std::string_view text, net::Output& out) {
  out.bytes += "-ERR ";
  out.bytes += text;
  out.bytes += "\r\n";
  // Before login, a client that keeps sending garbage (a browser, a cross-protocol
  // attack) is dropped (RELIABILITY S10).
  if (std::holds_alternative<Authorization>(state_) &&
      ++bad_commands_ >= settings_.max_bad_commands) {
    out.bytes += "-ERR Too many bad commands, closing\r\n";
    out.after = net::After::close;
  }
}

bool Session::may_use_plaintext() const {
  return is_tls_ || (settings_.allow_plaintext_loopback && client_.is_loopback);
}

void Session::capa(net::Output& out) {
  // RFC 2449 §5: only what this server does, in the state the client is in.
  out.bytes += "+OK Capability list follows\r\n";
  if (!is_tls_ && std::holds_alternative<Authorization>(state_)) out.bytes += "STLS\r\n";
  out.bytes += "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n";
  if (std::holds_alternative<Authorization>(state_) && may_use_plaintext()) {
    out.bytes += "USER\r\nSASL PLAIN LOGIN SCRAM-SHA-256\r\n";
  }
  // RFC 2449 §6.7: messages are never deleted by the server on its own.
  out.bytes += "EXPIRE NEVER\r\nIMPLEMENTATION Postino\r\n.\r\n";
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
