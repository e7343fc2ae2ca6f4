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

// The three client responses of a SCRAM exchange as SMTP AUTH, POP3 AUTH and IMAP
// AUTHENTICATE run it (RFC 4954 §4, RFC 5034 §4, RFC 3501 §6.2.2): the client-first
// message, the client-final message, then an empty response to the server-final message.
// Each protocol wraps the steps in its own replies.
class ScramExchange {
 public:
  enum class Next {
    send_server_first,  // look the user's keys up (worker pool), send server_first(keys)
    send_server_final,  // send Step::message
    finish,             // the proof is known: Step::proof_ok (account the login)
    malformed,          // the client-first message is not SCRAM, or demands channel binding
    aborted,            // an answer other than empty to the server-final message
  };
  struct Step {
    Next next = Next::malformed;
    std::string message;
    bool proof_ok = false;
  };

  Step receive(std::string_view decoded);
  std::string server_first(const ScramCredentials& keys) { return server_.server_first(keys); }
  const std::string& username() const { return username_; }

 private:
  ScramServer server_;
  std::string username_;
  int step_ = 0;  // 0: client-first next, 1: client-final next, 2: the empty answer
};

}  // namespace postino::auth
