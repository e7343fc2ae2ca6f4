// The per-connection driver; see connection.hpp.
#include "net/connection.hpp"

#include <exception>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "base/session_id.hpp"
#include "net/connection_limiter.hpp"
#include "net/tls_context.hpp"
#include "net/transport.hpp"

namespace postino::net {
namespace {

using Status = Transport::Status;
constexpr auto close_timeout = std::chrono::seconds(1);

// Registers a connection with its loop (for shutdown) and the limiter, and undoes both
// however the coroutine ends, including when its loop is destroyed.
class Registration {
 public:
  Registration(Loop* loop, Transport* transport, std::atomic<std::size_t>* live)
      : loop_(loop), transport_(transport), live_(live) {
    loop_->connections.insert(transport_);
    ++*live_;
    if (loop_->is_stopping) transport_->stop();
  }
  ~Registration() {
    loop_->connections.erase(transport_);
    --*live_;
  }
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

 private:
  Loop* loop_;
  Transport* transport_;
  std::atomic<std::size_t>* live_;
};

class Admission {
 public:
  Admission(ConnectionLimiter* limiter, std::string address)
      : limiter_(limiter), address_(std::move(address)) {}
  ~Admission() {
    if (admitted_) limiter_->release(address_);
  }
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;
  ConnectionLimiter::Verdict admit(bool is_trusted) {
    auto v = limiter_->admit(address_, is_trusted);
    admitted_ = v == ConnectionLimiter::Verdict::admitted;
    return v;
  }

 private:
  ConnectionLimiter* limiter_;
  std::string address_;
  bool admitted_ = false;
};

// Runs a session's blocking work on the worker pool; the caller resumes on its own loop.
asio::awaitable<void> run_work(std::function<void()> work) {
  work();
  co_return;
}

// Produces the next piece of a streamed response on the worker pool.
asio::awaitable<void> next_piece(Output::Stream* stream, std::string* piece) {
  piece->clear();
  (*stream)(*piece);
  co_return;
}

// The connection metrics of one listener's protocol.
struct ConnectionMetrics {
  base::metrics::Counter& accepted;
  base::metrics::Counter& refused;
  base::metrics::Gauge& open;
  base::metrics::Counter& tls_ok;
  base::metrics::Counter& tls_failed;
  base::metrics::Family<base::metrics::Counter>& closed;

  static ConnectionMetrics of(const std::string& protocol) {
    namespace m = base::metrics;
    static auto& accepted = m::counter("postino_connections_total",
                                       "Connections accepted, by listener protocol.", {"protocol"});
    static auto& refused =
        m::counter("postino_connections_refused_total",
                   "Connections answered \"too busy\" by a connection limit.", {"protocol"});
    static auto& open =
        m::gauge("postino_connections_open", "Connections open now, by protocol.", {"protocol"});
    static auto& tls = m::counter("postino_tls_handshakes_total",
                                  "TLS handshakes (implicit TLS and STARTTLS), by result.",
                                  {"protocol", "result"});
    static auto& closed =
        m::counter("postino_connections_closed_total", "Connections ended, by protocol and reason.",
                   {"protocol", "reason"});
    return {accepted.with({protocol}),  refused.with({protocol}),       open.with({protocol}),
            tls.with({protocol, "ok"}), tls.with({protocol, "failed"}), closed};
  }
};

// Runs the session until it ends; returns why it ended, for the log.
asio::awaitable<std::string> drive(const ConnectionContext& ctx, const ListenerOptions& listener,
                                   const ClientInfo& client, Transport& transport,
                                   ProtocolSession& session, ConnectionMetrics& metrics) {
  const auto write_timeout = session.idle_timeout();
  Output out = session.greet();
  std::string input;
  // The timeout runs per command, not per read: a client dripping one byte at a time
  // cannot hold a session open (RELIABILITY L03, Postfix smtpd_per_record_deadline).
  auto command_start = std::chrono::steady_clock::now();
  asio::steady_timer delay(transport.executor());
  for (;;) {
    if (out.delay.count() > 0) {
      delay.expires_after(out.delay);
      co_await delay.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (co_await transport.write(out.bytes, write_timeout) != Status::ok) co_return "write_failed";
    if (out.stream) {
      for (std::string piece;;) {
        co_await asio::co_spawn(*ctx.workers, next_piece(&out.stream, &piece), asio::use_awaitable);
        if (piece.empty()) break;
        if (co_await transport.write(piece, write_timeout) != Status::ok) co_return "write_failed";
      }
    }
    if (out.after == After::close) co_return "quit";
    if (out.after == After::work) {
      if (out.work) {
        auto& pool = out.work_checks_password ? *ctx.login_workers : *ctx.workers;
        co_await asio::co_spawn(pool, run_work(std::move(out.work)), asio::use_awaitable);
      }
      out = session.resume(input);
      continue;
    }
    if (out.after == After::start_tls) {
      // RFC 3207 §4.2, CVE-2011-0411: nothing the client sent before the handshake may
      // be read as a command after it.
      input.clear();
      auto status = co_await transport.handshake(ctx.tls->current(), ctx.handshake_timeout,
                                                 &listener.protocol);
      (status == Status::ok ? metrics.tls_ok : metrics.tls_failed).add();
      if (status != Status::ok) co_return "starttls_failed";
      const auto info = transport.tls_info();
      base::log::info(client.session_id, "tls",
                      {{"version", info.version}, {"cipher", info.cipher}});
      session.tls_started(info);
    }
    if (out.after == After::start_compression) {
      input.clear();
      if (!transport.start_compression()) co_return "compression_failed";
      base::log::info(client.session_id, "compress", {{"mechanism", "DEFLATE"}});
    }
    out = {};
    if (input.empty() && !session.is_mid_command())
      command_start = std::chrono::steady_clock::now();
    const auto left = std::max<std::chrono::steady_clock::duration>(
        command_start + session.command_budget() - std::chrono::steady_clock::now(),
        std::chrono::milliseconds(1));
    auto status = co_await transport.read_some(input, left);
    if (status == Status::timed_out) {
      co_await transport.write(session.timeout_reply(), write_timeout);
      co_return "timeout";
    }
    if (status == Status::stopped) {
      co_await transport.write(session.shutdown_reply(), write_timeout);
      co_return "shutdown";
    }
    if (status == Status::woken) {
      out = session.woken(input);
      continue;
    }
    if (status != Status::ok) co_return "client_closed";
    out = session.receive(input);
    // Nothing to answer yet: the client may be waiting for our ACK to send the rest.
    if (out.bytes.empty() && out.after == After::read && !out.stream) transport.acknowledge_now();
  }
}

asio::awaitable<void> serve(ConnectionContext ctx, const ListenerOptions* listener,
                            tcp::socket socket) {
  ClientInfo client;
  client.session_id = base::SessionId::generate().str();
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  if (ec) co_return;  // the client is already gone
  const auto local = socket.local_endpoint(ec);
  client.address = remote.address().to_string();
  client.port = remote.port();
  client.local_address = local.address().to_string();
  client.local_port = local.port();
  client.is_trusted = ctx.is_trusted && ctx.is_trusted(client.address);
  client.is_loopback = remote.address().is_loopback();
  client.is_tls = listener->implicit_tls;

  Transport transport(std::move(socket));
  Registration registration(ctx.loop, &transport, ctx.live);
  auto metrics = ConnectionMetrics::of(listener->protocol);
  metrics.accepted.add();
  metrics.open.add();
  struct Open {
    base::metrics::Gauge& gauge;
    ~Open() { gauge.sub(); }
  } open_until_return{metrics.open};
  Admission admission(ctx.limiter, client.address);
  const auto verdict = admission.admit(client.is_trusted);
  base::log::info(client.session_id, "connect",
                  {{"proto", listener->protocol},
                   {"remote", client.address + ":" + std::to_string(client.port)},
                   {"local", client.local_address + ":" + std::to_string(client.local_port)}});

  if (listener->implicit_tls) {
    // RFC 8314 §3.3: the handshake comes first; a refused client gets its reply inside TLS.
    auto status = co_await transport.handshake(ctx.tls->current(), ctx.handshake_timeout,
                                               &listener->protocol);
    if (status != Status::ok) {
      metrics.tls_failed.add();
      metrics.closed.with({listener->protocol, "tls_handshake_failed"}).add();
      base::log::info(client.session_id, "disconnect", {{"reason", "tls_handshake_failed"}});
      co_await transport.close(close_timeout);
      co_return;
    }
    metrics.tls_ok.add();
    const auto info = transport.tls_info();
    base::log::info(client.session_id, "tls", {{"version", info.version}, {"cipher", info.cipher}});
  }

  if (verdict != ConnectionLimiter::Verdict::admitted) {
    const char* limit = verdict == ConnectionLimiter::Verdict::too_many_total
                            ? "limits.max_connections"
                        : verdict == ConnectionLimiter::Verdict::too_many_from_address
                            ? "limits.max_connections_per_ip"
                            : "limits.max_new_connections_per_minute_per_ip";
    base::log::warn(client.session_id, "too_busy", {{"limit", limit}});
    metrics.refused.add();
    co_await transport.write(listener->factory->busy_reply(), std::chrono::seconds(5));
    co_await transport.close(close_timeout);
    base::log::info(client.session_id, "disconnect", {{"reason", "too_busy"}});
    co_return;
  }

  auto session = listener->factory->create(client);
  if (listener->implicit_tls) session->tls_started(transport.tls_info());
  // The waker may be called from any thread after the connection is gone: it posts to
  // this loop, where `alive` says whether the transport still exists.
  auto alive = std::make_shared<bool>(true);
  struct Alive {
    std::shared_ptr<bool> flag;
    ~Alive() { *flag = false; }
  } alive_until_return{alive};
  session->set_waker([executor = transport.executor(), alive, t = &transport] {
    asio::post(executor, [alive, t] {
      if (*alive) t->wake();
    });
  });
  std::string reason = co_await drive(ctx, *listener, client, transport, *session, metrics);
  metrics.closed.with({listener->protocol, reason}).add();
  base::log::info(client.session_id, "disconnect", {{"reason", reason}});
  co_await transport.close(close_timeout);
}

}  // namespace

void Loop::stop_sessions() {
  is_stopping = true;
  for (auto* t : connections) t->stop();
}

asio::awaitable<void> serve_connection(ConnectionContext ctx, const ListenerOptions* listener,
                                       tcp::socket socket) {
  try {
    co_await serve(std::move(ctx), listener, std::move(socket));
  } catch (const std::exception& e) {
    // A bug, never input: log it and drop only this connection.
    base::log::error("", "connection_failed", {{"error", e.what()}});
  }
}

}  // namespace postino::net
