// Endpoint and network parsing; see endpoint.hpp.
#include "config/endpoint.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cstring>

namespace postino::config {
namespace {

bool parse_ip(std::string_view text, bool& is_v6, unsigned char* bytes) {
  std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), bytes) == 1) {
    is_v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), bytes) == 1) {
    is_v6 = true;
    return true;
  }
  return false;
}

}  // namespace

std::string_view to_string(Protocol p) {
  switch (p) {
    case Protocol::smtp:
      return "smtp";
    case Protocol::submission:
      return "submission";
    case Protocol::submissions:
      return "submissions";
    case Protocol::imap:
      return "imap";
    case Protocol::imaps:
      return "imaps";
    case Protocol::pop3:
      return "pop3";
    case Protocol::pop3s:
      return "pop3s";
    case Protocol::http:
      return "http";
    case Protocol::https:
      return "https";
  }
  return "?";
}

std::optional<Protocol> parse_protocol(std::string_view name) {
  for (auto p : all_protocols) {
    if (to_string(p) == name) return p;
  }
  return std::nullopt;
}

bool is_implicit_tls(Protocol p) {
  return p == Protocol::submissions || p == Protocol::imaps || p == Protocol::pop3s ||
         p == Protocol::https;
}

std::string Endpoint::str() const {
  if (address.find(':') != std::string::npos) return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

std::optional<Endpoint> parse_endpoint(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return std::nullopt;
    host = host.substr(1, host.size() - 2);
    if (host.find(':') == std::string_view::npos) return std::nullopt;
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;  // an IPv6 literal must be bracketed
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    return std::nullopt;
  }
  bool is_v6 = false;
  unsigned char bytes[16];
  if (!parse_ip(host, is_v6, bytes)) return std::nullopt;
  return Endpoint{std::string(host), static_cast<std::uint16_t>(port)};
}

std::optional<RouteOverride> parse_host_port(std::string_view target) {
  RouteOverride route;
  const auto colon = target.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  if (target.front() == '[') {
    // An IPv6 literal: checked as an endpoint.
    auto endpoint = parse_endpoint(target);
    if (!endpoint || endpoint->port == 0) return std::nullopt;
    route.host = endpoint->address;
    route.port = endpoint->port;
    return route;
  }
  const auto host = target.substr(0, colon);
  for (char c : host) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
    if (!ok) return std::nullopt;
  }
  const auto port_text = target.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return std::nullopt;
  }
  route.host = std::string(host);
  route.port = static_cast<std::uint16_t>(port);
  return route;
}

std::optional<RouteOverride> parse_route(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) return std::nullopt;
  auto route = parse_host_port(text.substr(eq + 1));
  if (!route) return std::nullopt;
  for (char c : text.substr(0, eq)) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
    if (!ok) return std::nullopt;
    route->domain.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return route;
}

std::optional<Network> parse_network(std::string_view text) {
  Network net;
  std::string_view addr = text;
  int prefix = -1;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    auto p = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (ec != std::errc{} || end != p.data() + p.size() || p.empty()) return std::nullopt;
  }
  if (!parse_ip(addr, net.is_v6, net.bytes)) return std::nullopt;
  const int max = net.is_v6 ? 128 : 32;
  if (prefix == -1) prefix = max;
  if (prefix < 0 || prefix > max) return std::nullopt;
  net.prefix = prefix;
  return net;
}

bool Network::contains(std::string_view address) const {
  bool v6 = false;
  unsigned char bytes[16] = {};
  if (!parse_ip(address, v6, bytes)) return false;
  if (v6 && !is_v6) {
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) belongs to the IPv4 network.
    static constexpr unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(bytes, mapped, 12) != 0) return false;
    std::memmove(bytes, bytes + 12, 4);
    v6 = false;
  }
  if (v6 != is_v6) return false;
  const int full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(bytes, this->bytes, full) != 0) return false;
  if (rest == 0) return true;
  const unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (bytes[full] & mask) == (this->bytes[full] & mask);
}

}  // namespace postino::config
