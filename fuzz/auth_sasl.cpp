// SASL as the three protocols decode it (auth/, base/base64): strict base64 both ways,
// PLAIN messages, and a SCRAM-SHA-256 exchange fed whatever a client might send at each
// step (RELIABILITY A04, A05).
#include <string>

#include "auth/sasl_plain.hpp"
#include "auth/scram.hpp"
#include "base/base64.hpp"
#include "fuzz.hpp"

using namespace postino;

POSTINO_FUZZ_TARGET(auth_sasl) {
  FUZZ_CHECK(base::base64_decode(base::base64_encode(data)) == std::string(data));
  if (const auto bytes = base::base64_decode(data)) {
    FUZZ_CHECK(base::base64_encode(*bytes) == data);
  }
  if (const auto plain = auth::decode_plain(data)) {
    FUZZ_CHECK(plain->password.find('\0') == std::string::npos);
  }
  // A whole SCRAM exchange: the input split at its first newline into the client's two
  // messages, against fixed keys.
  const auto nl = data.find('\n');
  const auto first = data.substr(0, nl);
  const auto final = nl == std::string_view::npos ? std::string_view() : data.substr(nl + 1);
  static const auto keys = auth::ScramCredentials::derive("secret", "salt-for-fuzzing", 1);
  auth::ScramServer server;
  if (server.receive_client_first(first)) {
    (void)server.server_first(keys, "fuzz-nonce");
    (void)server.receive_client_final(final);
  }
  (void)auth::ScramCredentials::parse(data);
}
