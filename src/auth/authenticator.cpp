// The authentication service; see authenticator.hpp.
#include "auth/authenticator.hpp"

#include <openssl/evp.h>

#include "auth/password.hpp"
#include "base/log.hpp"
#include "base/metrics.hpp"

namespace postino::auth {
namespace {

// A short digest of a wrong password: lets the throttle see "the same wrong password
// again" without keeping the password. Salted with the login, truncated.
std::string fingerprint(std::string_view login, std::string_view password) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  std::string input(login);
  input.push_back('\0');
  input.append(password);
  EVP_Digest(input.data(), input.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), 12);
}

// Authentications by result ("ok", "failed", "temporary") and, for failures, reason.
void count(std::string_view result, std::string_view reason = "") {
  static auto& family = base::metrics::counter(
      "postino_authentications_total",
      "Authentication attempts (every protocol and mechanism), by result and reason.",
      {"result", "reason"});
  family.with({std::string(result), std::string(reason)}).add();
}

}  // namespace

LoginResult Authenticator::fail(std::string_view login, const std::string& client_address,
                                std::string_view fingerprint_bytes, std::string_view session_id,
                                std::string_view reason) {
  LoginResult r;
  r.status = LoginResult::Status::failed;
  r.delay = throttle_.record_failure(client_address, std::string(login),
                                     std::string(fingerprint_bytes), FailureThrottle::Clock::now());
  // RELIABILITY A02: one line per failure with the client's address. The reason stays in
  // the log; the client always hears the same answer.
  count("failed", reason);
  base::log::warn(session_id, "auth_failed",
                  {{"login", std::string(login)},
                   {"remote", client_address},
                   {"reason", std::string(reason)},
                   {"delay_ms", std::to_string(r.delay.count())}});
  return r;
}

LoginResult Authenticator::check_password(std::string_view login, std::string_view password,
                                          const std::string& client_address,
                                          std::string_view session_id) {
  const auto print = fingerprint(login, password);
  if (password.empty() || password.find('\0') != std::string_view::npos) {
    burn_password_time(password);
    return fail(login, client_address, print, session_id, "malformed password");
  }
  auto account = store_.find_account(login);
  if (!account) {
    if (account.error().kind != store::ErrorKind::not_found &&
        account.error().kind != store::ErrorKind::invalid) {
      base::log::error(session_id, "auth_store_error", {{"error", account.error().detail}});
      count("temporary", "store error");
      return {LoginResult::Status::temporary, std::nullopt, std::chrono::milliseconds(0)};
    }
    burn_password_time(password);  // RELIABILITY A03: unknown users cost the same
    return fail(login, client_address, print, session_id, "unknown user");
  }
  if (!verify_password(password, account->password_hash)) {
    return fail(login, client_address, print, session_id, "wrong password");
  }
  throttle_.record_success(client_address, account->address);
  count("ok");
  base::log::info(session_id, "auth_ok", {{"login", account->address}, {"remote", client_address}});
  return {LoginResult::Status::ok, std::move(*account), std::chrono::milliseconds(0)};
}

ScramCredentials Authenticator::scram_credentials(std::string_view login) {
  if (auto account = store_.find_account(login); account && !account->scram.empty()) {
    if (auto keys = ScramCredentials::parse(account->scram)) return *keys;
  }
  return ScramCredentials::decoy(login, scram_secret_);
}

LoginResult Authenticator::finish_scram(std::string_view login, bool proof_ok,
                                        const std::string& client_address,
                                        std::string_view session_id) {
  if (!proof_ok) return fail(login, client_address, "scram", session_id, "wrong SCRAM proof");
  auto account = store_.find_account(login);
  if (!account) return fail(login, client_address, "scram", session_id, "unknown user");
  throttle_.record_success(client_address, account->address);
  count("ok");
  base::log::info(
      session_id, "auth_ok",
      {{"login", account->address}, {"remote", client_address}, {"mechanism", "SCRAM-SHA-256"}});
  return {LoginResult::Status::ok, std::move(*account), std::chrono::milliseconds(0)};
}

}  // namespace postino::auth
