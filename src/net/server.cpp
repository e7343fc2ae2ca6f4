// Listeners, event loops, signals and shutdown; see server.hpp. The per-connection
// driver is in connection.cpp.
#include "net/server.hpp"

#include <atomic>
#include <csignal>
#include <thread>
#include <unordered_set>

#include "base/log.hpp"
#include "net/asio.hpp"
#include "net/connection.hpp"
#include "net/connection_limiter.hpp"
#include "net/tls_context.hpp"

namespace postino::net {
namespace {

using boost::system::error_code;
constexpr auto token = asio::as_tuple(asio::use_awaitable);

bool is_resource_shortage(const error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec.value() == ENFILE;
}

}  // namespace

struct Server::Impl {
  explicit Impl(ServerOptions o)
      : options(std::move(o)),
        tls({options.cert_file, options.key_file, options.tls_min_version}),
        limiter(options.max_connections, options.max_connections_per_ip,
                options.max_new_connections_per_minute_per_ip) {}

  ServerOptions options;
  asio::thread_pool workers{options.worker_threads};
  asio::thread_pool login_workers{options.login_threads};
  TlsContextProvider tls;
  ConnectionLimiter limiter;
  std::vector<BoundListener> bound;
  std::atomic<std::size_t> next_loop{0};
  std::atomic<std::size_t> live{0};
  // Declared last so the loops (and any suspended sessions in them) go first.
  std::vector<std::unique_ptr<Loop>> loops;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;  // all on loops[0]
  // Created by start(), so that a signal arriving between "ready" and run() is queued
  // rather than killing the process.
  std::unique_ptr<asio::signal_set> signals;

  Loop& pick_loop() { return *loops[next_loop++ % loops.size()]; }
  asio::awaitable<void> accept_loop(tcp::acceptor* acceptor, const ListenerOptions* listener);
  asio::awaitable<void> handle_signals();
  asio::awaitable<void> shut_down();
};

asio::awaitable<void> Server::Impl::accept_loop(tcp::acceptor* acceptor,
                                                const ListenerOptions* listener) {
  asio::steady_timer backoff(acceptor->get_executor());
  for (;;) {
    Loop& loop = pick_loop();
    auto [ec, socket] = co_await acceptor->async_accept(loop.context, token);
    if (!acceptor->is_open() || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of descriptors or memory: keep the connections we have, retry shortly.
      base::log::warn("", "accept_failed",
                      {{"proto", listener->protocol}, {"error", ec.message()}});
      if (is_resource_shortage(ec)) {
        backoff.expires_after(std::chrono::milliseconds(100));
        co_await backoff.async_wait(token);
      }
      continue;
    }
    ConnectionContext ctx{&loop, &workers, &login_workers,     &limiter,
                          &tls,  &live,    options.is_trusted, options.handshake_timeout};
    asio::co_spawn(loop.context, serve_connection(ctx, listener, std::move(socket)),
                   asio::detached);
  }
}

asio::awaitable<void> Server::Impl::handle_signals() {
  for (;;) {
    auto [ec, signal] = co_await signals->async_wait(token);
    if (ec) co_return;
    if (signal == SIGHUP) {
      auto err = tls.load();
      if (err.empty()) {
        base::log::info("", "tls_reloaded", {{"cert", options.cert_file}});
      } else {
        base::log::error("", "tls_reload_failed", {{"error", err}});
      }
      continue;
    }
    base::log::info("", "shutdown",
                    {{"signal", signal == SIGINT ? "SIGINT" : "SIGTERM"},
                     {"connections", std::to_string(live.load())}});
    co_await shut_down();
    co_return;
  }
}

asio::awaitable<void> Server::Impl::shut_down() {
  error_code ignored;
  for (auto& a : acceptors) a->close(ignored);
  for (auto& loop : loops) {
    asio::post(loop->context, [l = loop.get()] { l->stop_sessions(); });
  }
  // Sessions busy with a command get until the grace deadline; then the loops stop.
  asio::steady_timer poll(loops[0]->context);
  const auto deadline = std::chrono::steady_clock::now() + options.shutdown_grace;
  while (live.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    poll.expires_after(std::chrono::milliseconds(20));
    co_await poll.async_wait(token);
  }
  if (live.load() > 0) {
    base::log::warn("", "shutdown_deadline", {{"connections", std::to_string(live.load())}});
  }
  for (auto& loop : loops) loop->context.stop();
}

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  const std::size_t threads = impl_->options.io_threads == 0
                                  ? std::max(1u, std::thread::hardware_concurrency())
                                  : impl_->options.io_threads;
  for (std::size_t i = 0; i < threads; ++i) impl_->loops.push_back(std::make_unique<Loop>());
}

Server::~Server() = default;

const std::vector<BoundListener>& Server::bound() const {
  return impl_->bound;
}

std::string Server::start() {
  if (auto err = impl_->tls.load(); !err.empty()) return err;
  auto& ctx = impl_->loops[0]->context;
  impl_->signals = std::make_unique<asio::signal_set>(ctx, SIGINT, SIGTERM, SIGHUP);
  for (const auto& l : impl_->options.listeners) {
    error_code ec;
    auto address = asio::ip::make_address(l.address, ec);
    if (ec) return "listener " + l.protocol + ": bad address " + l.address;
    tcp::endpoint endpoint(address, l.port);
    auto acceptor = std::make_unique<tcp::acceptor>(ctx);
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && address.is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      impl_->acceptors.clear();
      impl_->bound.clear();
      return "cannot listen for " + l.protocol + " on " + endpoint.address().to_string() + ":" +
             std::to_string(l.port) + ": " + ec.message();
    }
    const auto local = acceptor->local_endpoint();
    impl_->bound.push_back({l.protocol, local.address().to_string(), local.port(), l.implicit_tls});
    impl_->acceptors.push_back(std::move(acceptor));
  }
  // Logged once all are bound, so that they come before the caller's "ready".
  for (const auto& b : impl_->bound) {
    base::log::info("", "listening",
                    {{"proto", b.protocol}, {"addr", b.address}, {"port", std::to_string(b.port)}});
  }
  return "";
}

int Server::run() {
  auto& impl = *impl_;
  for (std::size_t i = 0; i < impl.acceptors.size(); ++i) {
    asio::co_spawn(impl.loops[0]->context,
                   impl.accept_loop(impl.acceptors[i].get(), &impl.options.listeners[i]),
                   asio::detached);
  }
  asio::co_spawn(impl.loops[0]->context, impl.handle_signals(), asio::detached);
  std::vector<std::thread> threads;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& loop : impl.loops) guards.push_back(asio::make_work_guard(loop->context));
  for (std::size_t i = 1; i < impl.loops.size(); ++i) {
    threads.emplace_back([loop = impl.loops[i].get()] { loop->context.run(); });
  }
  impl.loops[0]->context.run();
  for (auto& t : threads) t.join();
  impl.workers.join();
  impl.login_workers.join();
  base::log::info("", "stopped");
  return 0;
}

}  // namespace postino::net
