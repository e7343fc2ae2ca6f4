// Development mode preparation; see dev_setup.hpp.
#include "app/dev_setup.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "auth/password.hpp"
#include "auth/scram.hpp"
#include "net/self_signed.hpp"

namespace postino::app {
namespace {

namespace fs = std::filesystem;

}  // namespace

std::string random_password() {
  static constexpr char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  unsigned char bytes[16];
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  urandom.read(reinterpret_cast<char*>(bytes), sizeof bytes);
  if (!urandom) return "";
  std::string out;
  for (unsigned char b : bytes) out.push_back(alphabet[b % (sizeof alphabet - 1)]);
  return out;
}

namespace {

std::string read_or_create_password(const fs::path& path, std::string& error) {
  std::ifstream in(path);
  std::string password;
  if (in && std::getline(in, password) && !password.empty()) return password;
  password = random_password();
  if (password.empty()) {
    error = "cannot read /dev/urandom";
    return "";
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const std::string line = password + "\n";
  if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
      ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    error = "cannot write " + path.string();
    return "";
  }
  ::close(fd);
  return password;
}

}  // namespace

DevSetup prepare_dev(const config::Config& config) {
  DevSetup setup;
  const fs::path dir = config.server.data_dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    setup.error = "cannot create " + dir.string() + ": " + ec.message();
    return setup;
  }
  fs::permissions(dir, fs::perms::owner_all, ec);
  setup.demo_password = read_or_create_password(dir / "demo-password", setup.error);
  if (!setup.error.empty()) return setup;

  std::vector<std::string> names = {"localhost"};
  if (auto host = config.effective_hostname(); host != "localhost") names.push_back(host);
  auto cert = net::ensure_self_signed(config.tls.cert_file, config.tls.key_file, names,
                                      {"127.0.0.1", "::1"});
  if (!cert.error.empty()) {
    setup.error = cert.error;
    return setup;
  }
  setup.certificate_created = cert.created;
  setup.certificate_fingerprint = cert.sha256_fingerprint;
  return setup;
}

std::string ensure_demo_account(store::Store& store, const DevSetup& dev) {
  const std::string domain = dev.demo_address.substr(dev.demo_address.find('@') + 1);
  auto local = store.is_local_domain(domain);
  if (!local) return local.error().detail;
  if (!*local) {
    if (auto r = store.create_domain(domain); !r)
      return "create " + domain + ": " + r.error().detail;
  }
  auto existing = store.find_account(dev.demo_address);
  if (existing) return "";
  if (existing.error().kind != store::ErrorKind::not_found) return existing.error().detail;
  auto created = store.create_account(dev.demo_address, auth::hash_password(dev.demo_password),
                                      auth::ScramCredentials::derive(dev.demo_password).str());
  return created ? "" : "create " + dev.demo_address + ": " + created.error().detail;
}

}  // namespace postino::app
