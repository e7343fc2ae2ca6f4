// See signer.hpp. OpenSSL does the cryptography (EVP); this file builds what is signed.
#include "dkim/signer.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "base/ascii.hpp"
#include "base/base64.hpp"
#include "mime/address.hpp"
#include "mime/header.hpp"

namespace postino::dkim {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<void> own_key(EVP_PKEY* key) {
  return std::shared_ptr<void>(key, [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); });
}

EVP_PKEY* key_of(const Key& k) {
  return static_cast<EVP_PKEY*>(k.pkey.get());
}

const char* suffix(Algorithm a) {
  return a == Algorithm::rsa_sha256 ? ".rsa.pem" : ".ed25519.pem";
}

std::string sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), n);
}

// The signature of `data` (RFC 6376 §3.3; RFC 8463 §3: Ed25519 signs the SHA-256 hash).
std::string signature(const Key& key, std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const bool rsa = key.algorithm == Algorithm::rsa_sha256;
  std::string hashed;
  if (!rsa) {
    hashed = sha256(data);
    data = hashed;
  }
  if (EVP_DigestSignInit(ctx.get(), nullptr, rsa ? EVP_sha256() : nullptr, nullptr, key_of(key)) !=
      1) {
    return "";
  }
  std::size_t length = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &length, bytes, data.size()) != 1) return "";
  std::string out(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &length, bytes,
                     data.size()) != 1) {
    return "";
  }
  out.resize(length);
  return out;
}

// The b= value folded into lines a mail reader shows whole.
std::string folded(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 72) {
    if (i > 0) out += "\r\n\t ";
    out += text.substr(i, 72);
  }
  return out;
}

}  // namespace

std::vector<std::string> KeyRing::load(const fs::path& dir) {
  std::vector<std::string> problems;
  keys_.clear();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return problems;
  for (const auto& domain_dir : fs::directory_iterator(dir, ec)) {
    if (!domain_dir.is_directory()) continue;
    const auto domain = base::to_lower(domain_dir.path().filename().string());
    for (const auto& file : fs::directory_iterator(domain_dir.path(), ec)) {
      const auto name = file.path().filename().string();
      Key key;
      key.domain = domain;
      bool known = false;
      for (auto a : {Algorithm::rsa_sha256, Algorithm::ed25519_sha256}) {
        const std::string sfx = suffix(a);
        if (name.size() > sfx.size() && name.ends_with(sfx)) {
          key.algorithm = a;
          key.selector = name.substr(0, name.size() - sfx.size());
          known = true;
        }
      }
      if (!known) continue;
      FILE* f = std::fopen(file.path().c_str(), "r");
      EVP_PKEY* pkey = f ? PEM_read_PrivateKey(f, nullptr, nullptr, nullptr) : nullptr;
      if (f) std::fclose(f);
      const int type = pkey ? EVP_PKEY_get_base_id(pkey) : 0;
      const bool fits =
          key.algorithm == Algorithm::rsa_sha256 ? type == EVP_PKEY_RSA : type == EVP_PKEY_ED25519;
      if (!pkey || !fits) {
        if (pkey) EVP_PKEY_free(pkey);
        problems.push_back(file.path().string() + ": not a PEM private key of its algorithm");
        continue;
      }
      key.pkey = own_key(pkey);
      keys_[domain].push_back(std::move(key));
    }
  }
  return problems;
}

const std::vector<Key>* KeyRing::find(std::string_view domain) const {
  auto it = keys_.find(base::to_lower(domain));
  return it == keys_.end() ? nullptr : &it->second;
}

std::string txt_value(const Key& key) {
  auto* raw = static_cast<EVP_PKEY*>(key.pkey.get());
  const bool rsa = key.algorithm == Algorithm::rsa_sha256;
  std::string public_key;
  if (rsa) {
    unsigned char* der = nullptr;
    const int n = i2d_PUBKEY(raw, &der);
    if (n <= 0) return "";
    public_key.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
  } else {
    std::size_t n = 32;
    public_key.resize(n);
    if (EVP_PKEY_get_raw_public_key(raw, reinterpret_cast<unsigned char*>(public_key.data()), &n) !=
        1)
      return "";
    public_key.resize(n);
  }
  return std::string("v=DKIM1; k=") + (rsa ? "rsa" : "ed25519") +
         "; p=" + base::base64_encode(public_key);
}

std::string generate_key(const fs::path& dir, const std::string& domain_in,
                         const std::string& selector, Algorithm algorithm) {
  const auto domain = base::to_lower(domain_in);
  const bool rsa = algorithm == Algorithm::rsa_sha256;
  EVP_PKEY* raw = rsa ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048})
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!raw) return "error: cannot create the key";
  auto pkey = own_key(raw);
  std::error_code ec;
  fs::create_directories(dir / domain, ec);
  if (ec) return "error: cannot create " + (dir / domain).string() + ": " + ec.message();
  const auto path = dir / domain / (selector + suffix(algorithm));
  if (fs::exists(path)) return "error: " + path.string() + " exists already";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return "error: cannot create " + path.string();
  FILE* f = fdopen(fd, "w");
  const bool written =
      f && PEM_write_PrivateKey(f, raw, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  const bool synced = f && std::fflush(f) == 0 && ::fsync(fd) == 0;
  if (f) {
    std::fclose(f);
  } else {
    ::close(fd);
  }
  if (!written || !synced) return "error: cannot write " + path.string();

  Key key{domain, selector, algorithm, pkey};
  const auto record = txt_value(key);
  if (record.empty()) return "error: cannot encode the public key";
  // DNS character strings hold at most 255 bytes each (RFC 1035 §3.3).
  std::string quoted;
  for (std::size_t i = 0; i < record.size(); i += 250) {
    if (i > 0) quoted += " ";
    quoted += "\"" + record.substr(i, 250) + "\"";
  }
  return selector + "._domainkey." + domain + ". IN TXT " + quoted;
}

void MessageSigner::feed(std::string_view chunk) {
  if (in_body_) {
    auto canonical = body_.feed(chunk);
    EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(body_hash_.get()), canonical.data(),
                     canonical.size());
    return;
  }
  if (header_too_large_) return;
  const auto old = header_.size();
  header_.append(chunk);
  const auto end = header_.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
  if (end == std::string::npos || end + 2 > max_header_bytes_) {
    if (end != std::string::npos || header_.size() > max_header_bytes_) {
      header_too_large_ = true;
      header_.clear();
    }
    return;
  }
  const std::string rest = header_.substr(end + 4);
  header_.resize(end + 2);
  in_body_ = true;
  body_hash_ = std::shared_ptr<void>(EVP_MD_CTX_new(),
                                     [](void* p) { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(p)); });
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(body_hash_.get()), EVP_sha256(), nullptr);
  feed(rest);
}

std::string MessageSigner::from_domain() const {
  if (header_too_large_) return "";
  const auto fields = mime::parse_header(header_);
  const auto* from = mime::find_field(fields, "from");
  if (!from) return "";
  for (const auto& a : mime::parse_address_list(from->value)) {
    if (a.kind == mime::Address::Kind::mailbox && !a.host.empty()) return base::to_lower(a.host);
  }
  return "";
}

std::string MessageSigner::sign(const std::vector<Key>& keys,
                                std::chrono::system_clock::time_point now) {
  if (header_too_large_ || keys.empty()) return "";
  if (!in_body_) feed("\r\n\r\n");  // a header without a body: the body is empty
  auto* ctx = static_cast<EVP_MD_CTX*>(body_hash_.get());
  const auto tail = body_.finish();
  EVP_DigestUpdate(ctx, tail.data(), tail.size());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_length = 0;
  EVP_DigestFinal_ex(ctx, md, &md_length);
  const auto body_hash = base::base64_encode(std::string(reinterpret_cast<char*>(md), md_length));

  // The fields signed, bottom-up for repeated names (RFC 6376 §5.4.2), From once extra.
  const auto fields = mime::parse_header(header_);
  std::string names;
  std::string signed_text;
  for (const auto name : signed_fields) {
    std::vector<const mime::HeaderField*> found;
    for (const auto& f : fields) {
      if (base::iequals(f.name, name)) found.push_back(&f);
    }
    if (found.empty() && name != "from") continue;
    for (auto it = found.rbegin(); it != found.rend(); ++it) {
      signed_text += relaxed_header((*it)->name, (*it)->value);
      names += (names.empty() ? "" : ":") + std::string(name);
    }
    if (name == "from") names += (names.empty() ? "" : ":") + std::string(name);
  }
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::string out;
  for (const auto& key : keys) {
    const std::string value =
        std::string(" v=1; a=") +
        (key.algorithm == Algorithm::rsa_sha256 ? "rsa-sha256" : "ed25519-sha256") +
        "; c=relaxed/relaxed; d=" + key.domain + "; s=" + key.selector +
        ";\r\n\tt=" + std::to_string(seconds) + "; h=" + names + ";\r\n\tbh=" + body_hash +
        ";\r\n\tb=";
    auto data = signed_text + relaxed_header("DKIM-Signature", value);
    data.resize(data.size() - 2);  // the signature field enters without its line end
    const auto sig = signature(key, data);
    if (sig.empty()) continue;
    out += "DKIM-Signature:" + value + folded(base::base64_encode(sig)) + "\r\n";
  }
  return out;
}

}  // namespace postino::dkim
