// crypt(3) password hashing; see password.hpp.
#include "auth/password.hpp"

#include <crypt.h>
#include <openssl/crypto.h>

#include <memory>

namespace postino::auth {
namespace {

std::string run_crypt(std::string_view password, std::string_view setting) {
  // crypt(3) stops at NUL: a password holding one could never match its own hash, and
  // truncation would let "secret\0junk" log in as "secret" (RELIABILITY A04).
  if (password.find('\0') != std::string_view::npos) return "";
  auto data = std::make_unique<crypt_data>();
  const std::string phrase(password), set(setting);
  const char* out = crypt_rn(phrase.c_str(), set.c_str(), data.get(), sizeof(crypt_data));
  if (!out || out[0] == '*') return "";  // "*0"/"*1" mark failure in libxcrypt
  return out;
}

}  // namespace

bool is_supported_hash(std::string_view hash) {
  for (auto prefix : {"$y$", "$2b$", "$2y$", "$2a$", "$6$", "$5$"}) {
    if (hash.starts_with(prefix)) return true;
  }
  return false;
}

std::string hash_password(std::string_view password) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!crypt_gensalt_rn("$y$", 0, nullptr, 0, setting, sizeof setting)) return "";
  return run_crypt(password, setting);
}

bool verify_password(std::string_view password, std::string_view hash) {
  if (!is_supported_hash(hash)) {
    burn_password_time(password);
    return false;
  }
  const std::string computed = run_crypt(password, hash);
  if (computed.size() != hash.size()) return false;
  return CRYPTO_memcmp(computed.data(), hash.data(), hash.size()) == 0;
}

void burn_password_time(std::string_view password) {
  // A real yescrypt hash with default cost, made once, of a random password nobody knows.
  static const std::string dummy_hash = [] {
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    crypt_gensalt_rn("$y$", 0, nullptr, 0, setting, sizeof setting);
    return run_crypt(setting, setting);
  }();
  std::string ignored = run_crypt(password.substr(0, password.find('\0')), dummy_hash);
  (void)ignored;
}

}  // namespace postino::auth
