// A whole message through what delivery and FETCH do with it: the MIME structure (every
// part inside the message, children after parents), the envelope fields, ENVELOPE and
// BODYSTRUCTURE as IMAP writes them, every section's span, BINARY's decoding, the text
// the full-text index would keep, and SORT/THREAD's view of it (RELIABILITY M01-M06).
#include <string>

#include "fuzz.hpp"
#include "imap/sort.hpp"
#include "imap/wire/bodystructure.hpp"
#include "imap/wire/envelope.hpp"
#include "imap/wire/section.hpp"
#include "mime/envelope_fields.hpp"
#include "mime/part.hpp"
#include "mime/search_text.hpp"
#include "mime/transfer.hpp"

using namespace postino;

POSTINO_FUZZ_TARGET(mime_message) {
  mime::Limits limits;
  limits.max_depth = 20;
  limits.max_parts = 200;
  const auto s = mime::parse_structure(data, limits);
  FUZZ_CHECK(!s.parts.empty());
  for (std::size_t i = 0; i < s.parts.size(); ++i) {
    const auto& p = s.parts[i];
    FUZZ_CHECK(p.header_offset + p.header_size <= data.size());
    FUZZ_CHECK(p.body_offset + p.body_size <= data.size());
    for (const auto c : p.children) FUZZ_CHECK(c > static_cast<std::int32_t>(i));
    if (p.type == "text" && p.children.empty()) (void)mime::part_text(data, p);
    (void)mime::decode_transfer(data.substr(p.body_offset, p.body_size), p.encoding);
  }
  FUZZ_CHECK(mime::parse_structure(data, limits) == s);  // deterministic
  const auto fields = mime::extract_envelope_fields(data, s);
  const auto envelope = imap::wire::format_envelope(fields);
  FUZZ_CHECK(envelope.front() == '(' && envelope.back() == ')');
  const auto structure = imap::wire::format_bodystructure(s, data, true);
  FUZZ_CHECK(structure.front() == '(' && structure.back() == ')');
  for (const char* spec : {"", "1", "2", "1.1", "2.1.MIME", "HEADER", "TEXT", "1.HEADER",
                           "HEADER.FIELDS (FROM SUBJECT)", "1.2.HEADER.FIELDS.NOT (TO)"}) {
    const auto section = imap::wire::parse_section(spec);
    FUZZ_CHECK(section);
    std::string storage;
    const auto bytes = imap::wire::section_bytes(s, data, *section, storage);
    FUZZ_CHECK(bytes.size() <= data.size() + storage.size());
    (void)imap::wire::section_part(s, *section);
  }
  const auto item = imap::sort::make_item(1, 1, 0, data.size(), fields);
  (void)imap::sort::thread_references({item, item});
}
