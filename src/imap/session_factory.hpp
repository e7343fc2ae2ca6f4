// Creates IMAP sessions for the network server (ports 143 and 993).
#pragma once

#include "imap/session.hpp"
#include "net/session.hpp"

namespace postino::imap {

class SessionFactory final : public net::SessionFactory {
 public:
  explicit SessionFactory(SessionSettings settings) : settings_(std::move(settings)) {}
  std::unique_ptr<net::ProtocolSession> create(const net::ClientInfo& client) override {
    return std::make_unique<Session>(settings_, client);
  }
  std::string busy_reply() override {
    return "* BYE [UNAVAILABLE] Too many connections, try again later\r\n";
  }

 private:
  SessionSettings settings_;
};

}  // namespace postino::imap
