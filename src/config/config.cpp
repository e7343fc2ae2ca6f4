// Defaults of the production and development configurations; see config.hpp.
#include "config/config.hpp"

#include <unistd.h>

namespace postino::config {

std::map<Protocol, std::vector<Endpoint>> Config::production_listeners() {
  return {
      {Protocol::smtp, {{"0.0.0.0", 25}}},
      {Protocol::submission, {{"0.0.0.0", 587}}},
      {Protocol::submissions, {{"0.0.0.0", 465}}},
      {Protocol::imap, {{"0.0.0.0", 143}}},
      {Protocol::imaps, {{"0.0.0.0", 993}}},
      {Protocol::pop3, {{"0.0.0.0", 110}}},
      {Protocol::pop3s, {{"0.0.0.0", 995}}},
      // No HTTP by default: `postino quickstart` turns it on (ports 80 and 443) for
      // autoconfig and MTA-STS.
      {Protocol::http, {}},
      {Protocol::https, {}},
  };
}

Config Config::development(const std::string& data_dir) {
  Config c;
  c.server.data_dir = data_dir;
  c.listen = {
      {Protocol::smtp, {{"127.0.0.1", 2525}}},        {Protocol::submission, {{"127.0.0.1", 2587}}},
      {Protocol::submissions, {{"127.0.0.1", 2465}}}, {Protocol::imap, {{"127.0.0.1", 2143}}},
      {Protocol::imaps, {{"127.0.0.1", 2993}}},       {Protocol::pop3, {{"127.0.0.1", 2110}}},
      {Protocol::pop3s, {{"127.0.0.1", 2995}}},       {Protocol::http, {{"127.0.0.1", 8080}}},
      {Protocol::https, {{"127.0.0.1", 8443}}},
  };
  c.tls.cert_file = data_dir + "/tls/cert.pem";
  c.tls.key_file = data_dir + "/tls/key.pem";
  return c;
}

std::string Config::effective_hostname() const {
  if (!server.hostname.empty()) return server.hostname;
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

std::string Config::effective_dkim_dir() const {
  return dkim.key_dir.empty() ? server.data_dir + "/dkim" : dkim.key_dir;
}

}  // namespace postino::config
