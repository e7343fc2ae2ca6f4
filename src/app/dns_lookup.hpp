// Blocking DNS lookups for the command line (`postino dns check`): c-ares driven by
// poll() until the answer comes. The server itself never blocks on DNS (see
// outbound/resolver.hpp); a command waiting for one answer may.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace postino::app {

struct DnsAnswer {
  enum class Kind { records, none, failed };  // none: NXDOMAIN or no record of the type
  Kind kind = Kind::none;
  // TXT: each record's strings joined; MX: "PREF HOST."; SRV: "PRIO WEIGHT PORT HOST.";
  // A/AAAA: addresses (following CNAMEs).
  std::vector<std::string> values;
  std::string error;
};

class DnsLookup {
 public:
  // servers: "HOST:PORT[,…]" (outbound.dns); empty uses /etc/resolv.conf.
  DnsLookup(const std::string& servers, std::chrono::milliseconds timeout);
  ~DnsLookup();
  DnsLookup(const DnsLookup&) = delete;
  DnsLookup& operator=(const DnsLookup&) = delete;

  const std::string& error() const { return error_; }
  // type: "TXT", "MX", "SRV", "A" or "AAAA".
  DnsAnswer query(const std::string& name, const std::string& type);

 private:
  void* channel_ = nullptr;
  std::string error_;
};

}  // namespace postino::app
