// The DNS records a domain served by Postino needs (MX, SPF, DKIM, DMARC, MTA-STS,
// TLS-RPT, client autoconfiguration and RFC 6186 SRV records), computed from the
// configuration: `postino quickstart` and `postino dns records` print them as a zone-file
// fragment, `postino dns check` compares them with what DNS answers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace postino::app {

struct DnsRecord {
  std::string name;   // absolute, with the final dot
  std::string type;   // "MX", "TXT", "CNAME", "SRV", "A", "AAAA"
  std::string value;  // TXT: the text unquoted; others: as in a zone file
  std::string comment;
};

struct DnsPlan {
  std::string domain;                  // lower-case
  std::string hostname;                // the mail host (MX target, certificate name)
  std::vector<std::string> addresses;  // the host's public IPv4/IPv6 addresses, if known
  struct Dkim {
    std::string selector, value;  // value: "v=DKIM1; k=…; p=…"
  };
  std::vector<Dkim> dkim;
  struct Service {
    std::string srv;  // "_imaps._tcp"
    std::uint16_t port = 0;
  };
  std::vector<Service> services;
  std::string mta_sts_policy;  // the served policy text; "" when mta_sts.mode is none
  bool has_https = false;      // an https listener serves MTA-STS and autoconfig
};

std::vector<DnsRecord> dns_records(const DnsPlan& plan);

// The records as a commented zone-file fragment (TXT split into 255-byte strings).
std::string zone_fragment(const DnsPlan& plan, const std::vector<DnsRecord>& records);

// The MTA-STS policy id (RFC 8461 §3.1): a digest of the policy text, so it changes
// exactly when the policy does.
std::string mta_sts_id(const std::string& policy);

// A TXT value as zone-file character strings: "…" "…", 255 bytes at most each.
std::string quoted_txt(const std::string& text);

}  // namespace postino::app
