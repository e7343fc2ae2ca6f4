// See dns_check.hpp. What counts as right, per kind of record:
// - MX, SRV, A/AAAA: one of the answers is the expected one (others may exist);
// - TXT: the record of the same kind ("v=spf1", "v=DMARC1", a DKIM key with p=, …) is
//   found; SPF, DMARC and TLS-RPT records written differently by the administrator only
//   "differ" (their choice), a DKIM key or MTA-STS id that does not match is wrong;
// - CNAME: the name reaches the mail host's addresses (through a CNAME or its own A).
#include "app/dns_check.hpp"

#include <algorithm>

#include "base/ascii.hpp"

namespace postino::app {
namespace {

std::string kind_of_txt(const std::string& value) {
  const auto lower = base::to_lower(value);
  for (const char* prefix : {"v=spf1", "v=dmarc1", "v=stsv1", "v=tlsrptv1"}) {
    if (lower.starts_with(prefix)) return prefix;
  }
  if (lower.starts_with("v=dkim1") || lower.find("p=") != std::string::npos) return "v=dkim1";
  return "";
}

// The value of a tag ("p", "id") in a tag=value list, spaces removed.
std::string tag_value(const std::string& record, const std::string& tag) {
  std::string compact;
  for (char c : record) {
    if (c != ' ' && c != '\t') compact += c;
  }
  std::size_t pos = 0;
  while (pos < compact.size()) {
    const auto end = std::min(compact.find(';', pos), compact.size());
    const auto item = compact.substr(pos, end - pos);
    if (item.starts_with(tag + "=")) return item.substr(tag.size() + 1);
    pos = end + 1;
  }
  return "";
}

std::string joined(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

std::string zone_line(const DnsRecord& r) {
  return r.name + " 3600 IN " + r.type + " " + (r.type == "TXT" ? quoted_txt(r.value) : r.value);
}

std::vector<std::string> addresses(const DnsAsk& ask, const std::string& name, std::string& error) {
  std::vector<std::string> out;
  for (const char* type : {"A", "AAAA"}) {
    auto a = ask(name, type);
    if (a.kind == DnsAnswer::Kind::failed) error = a.error;
    out.insert(out.end(), a.values.begin(), a.values.end());
  }
  return out;
}

DnsCheck check_one(const DnsPlan& plan, const DnsRecord& r, const DnsAsk& ask) {
  DnsCheck c{DnsCheck::State::ok, r, "", ""};
  const auto publish = "publish: " + zone_line(r);
  auto fail = [&](DnsCheck::State s, std::string fix) {
    c.state = s;
    c.fix = std::move(fix);
    return c;
  };
  if (r.type == "CNAME") {
    std::string error;
    const auto target = addresses(ask, r.name, error);
    const auto host = addresses(ask, plan.hostname + ".", error);
    c.found = joined(target);
    if (!error.empty() && target.empty()) return fail(DnsCheck::State::failed, error);
    if (target.empty()) return fail(DnsCheck::State::missing, publish);
    const bool reaches = std::any_of(target.begin(), target.end(), [&](const std::string& a) {
      return std::find(host.begin(), host.end(), a) != host.end();
    });
    if (!reaches) {
      return fail(DnsCheck::State::wrong,
                  "it does not reach " + plan.hostname + " (" + joined(host) + "); " + publish);
    }
    return c;
  }
  const auto answer = ask(r.name, r.type);
  c.found = joined(answer.values);
  if (answer.kind == DnsAnswer::Kind::failed) {
    return fail(DnsCheck::State::failed, "the lookup failed: " + answer.error);
  }
  if (r.type == "TXT") {
    const auto kind = kind_of_txt(r.value);
    std::vector<std::string> same;
    for (const auto& v : answer.values) {
      if (kind_of_txt(v) == kind) same.push_back(v);
    }
    c.found = joined(same);
    if (same.empty()) return fail(DnsCheck::State::missing, publish);
    if (kind == "v=dkim1") {
      if (tag_value(same.front(), "p") != tag_value(r.value, "p")) {
        return fail(DnsCheck::State::wrong, "the published key is not ours; " + publish);
      }
      return c;
    }
    if (kind == "v=stsv1") {
      if (tag_value(same.front(), "id") != tag_value(r.value, "id")) {
        return fail(DnsCheck::State::wrong,
                    "the policy changed since the id was published; " + publish);
      }
      return c;
    }
    if (same.size() > 1 && kind == "v=spf1") {
      return fail(DnsCheck::State::wrong,
                  "two SPF records make SPF fail (RFC 7208 §4.5): keep one");
    }
    if (base::to_lower(same.front()) != base::to_lower(r.value)) {
      return fail(DnsCheck::State::differs, "yours differs from the suggested " +
                                                quoted_txt(r.value) + " (fine if on purpose)");
    }
    return c;
  }
  if (answer.values.empty()) return fail(DnsCheck::State::missing, publish);
  auto same = [&](const std::string& found) {
    if (r.type == "MX") {  // any preference will do
      return base::to_lower(found.substr(found.find(' ') + 1)) ==
             base::to_lower(r.value.substr(r.value.find(' ') + 1));
    }
    if (r.type == "SRV") {  // port and target; priority and weight are the domain's choice
      auto tail = [](const std::string& v) {
        auto p = v.find(' ');
        p = v.find(' ', p + 1);
        return base::to_lower(v.substr(p + 1));
      };
      return tail(found) == tail(r.value);
    }
    return found == r.value;
  };
  if (std::none_of(answer.values.begin(), answer.values.end(), same)) {
    return fail(DnsCheck::State::wrong, publish);
  }
  return c;
}

}  // namespace

std::string to_string(DnsCheck::State s) {
  switch (s) {
    case DnsCheck::State::ok:
      return "ok";
    case DnsCheck::State::differs:
      return "differs";
    case DnsCheck::State::missing:
      return "missing";
    case DnsCheck::State::wrong:
      return "wrong";
    case DnsCheck::State::failed:
      return "failed";
  }
  return "?";
}

std::vector<DnsCheck> check_dns(const DnsPlan& plan, const std::vector<DnsRecord>& expected,
                                const DnsAsk& ask) {
  std::vector<DnsCheck> out;
  for (const auto& r : expected) out.push_back(check_one(plan, r, ask));
  return out;
}

std::string check_report(const std::vector<DnsCheck>& checks) {
  std::string out;
  for (const auto& c : checks) {
    auto state = to_string(c.state);
    state.resize(8, ' ');
    auto type = c.expected.type;
    type.resize(6, ' ');
    out += state + " " + type + c.expected.name + "  " + c.expected.comment + "\n";
    if (c.state != DnsCheck::State::ok) {
      if (!c.found.empty()) out += "         found: " + c.found + "\n";
      out += "         fix: " + c.fix + "\n";
    }
  }
  return out;
}

}  // namespace postino::app
