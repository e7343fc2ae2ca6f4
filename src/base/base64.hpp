// Base64 (RFC 4648 §4) with strict decoding: the SASL exchanges of RFC 4954, 3501 and 5034
// must refuse malformed input rather than guess.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postino::base {

std::string base64_encode(std::string_view bytes);
// nullopt for characters outside the alphabet, wrong padding or a length that is not a
// multiple of 4. Whitespace is not allowed.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace postino::base
