// What mail clients and sending servers fetch over HTTP to configure themselves: the
// Thunderbird autoconfig file, Microsoft's autodiscover (POX) answer and the MTA-STS
// policy (RFC 8461 §3.2). Pure functions from settings to the documents.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postino::http {

// A listener a mail client may use.
struct MailService {
  enum class Kind { imap, pop3, smtp };
  Kind kind = Kind::imap;
  std::uint16_t port = 0;
  bool implicit_tls = false;  // false: STARTTLS
};

struct MailServices {
  std::string hostname;  // what clients connect to
  // In the order clients should prefer them: implicit TLS before STARTTLS (RFC 8314 §3).
  std::vector<MailService> services;
};

// Thunderbird's config-v1.1.xml for a domain (the clientConfig format of
// https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat).
std::string autoconfig_xml(std::string_view domain, const MailServices& services);

// The address in an autodiscover POX request (<EMailAddress>…</EMailAddress>), nullopt
// when the request has none or it is not an address.
std::optional<std::string> autodiscover_request_address(std::string_view body);
// The POX answer (responseschema/2006a) with one <Protocol> per service kind, the
// preferred listener of each.
std::string autodiscover_xml(std::string_view address, const MailServices& services);

struct MtaStsPolicy {
  std::string mode = "none";      // "none", "testing" or "enforce"
  std::vector<std::string> mx;    // host names or "*.example.org" patterns
  std::int64_t max_age = 604800;  // seconds
};
// The policy file served at /.well-known/mta-sts.txt (RFC 8461 §3.2), CRLF lines.
std::string mta_sts_text(const MtaStsPolicy& policy);

// The domain a request is about: the part after '@' of `address` when it has one, else
// the Host header without its port and without a leading "autoconfig." or "autodiscover."
// label; lower-case; nullopt when neither gives a plausible domain.
std::optional<std::string> request_domain(std::string_view address, std::string_view host);

// The value of one parameter of a URL query ("a=1&emailaddress=x%40y"), percent-decoded
// ('+' is a space); nullopt when absent.
std::optional<std::string> query_parameter(std::string_view target, std::string_view name);

// %XX sequences decoded; with `form`, '+' is a space too (query strings, not paths).
std::string percent_decode(std::string_view text, bool form = false);

// Text safe inside an XML element or attribute.
std::string xml_escape(std::string_view text);

}  // namespace postino::http
