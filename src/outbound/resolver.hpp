// DNS lookups for outbound mail (RFC 5321 §5.1): MX records and host addresses, through
// c-ares driven from the Asio event loop (DESIGN: no thread per lookup). c-ares owns the
// DNS wire protocol, retries and server rotation; this file only watches its sockets and
// timers and turns its answers into queue::MxAnswer and address lists.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "net/asio.hpp"
#include "outbound/settings.hpp"
#include "queue/route.hpp"

namespace postino::outbound {

struct AddressAnswer {
  enum class Kind { addresses, none, temporary };
  Kind kind = Kind::addresses;
  std::vector<net::asio::ip::address> addresses;  // IPv6 and IPv4 as the answer orders them
  std::string error;                              // for none and temporary
};

// One per event loop; every call runs on that loop's thread.
class Resolver {
 public:
  Resolver(net::asio::any_io_executor executor, const ResolverOptions& options);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // "" when the resolver is ready, otherwise why not (a bad server list).
  const std::string& error() const;

  // The name is referenced until the lookup completes.
  net::asio::awaitable<queue::MxAnswer> lookup_mx(const std::string& domain);
  net::asio::awaitable<AddressAnswer> lookup_addresses(const std::string& host);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace postino::outbound
