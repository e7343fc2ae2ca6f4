// RFC 2047 encoded words ("=?utf-8?q?J=C3=B6rg?=") in header values, decoded to UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace postino::mime {

// Decodes every well-formed encoded word of `value` to UTF-8 (B and Q, any charset iconv
// knows; RFC 2231 language suffixes dropped). White space between two adjacent encoded
// words is removed (RFC 2047 §6.2). A word that cannot be decoded is kept as written.
std::string decode_encoded_words(std::string_view value);

// `bytes` in `charset` converted to UTF-8 by iconv; false when the charset is unknown or
// the bytes are not valid in it.
bool to_utf8(std::string_view bytes, std::string_view charset, std::string& out);

}  // namespace postino::mime
