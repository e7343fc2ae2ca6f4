// `serve --dev`: the data directory, the self-signed certificate and the demo password.
#pragma once

#include <string>

#include "config/config.hpp"
#include "store/store.hpp"

namespace postino::app {

// 16 characters from /dev/urandom in an alphabet without look-alikes (no 0/O, 1/l/I);
// "" when /dev/urandom cannot be read.
std::string random_password();

struct DevSetup {
  std::string error;  // empty on success
  std::string demo_address = "demo@example.test";
  std::string demo_password;
  bool certificate_created = false;
  std::string certificate_fingerprint;
};

// Creates the data directory (0700) if needed, a certificate valid for localhost, the
// host name, 127.0.0.1 and ::1, and a demo password kept in DIR/demo-password (0600) so
// that it stays the same across restarts.
DevSetup prepare_dev(const config::Config& config);

// Makes sure the store has the domain example.test and the demo account with the demo
// password (an existing account is left as it is). Returns an error text or "".
std::string ensure_demo_account(store::Store& store, const DevSetup& dev);

}  // namespace postino::app
