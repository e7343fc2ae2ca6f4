#include "app/dns_records.hpp"
#include "app/dns_check.hpp"

#include <gtest/gtest.h>

#include <map>

namespace postino::app {
namespace {

DnsPlan plan() {
  DnsPlan p;
  p.domain = "example.org";
  p.hostname = "mail.example.org";
  p.addresses = {"203.0.113.7", "2001:db8::7"};
  p.dkim = {{"postino", "v=DKIM1; k=rsa; p=" + std::string(400, 'A')}};
  p.services = {{"_submissions._tcp", 465}, {"_imaps._tcp", 993}};
  p.mta_sts_policy =
      "version: STSv1\r\nmode: testing\r\nmx: mail.example.org\r\nmax_age: 604800\r\n";
  p.has_https = true;
  return p;
}

const DnsRecord* find(const std::vector<DnsRecord>& rs, const std::string& name,
                      const std::string& type) {
  for (const auto& r : rs) {
    if (r.name == name && r.type == type) return &r;
  }
  return nullptr;
}

TEST(DnsRecords, EveryRecordADomainNeeds) {
  const auto rs = dns_records(plan());
  ASSERT_TRUE(find(rs, "example.org.", "MX"));
  EXPECT_EQ(find(rs, "example.org.", "MX")->value, "10 mail.example.org.");
  EXPECT_EQ(find(rs, "mail.example.org.", "A")->value, "203.0.113.7");
  EXPECT_EQ(find(rs, "mail.example.org.", "AAAA")->value, "2001:db8::7");
  EXPECT_EQ(find(rs, "example.org.", "TXT")->value, "v=spf1 mx ~all");
  EXPECT_EQ(find(rs, "mail.example.org.", "TXT")->value, "v=spf1 a ~all");
  EXPECT_TRUE(find(rs, "postino._domainkey.example.org.", "TXT"));
  EXPECT_EQ(find(rs, "_dmarc.example.org.", "TXT")->value,
            "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org");
  EXPECT_EQ(find(rs, "_mta-sts.example.org.", "TXT")->value,
            "v=STSv1; id=" + mta_sts_id(plan().mta_sts_policy));
  EXPECT_EQ(find(rs, "mta-sts.example.org.", "CNAME")->value, "mail.example.org.");
  EXPECT_EQ(find(rs, "_smtp._tls.example.org.", "TXT")->value,
            "v=TLSRPTv1; rua=mailto:postmaster@example.org");
  EXPECT_TRUE(find(rs, "autoconfig.example.org.", "CNAME"));
  EXPECT_TRUE(find(rs, "autodiscover.example.org.", "CNAME"));
  EXPECT_EQ(find(rs, "_submissions._tcp.example.org.", "SRV")->value, "0 1 465 mail.example.org.");
  EXPECT_EQ(find(rs, "_imaps._tcp.example.org.", "SRV")->value, "0 1 993 mail.example.org.");
  EXPECT_EQ(find(rs, "_autodiscover._tcp.example.org.", "SRV")->value, "0 1 443 mail.example.org.");
}

TEST(DnsRecords, NoMtaStsWithoutAPolicy) {
  auto p = plan();
  p.mta_sts_policy.clear();
  const auto rs = dns_records(p);
  EXPECT_FALSE(find(rs, "_mta-sts.example.org.", "TXT"));
  EXPECT_FALSE(find(rs, "mta-sts.example.org.", "CNAME"));
}

TEST(DnsRecords, MtaStsIdFollowsThePolicy) {
  const auto a = mta_sts_id("version: STSv1\r\nmode: testing\r\n");
  EXPECT_EQ(a, mta_sts_id("version: STSv1\r\nmode: testing\r\n"));
  EXPECT_NE(a, mta_sts_id("version: STSv1\r\nmode: enforce\r\n"));
  EXPECT_EQ(a.size(), 20u);
}

TEST(DnsRecords, LongTxtIsSplitAndQuoted) {
  EXPECT_EQ(quoted_txt("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quoted_txt(""), "\"\"");
  const auto split = quoted_txt(std::string(300, 'x'));
  EXPECT_EQ(split, "\"" + std::string(255, 'x') + "\" \"" + std::string(45, 'x') + "\"");
  const auto zone = zone_fragment(plan(), dns_records(plan()));
  EXPECT_NE(zone.find("example.org. 3600 IN MX 10 mail.example.org.\n"), std::string::npos);
  EXPECT_NE(zone.find("_dmarc.example.org. 3600 IN TXT \"v=DMARC1; p=quarantine;"),
            std::string::npos);
}

// A fake DNS: what each (name, type) answers.
struct FakeDns {
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> zone;
  DnsAnswer operator()(const std::string& name, const std::string& type) const {
    DnsAnswer a;
    auto it = zone.find({name, type});
    if (it == zone.end()) return a;
    a.kind = DnsAnswer::Kind::records;
    a.values = it->second;
    return a;
  }
};

FakeDns complete() {
  FakeDns dns;
  for (const auto& r : dns_records(plan())) {
    if (r.type == "CNAME") {
      dns.zone[{r.name, "A"}] = {"203.0.113.7"};
    } else {
      dns.zone[{r.name, r.type}].push_back(r.value);
    }
  }
  return dns;
}

std::map<std::string, DnsCheck::State> states(const FakeDns& dns) {
  std::map<std::string, DnsCheck::State> out;
  for (const auto& c : check_dns(plan(), dns_records(plan()), dns)) {
    out[c.expected.name + " " + c.expected.type] = c.state;
  }
  return out;
}

TEST(DnsCheck, AllOkWhenDnsHasEveryRecord) {
  for (const auto& [what, state] : states(complete())) {
    EXPECT_EQ(state, DnsCheck::State::ok) << what;
  }
}

TEST(DnsCheck, MissingWrongAndDiffering) {
  auto dns = complete();
  dns.zone.erase({"_dmarc.example.org.", "TXT"});
  dns.zone[{"example.org.", "MX"}] = {"10 mx.elsewhere.net."};
  dns.zone[{"example.org.", "TXT"}] = {"google-site-verification=x", "v=spf1 mx -all"};
  dns.zone[{"postino._domainkey.example.org.", "TXT"}] = {"v=DKIM1; k=rsa; p=BBBB"};
  dns.zone[{"_mta-sts.example.org.", "TXT"}] = {"v=STSv1; id=old"};
  dns.zone[{"autoconfig.example.org.", "A"}] = {"198.51.100.1"};
  dns.zone[{"_imaps._tcp.example.org.", "SRV"}] = {"5 0 993 MAIL.example.org."};  // fine
  const auto s = states(dns);
  EXPECT_EQ(s.at("_dmarc.example.org. TXT"), DnsCheck::State::missing);
  EXPECT_EQ(s.at("example.org. MX"), DnsCheck::State::wrong);
  EXPECT_EQ(s.at("example.org. TXT"), DnsCheck::State::differs);
  EXPECT_EQ(s.at("postino._domainkey.example.org. TXT"), DnsCheck::State::wrong);
  EXPECT_EQ(s.at("_mta-sts.example.org. TXT"), DnsCheck::State::wrong);
  EXPECT_EQ(s.at("autoconfig.example.org. CNAME"), DnsCheck::State::wrong);
  EXPECT_EQ(s.at("_imaps._tcp.example.org. SRV"), DnsCheck::State::ok);
  EXPECT_EQ(s.at("mail.example.org. A"), DnsCheck::State::ok);
}

TEST(DnsCheck, TwoSpfRecordsAreWrong) {
  auto dns = complete();
  dns.zone[{"example.org.", "TXT"}] = {"v=spf1 mx ~all", "v=spf1 a ~all"};
  EXPECT_EQ(states(dns).at("example.org. TXT"), DnsCheck::State::wrong);
}

TEST(DnsCheck, ReportSaysWhatToPublish) {
  auto dns = complete();
  dns.zone.erase({"_smtp._tls.example.org.", "TXT"});
  const auto report = check_report(check_dns(plan(), dns_records(plan()), dns));
  EXPECT_NE(report.find("ok       MX    example.org."), std::string::npos) << report;
  EXPECT_NE(report.find("missing  TXT   _smtp._tls.example.org."), std::string::npos);
  EXPECT_NE(report.find("fix: publish: _smtp._tls.example.org. 3600 IN TXT \"v=TLSRPTv1; "
                        "rua=mailto:postmaster@example.org\""),
            std::string::npos)
      << report;
}

}  // namespace
}  // namespace postino::app
