// SASL PLAIN decoding; see sasl_plain.hpp.
#include "auth/sasl_plain.hpp"

namespace postino::auth {

std::optional<PlainCredentials> decode_plain(std::string_view message) {
  const auto first = message.find('\0');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = message.find('\0', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  if (message.find('\0', second + 1) != std::string_view::npos) return std::nullopt;
  const auto authzid = message.substr(0, first);
  const auto authcid = message.substr(first + 1, second - first - 1);
  const auto password = message.substr(second + 1);
  if (authcid.empty() || password.empty()) return std::nullopt;
  if (!authzid.empty() && authzid != authcid) return std::nullopt;
  return PlainCredentials{std::string(authcid), std::string(password)};
}

}  // namespace postino::auth
