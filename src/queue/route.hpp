// Where mail for a domain goes (RFC 5321 §5.1, RFC 7505): the answer to the MX lookup
// turned into the hosts to try in order, or a decision to bounce or wait. Pure: the DNS
// lookup itself happens elsewhere; the shuffle takes its randomness from the caller.
#pragma once

#include <random>
#include <string>
#include <vector>

namespace postino::queue {

struct MxRecord {
  int preference = 0;
  std::string host;  // as the answer gives it; "." is a null MX
};

struct MxAnswer {
  enum class Kind {
    records,     // MX records (maybe a null MX)
    no_records,  // the domain exists but has no MX: its own address records (implicit MX)
    nxdomain,    // the domain does not exist
    temporary,   // SERVFAIL, timeout, no answer: try again later
  };
  Kind kind = Kind::records;
  std::vector<MxRecord> records;
};

struct Route {
  enum class Kind { hosts, bounce, defer };
  Kind kind = Kind::hosts;
  std::vector<std::string> hosts;  // in the order to try: lower-case, no trailing dot
  std::string reason;              // for bounce and defer: "550 5.1.2 …" or "451 4.4.3 …"
};

// `our_names`: the names this server answers to; RFC 5321 §5.1: when one of them is an
// MX of the domain, only MX of a lower preference value (better) than ours are tried, and
// none left means a routing loop (bounced, 5.4.6).
Route plan_route(const std::string& domain, const MxAnswer& answer,
                 const std::vector<std::string>& our_names, std::mt19937& rng);

}  // namespace postino::queue
