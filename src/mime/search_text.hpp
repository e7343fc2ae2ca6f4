// The text that IMAP SEARCH TEXT and BODY look at (RFC 3501 §6.4.4), extracted once when a
// message arrives for the store's full-text index, and again by the search when a message
// is not in the index (or the string is too short for it).
#pragma once

#include <string>
#include <string_view>

#include "mime/part.hpp"

namespace postino::mime {

struct SearchText {
  std::string header;  // the top-level header block, RFC 2047 words decoded
  std::string body;    // the text parts, one after another (see text_parts_separator)
};

// Between two text parts in SearchText::body, so that no string found there spans two
// parts (a unit separator, a control character that mail text does not use).
inline constexpr std::string_view text_parts_separator = "\n\x1f\n";

// One text/* leaf part's body decoded from its transfer encoding and converted to UTF-8
// from its charset (bytes left as they are when iconv does not know the charset).
std::string part_text(std::string_view message, const Part& part);

// The searchable text of a whole message. `max_body_bytes` bounds the body text; the
// result's `is_complete` is false when a part was left out for it.
struct SearchTextResult {
  SearchText text;
  bool is_complete = true;
};
SearchTextResult search_text(std::string_view message, const Structure& structure,
                             std::size_t max_body_bytes);

}  // namespace postino::mime
