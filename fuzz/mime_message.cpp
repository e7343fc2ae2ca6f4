// A whole message through what delivery and FETCH do with it: the MIME structure (every
// part inside the message, children after parents), the envelope fields, ENVELOPE and
// BODYSTRUCTURE as IMAP writes them, every section's span, BINARY's decoding, the text
// the full-text index would keep, and SORT/THREAD's view of it (RELIABILITY M01-M06).
// BODYSTRUCTURE as written parses back, by a client's reading (imap_value.hpp), to the
// same tree: every part's type, parameters, fields, sizes and line counts.
#include <string>

#include "fuzz.hpp"
#include "imap/sort.hpp"
#include "imap/wire/bodystructure.hpp"
#include "imap/wire/envelope.hpp"
#include "imap/wire/section.hpp"
#include "imap_value.hpp"
#include "mime/envelope_fields.hpp"
#include "mime/part.hpp"
#include "mime/search_text.hpp"
#include "mime/transfer.hpp"

using namespace postino;

namespace {

using fuzz::Value;

bool is_string(const Value& v, std::string_view text) {
  return v.is_string() && v.text == text;
}

bool same_parameters(const Value& v, const std::vector<mime::Parameter>& params) {
  if (params.empty()) return v.is_nil();
  if (!v.is_list() || v.items.size() != 2 * params.size()) return false;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!is_string(v.items[2 * i], params[i].name) ||
        !is_string(v.items[2 * i + 1], params[i].value)) {
      return false;
    }
  }
  return true;
}

// The extension data every part ends with: disposition, languages, location.
bool same_extension_tail(const std::vector<Value>& items, std::size_t at, const mime::Part& p) {
  const auto& d = items[at];
  const bool disposition = p.disposition.empty()
                               ? d.is_nil()
                               : d.is_list() && d.items.size() == 2 &&
                                     is_string(d.items[0], p.disposition) &&
                                     same_parameters(d.items[1], p.disposition_parameters);
  const auto& l = items[at + 1];
  bool languages =
      p.languages.empty() ? l.is_nil() : l.is_list() && l.items.size() == p.languages.size();
  for (std::size_t i = 0; languages && i < p.languages.size(); ++i) {
    languages = is_string(l.items[i], p.languages[i]);
  }
  const auto& location = items[at + 2];
  return disposition && languages && (location.is_nil() || location.is_string()) &&
         location.nstring() == p.location;
}

bool is_number(const Value& v, std::uint64_t n) {
  return v.kind == Value::Kind::number && v.number == n;
}

bool same_part(const Value& v, const mime::Structure& s, std::size_t index) {
  const auto& p = s.parts[index];
  if (!v.is_list()) return false;
  const auto& it = v.items;
  if (p.is_multipart()) {
    const std::size_t n = p.children.empty() ? 1 : p.children.size();  // an empty one shown
    if (it.size() != n + 5) return false;
    for (std::size_t k = 0; k < p.children.size(); ++k) {
      if (!same_part(it[k], s, static_cast<std::size_t>(p.children[k]))) return false;
    }
    if (p.children.empty() && !it[0].is_list()) return false;
    return is_string(it[n], p.subtype) && same_parameters(it[n + 1], p.parameters) &&
           same_extension_tail(it, n + 2, p);
  }
  const bool message = p.is_message_rfc822() && p.children.size() == 1;
  const bool text = p.type == "text";
  const std::size_t fields = 7 + (message ? 3 : text ? 1 : 0);
  if (it.size() != fields + 4) return false;
  std::vector<mime::Parameter> params = p.parameters;
  if (text && params.empty()) params.push_back({"charset", "us-ascii", "", ""});
  if (!is_string(it[0], p.type) || !is_string(it[1], p.subtype) ||
      !same_parameters(it[2], params) || it[3].nstring() != p.id ||
      it[4].nstring() != p.description || !is_string(it[5], p.encoding) ||
      !is_number(it[6], p.body_size)) {
    return false;
  }
  if (message && !(it[7].is_list() && it[7].items.size() == 10 &&
                   same_part(it[8], s, static_cast<std::size_t>(p.children[0])) &&
                   is_number(it[9], p.body_lines))) {
    return false;
  }
  if (text && !is_number(it[7], p.body_lines)) return false;
  return (it[fields].is_nil() || it[fields].is_string()) && it[fields].nstring() == p.md5 &&
         same_extension_tail(it, fields + 1, p);
}

}  // namespace

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
  const auto read_back = fuzz::ValueReader(structure).whole();
  FUZZ_CHECK(read_back);
  FUZZ_CHECK(same_part(*read_back, s, 0));
  FUZZ_CHECK(fuzz::ValueReader(envelope).whole());
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
