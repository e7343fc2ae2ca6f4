// Creates POP3 sessions for the network server (ports 110 and 995).
#pragma once

#include "net/session.hpp"
#include "pop3/session.hpp"

namespace postino::pop3 {

class SessionFactory final : public net::SessionFactory {
 public:
  explicit SessionFactory(SessionSettings settings) : settings_(std::move(settings)) {
    if (!settings_.locks) settings_.locks = &locks_;
  }
  std::unique_ptr<net::ProtocolSession> create(const net::ClientInfo& client) override {
    return std::make_unique<Session>(settings_, client);
  }
  // RFC 2449 §8.1.2: SYS/TEMP marks a temporary problem of the server.
  std::string busy_reply() override {
    return "-ERR [SYS/TEMP] Too many connections, try again later\r\n";
  }

 private:
  MaildropLocks locks_;
  SessionSettings settings_;
};

}  // namespace postino::pop3
