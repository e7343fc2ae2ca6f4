// The per-connection driver: admits or refuses a client, runs the TLS handshakes and
// moves bytes between the socket and a protocol session. The only code that awaits a
// client socket.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <unordered_set>

#include "net/asio.hpp"
#include "net/server.hpp"

namespace postino::net {

class Transport;
class ConnectionLimiter;
class TlsContextProvider;

// One event loop, run by one thread, and the connections it serves.
struct Loop {
  std::unordered_set<Transport*> connections;  // touched only on this loop's thread
  bool is_stopping = false;
  asio::io_context context{1};

  // Interrupts every session waiting for input; later ones are interrupted at once.
  void stop_sessions();
};

struct ConnectionContext {
  Loop* loop;
  asio::thread_pool* workers;
  asio::thread_pool* login_workers;  // password checks (Output::work_checks_password)
  ConnectionLimiter* limiter;
  TlsContextProvider* tls;
  std::atomic<std::size_t>* live;
  std::function<bool(const std::string&)> is_trusted;
  std::chrono::seconds handshake_timeout;
};

asio::awaitable<void> serve_connection(ConnectionContext ctx, const ListenerOptions* listener,
                                       tcp::socket socket);

}  // namespace postino::net
