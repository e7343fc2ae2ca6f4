// See delivery.hpp.
#include "outbound/delivery.hpp"

#include "base/dot_stuffer.hpp"
#include "base/log.hpp"
#include "net/transport.hpp"
#include "outbound/resolver.hpp"
#include "queue/route.hpp"
#include "smtp/client/reply.hpp"

namespace postino::outbound {
namespace {

namespace asio = net::asio;
using namespace asio::experimental::awaitable_operators;
using net::tcp;
using net::Transport;
using smtp::client::Transaction;
constexpr auto token = asio::as_tuple(asio::use_awaitable);

struct Server {
  std::string host;
  asio::ip::address address;
  std::uint16_t port = 25;
};

std::string describe(const Server& s) {
  return s.host + "[" + s.address.to_string() + "]:" + std::to_string(s.port);
}

// Every recipient with the same fate (no server was reached, or the route decided).
DomainOutcome all(std::size_t n, Transaction::Status status, const std::string& reason) {
  DomainOutcome out;
  out.results.assign(n, {status, reason});
  return out;
}

asio::awaitable<std::optional<tcp::socket>> connect(const Server& server,
                                                    std::chrono::seconds timeout,
                                                    std::string& error) {
  auto executor = co_await asio::this_coro::executor;
  tcp::socket socket(executor);
  asio::steady_timer timer(executor);
  timer.expires_after(timeout);
  auto result = co_await (socket.async_connect({server.address, server.port}, token) ||
                          timer.async_wait(token));
  if (result.index() == 1) {
    error = "connection to " + describe(server) + " timed out";
    co_return std::nullopt;
  }
  if (auto [ec] = std::get<0>(result); ec) {
    error = "connection to " + describe(server) + " failed: " + ec.message();
    co_return std::nullopt;
  }
  co_return std::move(socket);
}

// Sends the message: after DATA dot-stuffed, CRLF guaranteed, ended with ".\r\n"; after
// BDAT (`raw`) exactly as stored, `size` bytes.
asio::awaitable<std::string> send_body(Transport& transport, const BodySource& body, bool raw,
                                       std::uint64_t size, Transport::Duration timeout) {
  base::DotStuffer stuffer(std::nullopt, base::DotStuffer::BareCr::space);
  std::uint64_t offset = 0;
  for (;;) {
    auto piece = co_await body(offset);
    if (!piece) co_return "451 4.3.0 The queued message cannot be read";
    if (piece->empty()) break;
    offset += piece->size();
    const std::string stuffed = raw ? std::string() : stuffer.feed(*piece);
    const std::string_view bytes = raw ? std::string_view(*piece) : std::string_view(stuffed);
    if (co_await transport.write(bytes, timeout) != Transport::Status::ok)
      co_return "451 4.4.2 The connection broke while sending the message";
  }
  if (raw) {
    // The chunk size was announced: a message that changed size cannot be sent.
    if (offset != size) co_return "451 4.3.0 The queued message changed size";
    co_return "";
  }
  if (co_await transport.write(stuffer.finish(), timeout) != Transport::Status::ok)
    co_return "451 4.4.2 The connection broke while sending the message";
  co_return "";
}

// One SMTP session with one server: the transaction decides, this moves bytes.
asio::awaitable<void> run_session(Transport& transport, Transaction& tx, const Server& server,
                                  const DeliverySettings& settings,
                                  const std::shared_ptr<asio::ssl::context>& tls,
                                  const BodySource& body, std::uint64_t size) {
  smtp::client::ReplyReader reader;
  std::string input;
  auto timeout = Transport::Duration(settings.command_timeout);
  while (!tx.is_done()) {
    auto step = reader.next(input);
    if (step.kind == smtp::client::ReplyReader::Step::Kind::error) {
      tx.connection_failed("451 4.5.0 " + describe(server) + " sent a broken reply: " + step.error);
      break;
    }
    if (step.kind == smtp::client::ReplyReader::Step::Kind::need_more) {
      const auto status = co_await transport.read_some(input, timeout);
      if (status == Transport::Status::timed_out) {
        tx.connection_failed("451 4.4.2 " + describe(server) + " did not answer in time");
        break;
      }
      if (status != Transport::Status::ok) {
        tx.connection_failed("451 4.4.2 " + describe(server) + " closed the connection");
        break;
      }
      continue;
    }
    timeout = Transport::Duration(settings.command_timeout);
    auto out = tx.receive(step.reply);
    if (co_await transport.write(out.bytes, timeout) != Transport::Status::ok) {
      tx.connection_failed("451 4.4.2 The connection to " + describe(server) + " broke");
      break;
    }
    if (out.start_tls) {
      input.clear();  // nothing read before the handshake counts after it (RFC 3207 §4.2)
      const auto status = co_await transport.client_handshake(tls, server.host, timeout);
      if (status != Transport::Status::ok) {
        tx.connection_failed("451 4.7.5 The TLS handshake with " + describe(server) + " failed");
        break;
      }
      if (co_await transport.write(tx.tls_started().bytes, timeout) != Transport::Status::ok) {
        tx.connection_failed("451 4.4.2 The connection to " + describe(server) + " broke");
        break;
      }
    }
    if (out.send_body) {
      if (auto err = co_await send_body(transport, body, out.raw_body, size, timeout);
          !err.empty()) {
        tx.connection_failed(err);
        break;
      }
      timeout = Transport::Duration(settings.data_timeout);
    }
    if (out.close) break;
  }
  co_await transport.close(std::chrono::seconds(5));
}

// The servers for the domain in the order to try, or the outcome that needs none.
struct Plan {
  std::vector<RouteTarget> targets;
  bool is_relay = false;  // the relay host: log in when configured
  std::optional<DomainOutcome> decided;
};

asio::awaitable<Plan> plan(Resolver& resolver, const DeliverySettings& settings,
                           const std::string& domain, std::size_t recipients, std::mt19937& rng) {
  Plan p;
  if (auto it = settings.routes.find(domain); it != settings.routes.end()) {
    p.targets.push_back(it->second);
    co_return p;
  }
  if (settings.relay) {
    p.targets.push_back(*settings.relay);
    p.is_relay = true;
    co_return p;
  }
  auto answer = co_await resolver.lookup_mx(domain);
  auto route = queue::plan_route(domain, answer, settings.our_names, rng);
  if (route.kind == queue::Route::Kind::bounce) {
    p.decided = all(recipients, Transaction::Status::permanent, route.reason);
  } else if (route.kind == queue::Route::Kind::defer) {
    p.decided = all(recipients, Transaction::Status::temporary, route.reason);
  } else {
    for (auto& host : route.hosts) p.targets.push_back({host, settings.port});
  }
  co_return p;
}

}  // namespace

asio::awaitable<DomainOutcome> deliver_to_domain(Resolver& resolver,
                                                 const DeliverySettings& settings,
                                                 const std::shared_ptr<asio::ssl::context>& tls,
                                                 const std::string& domain,
                                                 const smtp::client::OutboundMessage& message,
                                                 const BodySource& body, std::mt19937& rng) {
  const auto n = message.recipients.size();
  auto p = co_await plan(resolver, settings, domain, n, rng);
  if (p.decided) co_return std::move(*p.decided);

  smtp::client::ClientPolicy policy;
  policy.helo_name = settings.helo_name;
  policy.can_tls = tls != nullptr;
  policy.require_tls = settings.require_tls;
  if (p.is_relay) {
    policy.auth_user = settings.relay_user;
    policy.auth_password = settings.relay_password;
  }
  std::string last_error = "451 4.4.4 No server for " + domain + " could be found";
  std::size_t tried = 0;
  for (const auto& target : p.targets) {
    std::vector<asio::ip::address> addresses;
    boost::system::error_code ec;
    if (auto literal = asio::ip::make_address(target.host, ec); !ec) {
      addresses.push_back(literal);
    } else {
      auto answer = co_await resolver.lookup_addresses(target.host);
      if (answer.kind != AddressAnswer::Kind::addresses) {
        last_error = "451 4.4.4 Cannot find the address of " + target.host + ": " + answer.error;
        continue;
      }
      addresses = std::move(answer.addresses);
    }
    for (const auto& address : addresses) {
      if (tried >= settings.max_addresses) break;
      const Server server{target.host, address, target.port};
      if (settings.loopback_only && !address.is_loopback()) {
        last_error = "451 4.7.0 The development server relays only to loopback addresses, not " +
                     describe(server);
        continue;
      }
      ++tried;
      std::string error;
      auto socket = co_await connect(server, settings.connect_timeout, error);
      if (!socket) {
        base::log::info("", "outbound_connect_failed", {{"domain", domain}, {"error", error}});
        last_error = "451 4.4.1 " + error;
        continue;
      }
      Transport transport(std::move(*socket));
      Transaction tx(message, policy);
      co_await run_session(transport, tx, server, settings, tls, body, message.size);
      if (tx.try_next_server()) {
        last_error = tx.results().empty() ? last_error : tx.results().front().reply;
        continue;
      }
      DomainOutcome out;
      out.results = tx.results();
      out.remote_host = server.host;
      out.peer_offers_dsn = tx.peer_offers_dsn();
      co_return out;
    }
  }
  co_return all(n, Transaction::Status::temporary, last_error);
}

}  // namespace postino::outbound
