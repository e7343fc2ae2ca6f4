// SCRAM-SHA-256 (RFC 5802, RFC 7677), server side, without channel binding. Pure: the
// caller looks up the user's stored keys between the two steps.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postino::auth {

// What the server keeps instead of the password (RFC 5802 §3).
struct ScramCredentials {
  int iterations = 0;
  std::string salt;        // raw bytes
  std::string stored_key;  // H(ClientKey), 32 bytes
  std::string server_key;  // HMAC(SaltedPassword, "Server Key"), 32 bytes

  // "SCRAM-SHA-256$ITER:SALT$STOREDKEY:SERVERKEY" with base64 fields (PostgreSQL's form).
  std::string str() const;
  static std::optional<ScramCredentials> parse(std::string_view text);
  // Derives the keys from a password; a random 16-byte salt when `salt` is empty.
  static ScramCredentials derive(std::string_view password, std::string salt = {},
                                 int iterations = 4096);
  // Plausible keys for a user who does not exist, stable per name, so that the exchange
  // looks the same as for a real user and fails only at the proof (no user enumeration).
  static ScramCredentials decoy(std::string_view username, std::string_view server_secret);
};

class ScramServer {
 public:
  // Parses the client-first-message. Returns the username (with =2C and =3D decoded), or
  // nullopt when malformed or when channel binding is demanded ("p=").
  std::optional<std::string> receive_client_first(std::string_view message);
  // The server-first-message for these credentials; `server_nonce` is random printable
  // text (empty: generated).
  std::string server_first(const ScramCredentials& credentials, std::string server_nonce = {});
  // Checks the client-final-message; returns the server-final-message ("v=…") when the
  // proof is right, nullopt otherwise.
  std::optional<std::string> receive_client_final(std::string_view message);

 private:
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string nonce_;  // client nonce + server nonce
  std::string server_first_;
  ScramCredentials credentials_;
};

}  // namespace postino::auth
