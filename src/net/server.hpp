// The network server: listeners, accept loops, connection limits, one event loop per
// thread, TLS reload on SIGHUP and graceful shutdown on SIGINT/SIGTERM. It drives
// protocol sessions (net/session.hpp) without knowing any protocol.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/session.hpp"

namespace postino::net {

struct ListenerOptions {
  std::string protocol;  // name for logs and the banner: "smtp", "imaps", …
  std::string address;
  std::uint16_t port = 0;  // 0: the kernel picks a free port (see Server::bound)
  bool implicit_tls = false;
  std::shared_ptr<SessionFactory> factory;
};

struct BoundListener {
  std::string protocol;
  std::string address;
  std::uint16_t port = 0;
  bool implicit_tls = false;
};

struct ServerOptions {
  std::vector<ListenerOptions> listeners;
  std::size_t io_threads = 1;
  std::size_t worker_threads = 16;  // blocking work of sessions (store, streaming)
  std::size_t login_threads = 2;   // password checks, apart from the store work
  std::size_t max_connections = 2000;
  std::size_t max_connections_per_ip = 50;
  std::size_t max_new_connections_per_minute_per_ip = 0;  // 0: no rate limit
  std::function<bool(const std::string&)> is_trusted;  // client address → exempt from per-IP limit
  std::chrono::seconds handshake_timeout{30};
  std::chrono::seconds shutdown_grace{3};
  std::string cert_file;
  std::string key_file;
  std::string tls_min_version = "1.2";
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the TLS material and binds every listener. Returns an error text (nothing is
  // left bound then), or "" when the server is ready to run.
  std::string start();
  // The listeners as bound, with the ports the kernel chose for port 0.
  const std::vector<BoundListener>& bound() const;
  // Serves until SIGINT or SIGTERM, then stops accepting, says goodbye to idle sessions,
  // waits up to shutdown_grace for the rest and returns 0. SIGHUP reloads certificates.
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace postino::net
