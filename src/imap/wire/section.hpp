// FETCH body sections (RFC 3501 §6.4.5): "1.2.MIME", "HEADER.FIELDS (From To)", "TEXT", …
// Parsing the spec and cutting the bytes out of a message are pure functions over the
// MIME structure stored at delivery.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mime/part.hpp"

namespace postino::imap::wire {

struct Section {
  std::vector<std::uint32_t> path;  // part numbers, empty for the whole message
  enum class Text { all, header, header_fields, header_fields_not, text, mime } text = Text::all;
  std::vector<std::string> fields;  // for header_fields(_not), as the client wrote them
  std::string name;                 // the spec as the response echoes it: "1.HEADER.FIELDS (FROM)"
};

// Parses what stands between the brackets; nullopt when it is malformed.
std::optional<Section> parse_section(std::string_view spec);

// Where a section's bytes lie in a message of `message_size` bytes, worked out from the
// structure alone: a range to send as it is, or (`filters_header`) the header block that
// HEADER.FIELDS[.NOT] is cut from by section_text(). Empty when the message has no such
// part, as Dovecot answers.
struct SectionSpan {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  bool filters_header = false;
};
SectionSpan section_span(const mime::Structure& structure, std::uint64_t message_size,
                         const Section& section);
// The index in structure.parts of the part a section's path names (0, the message, for
// none); nullopt when the message has no such part.
std::optional<std::size_t> section_part(const mime::Structure& structure, const Section& section);
// HEADER.FIELDS[.NOT]: the chosen fields of the header block `bytes` (see section_span).
std::string section_text(std::string_view bytes, const Section& section);

// The bytes a section names, a view into `message` or into `storage` (HEADER.FIELDS);
// empty when the message has no such part, as Dovecot answers.
std::string_view section_bytes(const mime::Structure& structure, std::string_view message,
                               const Section& section, std::string& storage);

// The fields of a header block named in `names` (or all others, with `exclude`), in
// message order, continuation lines kept, followed by the blank line.
std::string filter_header_fields(std::string_view header, const std::vector<std::string>& names,
                                 bool exclude);

}  // namespace postino::imap::wire
