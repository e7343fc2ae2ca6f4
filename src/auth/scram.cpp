// SCRAM-SHA-256; see scram.hpp. The crypto primitives are OpenSSL's.
#include "auth/scram.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <charconv>

#include "base/base64.hpp"

namespace postino::auth {
namespace {

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string sha256(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  return out;
}

// Splits "a=1,b=2" into attributes; RFC 5802 §5.1: each is one letter, "=", value.
bool next_attribute(std::string_view& rest, char& name, std::string_view& value) {
  if (rest.size() < 2 || rest[1] != '=') return false;
  name = rest[0];
  const auto comma = rest.find(',');
  value = rest.substr(2, comma == std::string_view::npos ? std::string_view::npos : comma - 2);
  rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  return true;
}

// saslname: "=2C" is ",", "=3D" is "="; any other "=" is an error.
std::optional<std::string> decode_saslname(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ',') return std::nullopt;
    if (s[i] != '=') {
      out.push_back(s[i]);
      continue;
    }
    if (s.substr(i, 3) == "=2C")
      out.push_back(',');
    else if (s.substr(i, 3) == "=3D")
      out.push_back('=');
    else
      return std::nullopt;
    i += 2;
  }
  return out;
}

bool is_printable_nonce(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

}  // namespace

std::string ScramCredentials::str() const {
  return "SCRAM-SHA-256$" + std::to_string(iterations) + ":" + base::base64_encode(salt) + "$" +
         base::base64_encode(stored_key) + ":" + base::base64_encode(server_key);
}

std::optional<ScramCredentials> ScramCredentials::parse(std::string_view text) {
  constexpr std::string_view prefix = "SCRAM-SHA-256$";
  if (!text.starts_with(prefix)) return std::nullopt;
  text.remove_prefix(prefix.size());
  const auto colon1 = text.find(':'), dollar = text.find('$');
  if (colon1 == std::string_view::npos || dollar == std::string_view::npos || dollar < colon1) {
    return std::nullopt;
  }
  const auto colon2 = text.find(':', dollar);
  if (colon2 == std::string_view::npos) return std::nullopt;
  ScramCredentials c;
  auto iter = text.substr(0, colon1);
  auto [end, ec] = std::from_chars(iter.data(), iter.data() + iter.size(), c.iterations);
  if (ec != std::errc{} || end != iter.data() + iter.size() || c.iterations < 1)
    return std::nullopt;
  auto salt = base::base64_decode(text.substr(colon1 + 1, dollar - colon1 - 1));
  auto stored = base::base64_decode(text.substr(dollar + 1, colon2 - dollar - 1));
  auto server = base::base64_decode(text.substr(colon2 + 1));
  if (!salt || !stored || !server || stored->size() != 32 || server->size() != 32) {
    return std::nullopt;
  }
  c.salt = *salt;
  c.stored_key = *stored;
  c.server_key = *server;
  return c;
}

ScramCredentials ScramCredentials::derive(std::string_view password, std::string salt,
                                          int iterations) {
  ScramCredentials c;
  c.iterations = iterations;
  c.salt = salt.empty() ? random_bytes(16) : std::move(salt);
  unsigned char salted[32];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(c.salt.data()),
                    static_cast<int>(c.salt.size()), iterations, EVP_sha256(), sizeof salted,
                    salted);
  const std::string_view salted_view(reinterpret_cast<char*>(salted), sizeof salted);
  c.stored_key = sha256(hmac_sha256(salted_view, "Client Key"));
  c.server_key = hmac_sha256(salted_view, "Server Key");
  OPENSSL_cleanse(salted, sizeof salted);
  return c;
}

ScramCredentials ScramCredentials::decoy(std::string_view username,
                                         std::string_view server_secret) {
  ScramCredentials c;
  c.iterations = 4096;
  c.salt = hmac_sha256(server_secret, std::string("salt:").append(username)).substr(0, 16);
  c.stored_key = hmac_sha256(server_secret, std::string("stored:").append(username));
  c.server_key = hmac_sha256(server_secret, std::string("server:").append(username));
  return c;
}

std::optional<std::string> ScramServer::receive_client_first(std::string_view message) {
  // gs2-header: cbind-flag "," [ "a=" authzid ] ","
  if (message.size() < 3) return std::nullopt;
  const char flag = message[0];
  if ((flag != 'n' && flag != 'y') || message[1] != ',') return std::nullopt;  // no "p=": no PLUS
  const auto second_comma = message.find(',', 2);
  if (second_comma == std::string_view::npos) return std::nullopt;
  const auto authzid = message.substr(2, second_comma - 2);
  if (!authzid.empty() && !authzid.starts_with("a=")) return std::nullopt;
  gs2_header_ = std::string(message.substr(0, second_comma + 1));
  std::string_view bare = message.substr(second_comma + 1);
  client_first_bare_ = std::string(bare);
  char name;
  std::string_view value;
  if (bare.starts_with("m=")) return std::nullopt;  // mandatory extensions: none supported
  if (!next_attribute(bare, name, value) || name != 'n') return std::nullopt;
  auto username = decode_saslname(value);
  if (!username || username->empty()) return std::nullopt;
  if (!authzid.empty()) {
    auto az = decode_saslname(authzid.substr(2));
    if (!az || *az != *username) return std::nullopt;  // acting for someone else: refused
  }
  if (!next_attribute(bare, name, value) || name != 'r' || !is_printable_nonce(value)) {
    return std::nullopt;
  }
  nonce_ = std::string(value);
  return username;
}

std::string ScramServer::server_first(const ScramCredentials& credentials,
                                      std::string server_nonce) {
  credentials_ = credentials;
  if (server_nonce.empty()) server_nonce = base::base64_encode(random_bytes(18));
  nonce_ += server_nonce;
  server_first_ = "r=" + nonce_ + ",s=" + base::base64_encode(credentials.salt) +
                  ",i=" + std::to_string(credentials.iterations);
  return server_first_;
}

std::optional<std::string> ScramServer::receive_client_final(std::string_view message) {
  if (server_first_.empty()) return std::nullopt;
  const auto proof_at = message.rfind(",p=");
  if (proof_at == std::string_view::npos) return std::nullopt;
  const auto without_proof = message.substr(0, proof_at);
  auto proof = base::base64_decode(message.substr(proof_at + 3));
  std::string_view rest = without_proof;
  char name;
  std::string_view value;
  if (!next_attribute(rest, name, value) || name != 'c') return std::nullopt;
  if (base::base64_decode(value) != gs2_header_) return std::nullopt;
  if (!next_attribute(rest, name, value) || name != 'r' || value != nonce_) return std::nullopt;
  if (!proof || proof->size() != 32) return std::nullopt;

  const std::string auth_message =
      client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  const std::string client_signature = hmac_sha256(credentials_.stored_key, auth_message);
  std::string client_key(32, '\0');
  for (std::size_t i = 0; i < 32; ++i)
    client_key[i] = static_cast<char>((*proof)[i] ^ client_signature[i]);
  const std::string computed = sha256(client_key);
  if (CRYPTO_memcmp(computed.data(), credentials_.stored_key.data(), 32) != 0) return std::nullopt;
  return "v=" + base::base64_encode(hmac_sha256(credentials_.server_key, auth_message));
}

ScramExchange::Step ScramExchange::receive(std::string_view decoded) {
  Step step;
  switch (step_) {
    case 0: {
      auto username = server_.receive_client_first(decoded);
      if (!username) return step;  // malformed
      username_ = std::move(*username);
      step_ = 1;
      step.next = Next::send_server_first;
      return step;
    }
    case 1:
      if (auto final = server_.receive_client_final(decoded)) {
        step_ = 2;
        step.next = Next::send_server_final;
        step.message = std::move(*final);
        return step;
      }
      step.next = Next::finish;  // a wrong proof: a failed login like any other
      return step;
    default:
      step.next = decoded.empty() ? Next::finish : Next::aborted;
      step.proof_ok = decoded.empty();
      return step;
  }
}

}  // namespace postino::auth
