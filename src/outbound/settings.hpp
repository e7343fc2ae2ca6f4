// What the outbound part is told by the configuration, without any network types, so
// that `app` can fill it without compiling Asio.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace postino::outbound {

struct ResolverOptions {
  // "HOST:PORT[,HOST:PORT…]"; empty: the system's resolvers (/etc/resolv.conf).
  std::string servers;
  std::chrono::milliseconds timeout{5000};  // per try and server
  int tries = 2;
};

struct RouteTarget {
  std::string host;  // a name, an IPv4 address or an IPv6 address
  std::uint16_t port = 25;
};

struct DeliverySettings {
  std::string helo_name;
  std::uint16_t port = 25;                    // of MX hosts
  std::map<std::string, RouteTarget> routes;  // domain → where its mail goes instead of MX
  std::optional<RouteTarget> relay;           // every other domain's mail goes there
  std::string relay_user;                     // AUTH at the relay, over TLS only
  std::string relay_password;
  std::vector<std::string> our_names;  // an MX with one of these names is us
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds command_timeout{300};  // RFC 5321 §4.5.3.2: 5 minutes
  std::chrono::seconds data_timeout{600};     // the reply to the message: 10 minutes
  std::size_t max_addresses = 5;              // servers tried per attempt (Postfix: 5)
  bool require_tls = false;
  bool loopback_only = false;  // --dev: never relay outside 127.0.0.0/8
};

}  // namespace postino::outbound
