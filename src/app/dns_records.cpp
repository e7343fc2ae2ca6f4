// See dns_records.hpp.
#include "app/dns_records.hpp"

#include <openssl/evp.h>

namespace postino::app {

std::string mta_sts_id(const std::string& policy) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(policy.data(), policy.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string id;
  for (unsigned i = 0; i < 10 && i < len; ++i) {
    id += hex[md[i] >> 4];
    id += hex[md[i] & 15];
  }
  return id;  // 20 alphanumeric characters (the id allows up to 32)
}

std::string quoted_txt(const std::string& text) {
  std::string out;
  std::size_t i = 0;
  do {
    if (i > 0) out += " ";
    out += "\"";
    for (char c : text.substr(i, 255)) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += "\"";
    i += 255;
  } while (i < text.size());
  return out;
}

std::vector<DnsRecord> dns_records(const DnsPlan& plan) {
  const std::string d = plan.domain + ".";
  const std::string h = plan.hostname + ".";
  const std::string postmaster = "postmaster@" + plan.domain;
  std::vector<DnsRecord> r;
  r.push_back({d, "MX", "10 " + h, "mail for the domain goes to this host"});
  for (const auto& a : plan.addresses) {
    r.push_back({h, a.find(':') == std::string::npos ? "A" : "AAAA", a,
                 "the mail host; its reverse (PTR) record should name " + plan.hostname});
  }
  r.push_back({d, "TXT", "v=spf1 mx ~all", "SPF: the domain's mail leaves from its MX hosts"});
  r.push_back({h, "TXT", "v=spf1 a ~all", "SPF for the host name used in HELO and bounces"});
  for (const auto& k : plan.dkim) {
    r.push_back({k.selector + "._domainkey." + d, "TXT", k.value,
                 "DKIM: the public key of the signing key '" + k.selector + "'"});
  }
  r.push_back(
      {"_dmarc." + d, "TXT", "v=DMARC1; p=quarantine; rua=mailto:" + postmaster,
       "DMARC: mail failing SPF and DKIM alignment is quarantined; reports to " + postmaster});
  if (!plan.mta_sts_policy.empty()) {
    r.push_back({"_mta-sts." + d, "TXT", "v=STSv1; id=" + mta_sts_id(plan.mta_sts_policy),
                 "MTA-STS (RFC 8461): the id changes with the policy"});
    r.push_back({"mta-sts." + d, "CNAME", h,
                 "the policy is fetched over HTTPS from mta-sts." + plan.domain +
                     " (the certificate must cover that name)"});
  }
  r.push_back({"_smtp._tls." + d, "TXT", "v=TLSRPTv1; rua=mailto:" + postmaster,
               "TLS reporting (RFC 8460)"});
  r.push_back({"autoconfig." + d, "CNAME", h, "Thunderbird autoconfig"});
  r.push_back({"autodiscover." + d, "CNAME", h, "Outlook autodiscover"});
  for (const auto& s : plan.services) {
    r.push_back({s.srv + "." + d, "SRV", "0 1 " + std::to_string(s.port) + " " + h,
                 "RFC 6186 service location"});
  }
  if (plan.has_https) {
    r.push_back({"_autodiscover._tcp." + d, "SRV", "0 1 443 " + h, "Outlook autodiscover"});
  }
  return r;
}

std::string zone_fragment(const DnsPlan& plan, const std::vector<DnsRecord>& records) {
  std::string out = "; DNS records for " + plan.domain + ", served by " + plan.hostname +
                    " (Postino). Add them to the zone of " + plan.domain + ".\n";
  if (plan.addresses.empty()) {
    out += "; The A/AAAA records of " + plan.hostname +
           " are not listed: give the host's public addresses with --ip.\n";
  }
  for (const auto& rec : records) {
    out += "\n; " + rec.comment + "\n";
    out += rec.name + " 3600 IN " + rec.type + " " +
           (rec.type == "TXT" ? quoted_txt(rec.value) : rec.value) + "\n";
  }
  return out;
}

}  // namespace postino::app
