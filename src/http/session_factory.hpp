// Creates HTTP sessions for the network server (the `http` and `https` listeners).
#pragma once

#include "http/session.hpp"
#include "net/session.hpp"

namespace postino::http {

class SessionFactory final : public net::SessionFactory {
 public:
  explicit SessionFactory(SessionSettings settings) : settings_(std::move(settings)) {}
  std::unique_ptr<net::ProtocolSession> create(const net::ClientInfo& client) override {
    return std::make_unique<Session>(settings_, client);
  }
  std::string busy_reply() override {
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
           "Content-Length: 23\r\nRetry-After: 10\r\nConnection: close\r\n\r\n"
           "Too many connections.\r\n";
  }

 private:
  SessionSettings settings_;
};

}  // namespace postino::http
