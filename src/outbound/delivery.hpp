// One delivery attempt of one message to the recipients of one domain (RFC 5321 §5.1):
// find the servers (a configured route, or MX records, or the domain's own address), then
// try them in order, each address until one decides the recipients; the SMTP dialogue is
// smtp::client::Transaction, this file moves its bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "net/asio.hpp"
#include "outbound/settings.hpp"
#include "smtp/client/transaction.hpp"

namespace postino::outbound {

class Resolver;

// The queued message's bytes from `offset` on, up to one piece; "" at the end, nullopt
// when they cannot be read.
using BodySource = std::function<net::asio::awaitable<std::optional<std::string>>(std::uint64_t)>;

struct DomainOutcome {
  // Per recipient of the message given, in its order.
  std::vector<smtp::client::Transaction::RecipientResult> results;
  std::string remote_host;  // the server that decided, "" when none answered
  bool peer_offers_dsn = false;
};

// `tls`: the client context for STARTTLS; null: never TLS.
net::asio::awaitable<DomainOutcome> deliver_to_domain(
    Resolver& resolver, const DeliverySettings& settings,
    const std::shared_ptr<net::asio::ssl::context>& tls, const std::string& domain,
    const smtp::client::OutboundMessage& message, const BodySource& body, std::mt19937& rng);

}  // namespace postino::outbound
