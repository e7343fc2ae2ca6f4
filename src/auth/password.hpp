// Password hashes in crypt(3) form (libxcrypt): yescrypt ("$y$") for new hashes; bcrypt,
// SHA-512-crypt and SHA-256-crypt verified too, as /etc/shadow and Dovecot passwd files
// hold them. Hashing is slow on purpose: call it off the I/O threads.
#pragma once

#include <string>
#include <string_view>

namespace postino::auth {

// A new yescrypt hash of `password` with a random salt; empty on failure.
std::string hash_password(std::string_view password);

// True when `password` matches `hash`. Unknown or malformed hashes never match. The
// comparison of the computed hash is constant-time.
bool verify_password(std::string_view password, std::string_view hash);

// The same work as a failed verification, for unknown users, so that a login attempt for a
// user who does not exist takes as long as one with a wrong password (RELIABILITY A03).
void burn_password_time(std::string_view password);

// True when `hash` is in a form verify_password() understands.
bool is_supported_hash(std::string_view hash);

}  // namespace postino::auth
