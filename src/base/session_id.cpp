// Random session ids; see session_id.hpp.
#include "base/session_id.hpp"

#include <random>

namespace postino::base {

SessionId SessionId::generate() {
  // Crockford's base32 alphabet: no I, L, O, U, so ids read back without ambiguity.
  static constexpr char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t bits = rng();
  std::string id = "S";
  for (int i = 0; i < 9; ++i, bits >>= 5) id.push_back(alphabet[bits & 31]);
  return SessionId(std::move(id));
}

}  // namespace postino::base
