// See route.hpp.
#include "queue/route.hpp"

#include <algorithm>

#include "base/ascii.hpp"

namespace postino::queue {
namespace {

std::string normalized(std::string host) {
  while (!host.empty() && host.back() == '.') host.pop_back();
  return base::to_lower(host);
}

}  // namespace

Route plan_route(const std::string& domain, const MxAnswer& answer,
                 const std::vector<std::string>& our_names, std::mt19937& rng) {
  Route route;
  switch (answer.kind) {
    case MxAnswer::Kind::temporary:
      route.kind = Route::Kind::defer;
      route.reason = "451 4.4.3 The MX lookup for " + domain + " failed for now";
      return route;
    case MxAnswer::Kind::nxdomain:
      route.kind = Route::Kind::bounce;
      route.reason = "550 5.1.2 The domain " + domain + " does not exist";
      return route;
    case MxAnswer::Kind::no_records:
      route.hosts = {normalized(domain)};  // RFC 5321 §5.1: the implicit MX
      break;
    case MxAnswer::Kind::records: {
      // RFC 7505 §3: a single MX whose host is "." says the domain takes no mail.
      if (answer.records.size() == 1 && normalized(answer.records[0].host).empty()) {
        route.kind = Route::Kind::bounce;
        route.reason = "556 5.1.10 The domain " + domain + " accepts no mail (null MX)";
        return route;
      }
      auto records = answer.records;
      for (auto& r : records) r.host = normalized(r.host);
      std::erase_if(records, [](const MxRecord& r) { return r.host.empty(); });
      // Preference order; the same preference in random order, so that load spreads.
      std::shuffle(records.begin(), records.end(), rng);
      std::stable_sort(records.begin(), records.end(),
                       [](const auto& a, const auto& b) { return a.preference < b.preference; });
      // Ourselves: only better MX than the best of our names remain.
      for (std::size_t i = 0; i < records.size(); ++i) {
        const bool is_us = std::any_of(our_names.begin(), our_names.end(), [&](const auto& n) {
          return normalized(n) == records[i].host;
        });
        if (!is_us) continue;
        const int ours = records[i].preference;
        std::erase_if(records, [ours](const MxRecord& r) { return r.preference >= ours; });
        break;
      }
      if (records.empty()) {
        route.kind = Route::Kind::bounce;
        route.reason = "554 5.4.6 Mail for " + domain + " loops back to this server";
        return route;
      }
      for (const auto& r : records) {
        if (std::find(route.hosts.begin(), route.hosts.end(), r.host) == route.hosts.end())
          route.hosts.push_back(r.host);
      }
      break;
    }
  }
  return route;
}

}  // namespace postino::queue
