// The one authentication service every protocol uses: checks a login and password
// against the store (PLAIN, LOGIN, IMAP LOGIN, POP3 USER/PASS) or hands out SCRAM keys,
// with the same work and the same answer for an unknown user as for a wrong password, a
// growing delay after failures, and one log line per failure with the client's address.
// Blocking (password hashing is slow on purpose): call it from a worker thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "auth/failure_throttle.hpp"
#include "auth/scram.hpp"
#include "store/store.hpp"

namespace postino::auth {

struct LoginResult {
  enum class Status { ok, failed, temporary };
  Status status = Status::failed;
  std::optional<store::Account> account;  // set when ok
  // How long the protocol waits before answering a failure (FailureThrottle).
  std::chrono::milliseconds delay{0};
};

class Authenticator {
 public:
  // `scram_secret` keys the decoy SCRAM credentials of unknown users; keep it stable.
  Authenticator(store::Store& store, FailureThrottle& throttle, std::string scram_secret)
      : store_(store), throttle_(throttle), scram_secret_(std::move(scram_secret)) {}

  // Checks a login (an address) and password for a client at `client_address`.
  LoginResult check_password(std::string_view login, std::string_view password,
                             const std::string& client_address, std::string_view session_id);

  // SCRAM-SHA-256: the user's keys, or decoy keys for unknown users and users without
  // SCRAM keys, so that the exchange proceeds the same and fails at the proof.
  ScramCredentials scram_credentials(std::string_view login);
  // The server-first message of an exchange, with the keys of its user (or decoys).
  std::string scram_server_first(ScramExchange& exchange) {
    return exchange.server_first(scram_credentials(exchange.username()));
  }
  // After a SCRAM exchange: the account on success, and the failure accounting otherwise.
  LoginResult finish_scram(std::string_view login, bool proof_ok, const std::string& client_address,
                           std::string_view session_id);

 private:
  LoginResult fail(std::string_view login, const std::string& client_address,
                   std::string_view fingerprint, std::string_view session_id,
                   std::string_view reason);

  store::Store& store_;
  FailureThrottle& throttle_;
  std::string scram_secret_;
};

}  // namespace postino::auth
