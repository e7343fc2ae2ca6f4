// SASL PLAIN (RFC 4616) and the two-step LOGIN exchange's pieces, as pure decoders.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postino::auth {

struct PlainCredentials {
  std::string authcid;  // the login name
  std::string password;
};

// Decodes the (already base64-decoded) PLAIN message "[authzid] NUL authcid NUL passwd".
// nullopt when malformed: not exactly two NULs, an empty login or password, or an authzid
// that names someone else (acting for another user is not offered; RELIABILITY A04).
std::optional<PlainCredentials> decode_plain(std::string_view message);

// RFC 4954 §4: a client answering a challenge with "*" cancels the exchange.
inline bool is_cancel(std::string_view response) {
  return response == "*";
}

}  // namespace postino::auth
