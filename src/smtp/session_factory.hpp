// Creates SMTP sessions for the network server (ports 25, 587 and 465).
#pragma once

#include "net/session.hpp"
#include "smtp/session.hpp"

namespace postino::smtp {

class SessionFactory final : public net::SessionFactory {
 public:
  explicit SessionFactory(SessionSettings settings) : settings_(std::move(settings)) {}
  std::unique_ptr<net::ProtocolSession> create(const net::ClientInfo& client) override {
    return std::make_unique<Session>(settings_, client);
  }
  std::string busy_reply() override;

 private:
  SessionSettings settings_;
};

}  // namespace postino::smtp
