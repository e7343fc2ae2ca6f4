// Header fields (RFC 5322 §2.2) and the structured MIME fields (RFC 2045 §5, RFC 2183,
// RFC 2231): pure functions over bytes, lenient with broken input.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mime/part.hpp"

namespace postino::mime {

struct HeaderField {
  std::string_view name;   // as written
  std::string_view value;  // raw, after the colon, folding kept, without the final line break
};

// Splits a header block into fields. A line that is neither a field nor a continuation
// (no colon) is skipped; an empty line ends the block.
std::vector<HeaderField> parse_header(std::string_view block);

// The first field named `name` (case-insensitive), or nullptr.
const HeaderField* find_field(const std::vector<HeaderField>& fields, std::string_view name);

// Removes folding (CRLF or LF before white space) and trims white space at both ends.
std::string unfold(std::string_view value);

struct ContentType {
  bool is_valid = false;      // false: absent or unparsable; callers use the default type
  std::string type, subtype;  // lower-case
  std::vector<Parameter> parameters;
};

// "type/subtype; name=value; name*0*=utf-8''%E2%82%AC; …" with comments skipped.
ContentType parse_content_type(std::string_view value);

struct Disposition {
  std::string type;  // lower-case; "" when absent or unparsable
  std::vector<Parameter> parameters;
};
Disposition parse_disposition(std::string_view value);

// Parameters after the first ";" of a structured field, RFC 2231 sections joined.
std::vector<Parameter> parse_parameters(std::string_view text);

// The first token of a field (Content-Transfer-Encoding), lower-cased; "" if none.
std::string parse_token(std::string_view value);

// Comma-separated tokens (Content-Language).
std::vector<std::string> parse_token_list(std::string_view value);

}  // namespace postino::mime
