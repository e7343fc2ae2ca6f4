// See client_config.hpp. The documents are a few fixed elements around our values, so they
// are written as text (every value escaped) rather than through an XML library.
#include "http/client_config.hpp"

#include <algorithm>

#include "base/ascii.hpp"

namespace postino::http {
namespace {

bool is_domain(std::string_view d) {
  if (d.empty() || d.size() > 253 || d.front() == '.' || d.back() == '.') return false;
  for (char c : d) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) return false;
  }
  // The last label of a domain is never numeric; that of an IPv4 literal is.
  const auto last = d.substr(d.rfind('.') + 1);
  if (last.find_first_not_of("0123456789") == std::string_view::npos) return false;
  return d.find("..") == std::string_view::npos;
}

const MailService* preferred(const MailServices& s, MailService::Kind kind) {
  for (const auto& service : s.services) {
    if (service.kind == kind) return &service;
  }
  return nullptr;
}

std::string server_xml(const MailService& service, const std::string& hostname) {
  const bool outgoing = service.kind == MailService::Kind::smtp;
  const char* type = service.kind == MailService::Kind::imap   ? "imap"
                     : service.kind == MailService::Kind::pop3 ? "pop3"
                                                               : "smtp";
  const std::string element = outgoing ? "outgoingServer" : "incomingServer";
  return "    <" + element + " type=\"" + type + "\">\r\n" + "      <hostname>" +
         xml_escape(hostname) + "</hostname>\r\n" + "      <port>" + std::to_string(service.port) +
         "</port>\r\n" + "      <socketType>" + (service.implicit_tls ? "SSL" : "STARTTLS") +
         "</socketType>\r\n" + "      <authentication>password-cleartext</authentication>\r\n" +
         "      <username>%EMAILADDRESS%</username>\r\n" + "    </" + element + ">\r\n";
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string percent_decode(std::string_view s, bool form) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (form && s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string autoconfig_xml(std::string_view domain, const MailServices& services) {
  const auto d = xml_escape(domain);
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
      "<clientConfig version=\"1.1\">\r\n"
      "  <emailProvider id=\"" +
      d + "\">\r\n" + "    <domain>" + d + "</domain>\r\n" + "    <displayName>" + d +
      "</displayName>\r\n" + "    <displayShortName>" + d + "</displayShortName>\r\n";
  // Incoming servers first, as the format's examples have them.
  for (const auto& s : services.services) {
    if (s.kind != MailService::Kind::smtp) out += server_xml(s, services.hostname);
  }
  for (const auto& s : services.services) {
    if (s.kind == MailService::Kind::smtp) out += server_xml(s, services.hostname);
  }
  out += "  </emailProvider>\r\n</clientConfig>\r\n";
  return out;
}

std::optional<std::string> autodiscover_request_address(std::string_view body) {
  constexpr std::string_view open = "<EMailAddress>";
  constexpr std::string_view close = "</EMailAddress>";
  const auto begin = body.find(open);
  if (begin == std::string_view::npos) return std::nullopt;
  const auto end = body.find(close, begin + open.size());
  if (end == std::string_view::npos) return std::nullopt;
  auto address = body.substr(begin + open.size(), end - begin - open.size());
  constexpr std::string_view space = " \t\r\n";
  address.remove_prefix(std::min(address.size(), address.find_first_not_of(space)));
  address = address.substr(0, address.find_last_not_of(space) + 1);
  const auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || address.size() > 320) return std::nullopt;
  for (char c : address) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>') return std::nullopt;
  }
  return std::string(address);
}

std::string autodiscover_xml(std::string_view address, const MailServices& services) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
      "<Autodiscover "
      "xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\r\n"
      "  <Response "
      "xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/"
      "2006a\">\r\n"
      "    <Account>\r\n"
      "      <AccountType>email</AccountType>\r\n"
      "      <Action>settings</Action>\r\n";
  for (auto kind : {MailService::Kind::imap, MailService::Kind::pop3, MailService::Kind::smtp}) {
    const auto* s = preferred(services, kind);
    if (!s) continue;
    const char* type = kind == MailService::Kind::imap   ? "IMAP"
                       : kind == MailService::Kind::pop3 ? "POP3"
                                                         : "SMTP";
    out += std::string("      <Protocol>\r\n") + "        <Type>" + type + "</Type>\r\n" +
           "        <Server>" + xml_escape(services.hostname) + "</Server>\r\n" + "        <Port>" +
           std::to_string(s->port) + "</Port>\r\n" + "        <LoginName>" + xml_escape(address) +
           "</LoginName>\r\n" + "        <DomainRequired>off</DomainRequired>\r\n" +
           "        <SPA>off</SPA>\r\n" +
           // <Encryption> (SSL: implicit TLS, TLS: STARTTLS) takes precedence over <SSL>
           // for the clients that know it; <SSL> is for the older ones.
           "        <SSL>on</SSL>\r\n" + "        <Encryption>" +
           (s->implicit_tls ? "SSL" : "TLS") + "</Encryption>\r\n" +
           "        <AuthRequired>on</AuthRequired>\r\n";
    if (kind == MailService::Kind::smtp) {
      out += "        <UsePOPAuth>off</UsePOPAuth>\r\n        <SMTPLast>off</SMTPLast>\r\n";
    }
    out += "      </Protocol>\r\n";
  }
  out += "    </Account>\r\n  </Response>\r\n</Autodiscover>\r\n";
  return out;
}

std::string mta_sts_text(const MtaStsPolicy& policy) {
  std::string out = "version: STSv1\r\nmode: " + policy.mode + "\r\n";
  for (const auto& mx : policy.mx) out += "mx: " + mx + "\r\n";
  out += "max_age: " + std::to_string(policy.max_age) + "\r\n";
  return out;
}

std::optional<std::string> request_domain(std::string_view address, std::string_view host) {
  std::string domain;
  if (const auto at = address.rfind('@'); at != std::string_view::npos) {
    domain = base::to_lower(address.substr(at + 1));
  } else {
    auto h = host;
    if (!h.empty() && h.front() == '[') return std::nullopt;  // an IP literal
    if (const auto colon = h.find(':'); colon != std::string_view::npos) h = h.substr(0, colon);
    domain = base::to_lower(h);
    for (std::string_view prefix : {"autoconfig.", "autodiscover."}) {
      if (domain.starts_with(prefix)) {
        domain.erase(0, prefix.size());
        break;
      }
    }
  }
  if (!is_domain(domain)) return std::nullopt;
  return domain;
}

std::optional<std::string> query_parameter(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  auto query = target.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq), true) == name) {
      return eq == std::string_view::npos ? std::string()
                                          : percent_decode(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace postino::http
