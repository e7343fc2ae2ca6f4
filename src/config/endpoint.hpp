// Listener endpoints ("127.0.0.1:25", "[::1]:993") and the protocols a listener speaks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postino::config {

enum class Protocol { smtp, submission, submissions, imap, imaps, pop3, pop3s, http, https };
inline constexpr Protocol all_protocols[] = {
    Protocol::smtp, Protocol::submission, Protocol::submissions, Protocol::imap, Protocol::imaps,
    Protocol::pop3, Protocol::pop3s,      Protocol::http,        Protocol::https};

std::string_view to_string(Protocol p);
std::optional<Protocol> parse_protocol(std::string_view name);
// Implicit TLS (RFC 8314): the TLS handshake comes before the greeting.
bool is_implicit_tls(Protocol p);

struct Endpoint {
  std::string address;  // an IPv4 or IPv6 literal, without brackets
  std::uint16_t port = 0;
  std::string str() const;  // "127.0.0.1:25" or "[::1]:25"
  bool operator==(const Endpoint&) const = default;
};

// "ADDR:PORT" with ADDR an IPv4 literal or a bracketed IPv6 literal; port 0 asks the
// kernel for a free port (used by tests). nullopt when malformed.
std::optional<Endpoint> parse_endpoint(std::string_view text);

// An outbound route override: "DOMAIN=HOST:PORT" sends the domain's mail to HOST (a name,
// an IPv4 literal or a bracketed IPv6 literal) instead of its MX hosts.
struct RouteOverride {
  std::string domain;  // lower-case
  std::string host;    // without brackets
  std::uint16_t port = 25;
};
std::optional<RouteOverride> parse_route(std::string_view text);
// "HOST:PORT" with HOST a name, an IPv4 literal or a bracketed IPv6 literal (a relay
// host); the domain of the result is empty.
std::optional<RouteOverride> parse_host_port(std::string_view text);

// An address block such as "127.0.0.0/8" or "::1/128" (a bare address is a /32 or /128).
struct Network {
  bool is_v6 = false;
  unsigned char bytes[16] = {};
  int prefix = 0;
  bool contains(std::string_view address) const;
};
std::optional<Network> parse_network(std::string_view text);

}  // namespace postino::config
