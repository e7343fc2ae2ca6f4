// `postino dns records DOMAIN` and `postino dns check DOMAIN`: the records a domain
// served here needs, and whether DNS has them.
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/dns_check.hpp"
#include "app/dns_records.hpp"
#include "app/store_commands.hpp"
#include "base/ascii.hpp"
#include "dkim/signer.hpp"
#include "http/client_config.hpp"

namespace postino::app {

DnsPlan dns_plan(const config::Config& cfg, const std::string& domain,
                 const std::vector<std::string>& addresses) {
  DnsPlan plan;
  plan.domain = base::to_lower(domain);
  plan.hostname = base::to_lower(cfg.effective_hostname());
  plan.addresses = addresses;
  dkim::KeyRing keys;
  keys.load(cfg.effective_dkim_dir());
  if (const auto* found = keys.find(plan.domain)) {
    for (const auto& k : *found) plan.dkim.push_back({k.selector, dkim::txt_value(k)});
  }
  const std::pair<config::Protocol, const char*> services[] = {
      {config::Protocol::submissions, "_submissions._tcp"},
      {config::Protocol::submission, "_submission._tcp"},
      {config::Protocol::imaps, "_imaps._tcp"},
      {config::Protocol::imap, "_imap._tcp"},
      {config::Protocol::pop3s, "_pop3s._tcp"},
      {config::Protocol::pop3, "_pop3._tcp"}};
  for (const auto& [protocol, srv] : services) {
    auto it = cfg.listen.find(protocol);
    if (it != cfg.listen.end() && !it->second.empty()) {
      plan.services.push_back({srv, it->second.front().port});
    }
  }
  auto https = cfg.listen.find(config::Protocol::https);
  plan.has_https = https != cfg.listen.end() && !https->second.empty();
  if (cfg.mta_sts.mode != "none") plan.mta_sts_policy = http::mta_sts_text(mta_sts_policy(cfg));
  return plan;
}

http::MtaStsPolicy mta_sts_policy(const config::Config& cfg) {
  http::MtaStsPolicy policy{cfg.mta_sts.mode, cfg.mta_sts.mx, cfg.mta_sts.max_age.count()};
  if (policy.mx.empty()) policy.mx = {base::to_lower(cfg.effective_hostname())};
  return policy;
}

void add_dns_commands(CLI::App& app, StoreLocation& where, std::function<int()>& run) {
  static std::string domain, resolver;
  static std::vector<std::string> addresses;
  static bool json = false;
  auto* dns = app.add_subcommand("dns", "The DNS records a domain needs, and checking them.");
  dns->require_subcommand(1);
  dns->footer(
      "Examples:\n  postino --config /etc/postino/postino.toml dns records example.org\n"
      "  postino --config /etc/postino/postino.toml dns check example.org");
  auto* records = dns->add_subcommand(
      "records", "Print the records to publish as a zone-file fragment (or --json).");
  records->add_option("DOMAIN", domain)->required();
  records->add_option("--ip", addresses, "The mail host's public address (repeatable)");
  records->add_flag("--json", json, "One JSON array of {name, type, value, comment}");
  records->footer("Example:\n  postino dns records example.org --ip 203.0.113.7");
  auto* check = dns->add_subcommand(
      "check", "Compare the records with what DNS answers: ok, differs, missing, wrong.");
  check->add_option("DOMAIN", domain)->required();
  check->add_option("--ip", addresses, "The mail host's public address (repeatable)");
  check->add_option("--dns", resolver, "HOST:PORT of the DNS server (default: outbound.dns)");
  check->footer("Example:\n  postino dns check example.org");

  auto plan_or_fail = [&where](config::Config& cfg) -> bool {
    std::string error;
    cfg = location_config(where, error);
    if (!error.empty()) {
      std::cerr << "postino: " << error << "\n";
      return false;
    }
    return true;
  };
  records->callback([&run, plan_or_fail] {
    run = [plan_or_fail] {
      config::Config cfg;
      if (!plan_or_fail(cfg)) return 2;
      const auto plan = dns_plan(cfg, domain, addresses);
      const auto list = dns_records(plan);
      if (json) {
        auto out = nlohmann::json::array();
        for (const auto& r : list) {
          out.push_back(
              {{"name", r.name}, {"type", r.type}, {"value", r.value}, {"comment", r.comment}});
        }
        std::cout << out.dump(2) << "\n";
      } else {
        std::cout << zone_fragment(plan, list);
      }
      return 0;
    };
  });
  check->callback([&run, plan_or_fail] {
    run = [plan_or_fail] {
      config::Config cfg;
      if (!plan_or_fail(cfg)) return 2;
      DnsLookup lookup(resolver.empty() ? cfg.outbound.dns : resolver,
                       std::chrono::milliseconds(cfg.outbound.dns_timeout_ms));
      if (!lookup.error().empty()) {
        std::cerr << "postino: " << lookup.error() << "\n";
        return 2;
      }
      const auto plan = dns_plan(cfg, domain, addresses);
      const auto checks = check_dns(
          plan, dns_records(plan),
          [&lookup](const std::string& n, const std::string& t) { return lookup.query(n, t); });
      std::cout << check_report(checks);
      int bad = 0;
      for (const auto& c : checks) {
        bad += c.state == DnsCheck::State::missing || c.state == DnsCheck::State::wrong ||
               c.state == DnsCheck::State::failed;
      }
      std::cout << (bad ? std::to_string(bad) + " record(s) to fix\n" : "all records ok\n");
      return bad ? 1 : 0;
    };
  });
}

}  // namespace postino::app
