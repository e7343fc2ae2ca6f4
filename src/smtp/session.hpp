// The SMTP server session (RFC 5321 §4.1, §4.3.2): an explicit state machine over parsed
// command lines. It never touches a socket; net/ drives it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>

#include "base/line_splitter.hpp"
#include "net/session.hpp"
#include "smtp/wire/command.hpp"

namespace postino::smtp {

struct SessionSettings {
  std::string hostname;
  std::size_t max_line_bytes = 2048;
  std::chrono::seconds idle_timeout{300};
  std::int64_t max_errors = 20;
  bool is_submission = false;  // port 587/465 (RFC 6409) rather than 25
};

class Session final : public net::ProtocolSession {
 public:
  // Before EHLO/HELO, and again after STARTTLS (RFC 3207 §4.2 discards all knowledge).
  struct Greeted {};
  // After EHLO or HELO.
  struct Ready {
    std::string helo_name;
    bool is_esmtp = false;
  };
  using State = std::variant<Greeted, Ready>;

  Session(SessionSettings settings, net::ClientInfo client);

  net::Output greet() override;
  net::Output receive(std::string& input) override;
  void tls_started(const net::TlsInfo& info) override;
  std::string timeout_reply() override;
  std::string shutdown_reply() override;
  std::chrono::seconds idle_timeout() const override { return settings_.idle_timeout; }

  const State& state() const { return state_; }
  bool is_tls() const { return is_tls_; }

 private:
  void handle(const wire::Command& cmd, net::Output& out);
  void ehlo(const wire::Command& cmd, net::Output& out);
  void helo(const wire::Command& cmd, net::Output& out);
  void starttls(const wire::Command& cmd, net::Output& out);
  // Writes an error reply and counts it; past smtp.max_errors the session ends with 421.
  void error(std::string_view reply_line, net::Output& out);

  SessionSettings settings_;
  net::ClientInfo client_;
  base::LineSplitter splitter_;
  State state_ = Greeted{};
  bool is_tls_ = false;
  net::TlsInfo tls_;
  std::int64_t errors_ = 0;
};

}  // namespace postino::smtp
