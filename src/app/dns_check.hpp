// `postino dns check`: each expected record (dns_records.hpp) against what DNS answers.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "app/dns_lookup.hpp"
#include "app/dns_records.hpp"

namespace postino::app {

struct DnsCheck {
  enum class State { ok, differs, missing, wrong, failed };
  State state = State::ok;
  DnsRecord expected;
  std::string found;  // what DNS answered, when it matters
  std::string fix;    // what to do, for every state but ok
};

std::string to_string(DnsCheck::State s);

// `answer(name, type)` is DnsLookup::query (a function, so that tests can answer).
using DnsAsk = std::function<DnsAnswer(const std::string& name, const std::string& type)>;

std::vector<DnsCheck> check_dns(const DnsPlan& plan, const std::vector<DnsRecord>& expected,
                                const DnsAsk& ask);

// One line per record: "ok       MX    example.org. 10 mail.example.org." and, below a
// problem, the fix.
std::string check_report(const std::vector<DnsCheck>& checks);

}  // namespace postino::app
