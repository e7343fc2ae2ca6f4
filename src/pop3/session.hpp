// The POP3 server session (RFC 1939 §3–6, RFC 2449, RFC 2595): an explicit state machine.
// It never touches a socket; net/ drives it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>

#include "base/line_splitter.hpp"
#include "net/session.hpp"
#include "pop3/wire/command.hpp"

namespace postino::pop3 {

struct SessionSettings {
  std::size_t max_line_bytes = 512;
  std::chrono::seconds idle_timeout{600};
  std::int64_t max_bad_commands = 3;
};

class Session final : public net::ProtocolSession {
 public:
  // RFC 1939 §4. TRANSACTION and UPDATE arrive with the mail store.
  struct Authorization {};
  using State = std::variant<Authorization>;

  Session(SessionSettings settings, net::ClientInfo client);

  net::Output greet() override;
  net::Output receive(std::string& input) override;
  void tls_started(const net::TlsInfo& info) override;
  std::string timeout_reply() override;
  std::string shutdown_reply() override;
  std::chrono::seconds idle_timeout() const override { return settings_.idle_timeout; }

 private:
  void handle(std::string_view line, net::Output& out);
  void bad(std::string_view text, net::Output& out);
  void capa(net::Output& out);

  SessionSettings settings_;
  net::ClientInfo client_;
  base::LineSplitter splitter_;
  State state_ = Authorization{};
  bool is_tls_ = false;
  std::int64_t bad_commands_ = 0;
};

}  // namespace postino::pop3
