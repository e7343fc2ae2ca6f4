// The IMAP server session (RFC 3501 §3, §6): an explicit state machine with one table of
// commands and the states they are allowed in. It never touches a socket; net/ drives it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>

#include "imap/wire/receiver.hpp"
#include "net/session.hpp"

namespace postino::imap {

struct SessionSettings {
  std::size_t max_line_bytes = 65536;
  std::size_t max_line_bytes_preauth = 8192;
  std::chrono::seconds idle_timeout{1800};
  std::chrono::seconds preauth_timeout{60};
  std::int64_t max_bad_commands_preauth = 3;
};

class Session final : public net::ProtocolSession {
 public:
  // RFC 3501 §3.1. The authenticated and selected states arrive with the mail store.
  struct NotAuthenticated {};
  using State = std::variant<NotAuthenticated>;

  Session(SessionSettings settings, net::ClientInfo client);

  net::Output greet() override;
  net::Output receive(std::string& input) override;
  void tls_started(const net::TlsInfo& info) override;
  std::string timeout_reply() override;
  std::string shutdown_reply() override;
  std::chrono::seconds idle_timeout() const override;

  // The CAPABILITY list as it stands now (it changes with TLS).
  std::string capabilities() const;

 private:
  struct CommandSpec;
  static const CommandSpec* find_command(std::string_view name);

  void handle(const wire::Command& cmd, net::Output& out);
  void bad(std::string_view tag, std::string_view text, net::Output& out);
  void capability(const wire::Command& cmd, net::Output& out);
  void noop(const wire::Command& cmd, net::Output& out);
  void logout(const wire::Command& cmd, net::Output& out);
  void starttls(const wire::Command& cmd, net::Output& out);
  void login(const wire::Command& cmd, net::Output& out);

  SessionSettings settings_;
  net::ClientInfo client_;
  wire::Receiver receiver_;
  State state_ = NotAuthenticated{};
  bool is_tls_ = false;
  std::int64_t bad_commands_ = 0;
};

}  // namespace postino::imap
