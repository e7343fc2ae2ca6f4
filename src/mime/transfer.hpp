// Content-Transfer-Encoding decoding (RFC 2045 §6.7, §6.8), lenient as readers must be:
// base64 skips characters outside its alphabet, quoted-printable keeps a broken "=" as is.
#pragma once

#include <string>
#include <string_view>

namespace postino::mime {

// Decodes `body` per `encoding` ("base64", "quoted-printable"; anything else is returned
// unchanged).
std::string decode_transfer(std::string_view body, std::string_view encoding);

}  // namespace postino::mime
