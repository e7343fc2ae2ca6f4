// Body sections; see section.hpp.
#include "imap/wire/section.hpp"

#include <algorithm>
#include <charconv>

#include "base/ascii.hpp"

namespace postino::imap::wire {
namespace {

bool take_keyword(std::string_view& s, std::string_view keyword) {
  if (s.size() < keyword.size() || !base::iequals(s.substr(0, keyword.size()), keyword)) {
    return false;
  }
  s.remove_prefix(keyword.size());
  return true;
}

// "(From "To" Subject)" into names; false when it is not a non-empty list of field names.
bool parse_field_list(std::string_view s, std::vector<std::string>& names) {
  if (s.size() < 2 || s.front() != '(' || s.back() != ')') return false;
  s = s.substr(1, s.size() - 2);
  while (!s.empty()) {
    if (s.front() == ' ') {
      s.remove_prefix(1);
      continue;
    }
    std::string name;
    if (s.front() == '"') {
      const auto end = s.find('"', 1);
      if (end == std::string_view::npos) return false;
      name = std::string(s.substr(1, end - 1));
      s.remove_prefix(end + 1);
    } else {
      const auto end = std::min(s.find(' '), s.size());
      name = std::string(s.substr(0, end));
      s.remove_prefix(end);
    }
    // A field name is printable US-ASCII without ":" (RFC 5322 §3.6.8).
    if (name.empty()) return false;
    for (unsigned char c : name) {
      if (c <= 0x20 || c >= 0x7f || c == ':' || c == '(' || c == ')') return false;
    }
    names.push_back(std::move(name));
  }
  return !names.empty();
}

// Part `n` below `message_index`: a multipart's n-th child, or (n = 1) the part itself,
// as Dovecot answers "1" of a single-part message and "1.1" of a leaf; -1 when absent.
std::int64_t part_of_message(const mime::Structure& s, std::size_t message_index, std::uint32_t n) {
  const auto& m = s.parts[message_index];
  if (m.is_multipart()) {
    return n <= m.children.size() ? m.children[n - 1] : -1;
  }
  return n == 1 ? static_cast<std::int64_t>(message_index) : -1;
}

}  // namespace

std::optional<Section> parse_section(std::string_view spec) {
  Section out;
  std::string_view s = spec;
  // section-part: nz-number *("." nz-number)
  while (!s.empty() && s.front() >= '1' && s.front() <= '9') {
    std::uint32_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || n == 0) return std::nullopt;
    out.path.push_back(n);
    s.remove_prefix(static_cast<std::size_t>(end - s.data()));
    if (s.empty()) break;
    if (s.front() != '.') return std::nullopt;
    s.remove_prefix(1);
    if (s.empty()) return std::nullopt;
  }
  std::string name;
  for (auto n : out.path) name += (name.empty() ? "" : ".") + std::to_string(n);
  if (!s.empty()) {
    if (!name.empty()) name += '.';
    if (take_keyword(s, "HEADER.FIELDS.NOT ")) {
      out.text = Section::Text::header_fields_not;
      name += "HEADER.FIELDS.NOT";
    } else if (take_keyword(s, "HEADER.FIELDS ")) {
      out.text = Section::Text::header_fields;
      name += "HEADER.FIELDS";
    } else if (take_keyword(s, "HEADER") && s.empty()) {
      out.text = Section::Text::header;
      name += "HEADER";
    } else if (take_keyword(s, "TEXT") && s.empty()) {
      out.text = Section::Text::text;
      name += "TEXT";
    } else if (!out.path.empty() && take_keyword(s, "MIME") && s.empty()) {
      out.text = Section::Text::mime;  // MIME needs a part number (RFC 3501 §6.4.5)
      name += "MIME";
    } else {
      return std::nullopt;
    }
    if (out.text == Section::Text::header_fields || out.text == Section::Text::header_fields_not) {
      if (!parse_field_list(s, out.fields)) return std::nullopt;
      name += " (";
      for (std::size_t i = 0; i < out.fields.size(); ++i) {
        name += (i ? " " : "") + base::to_upper(out.fields[i]);  // echoed as Dovecot does
      }
      name += ")";
    }
  }
  out.name = std::move(name);
  return out;
}

std::optional<std::size_t> section_part(const mime::Structure& s, const Section& section) {
  if (s.parts.empty()) return std::nullopt;
  // Each number descends into the part reached so far, or into the message a
  // message/rfc822 part holds; the root is the message at the start.
  std::size_t part = 0;
  for (std::size_t i = 0; i < section.path.size(); ++i) {
    const auto& p = s.parts[part];
    const auto container = i > 0 && p.is_message_rfc822() && p.children.size() == 1
                               ? static_cast<std::size_t>(p.children[0])
                               : part;
    const auto next = part_of_message(s, container, section.path[i]);
    if (next < 0) return std::nullopt;
    part = static_cast<std::size_t>(next);
  }
  return part;
}

SectionSpan section_span(const mime::Structure& s, std::uint64_t message_size,
                         const Section& section) {
  // Clamped to the message, as a damaged structure must never point past its end.
  auto span = [message_size](std::uint64_t offset, std::uint64_t size, bool filter = false) {
    if (offset > message_size) return SectionSpan{};
    return SectionSpan{offset, std::min(size, message_size - offset), filter};
  };
  const auto found = section_part(s, section);
  if (!found) return {};
  const auto part = *found;
  // The message HEADER and TEXT refer to: the root, or the one inside the named part.
  std::int64_t inner_message = 0;
  if (!section.path.empty()) {
    const auto& p = s.parts[part];
    inner_message = p.is_message_rfc822() && p.children.size() == 1 ? p.children[0] : -1;
  }
  const auto& p = s.parts[part];
  switch (section.text) {
    case Section::Text::all:
      if (section.path.empty()) return span(0, message_size);
      return span(p.body_offset, p.body_size);
    case Section::Text::mime:
      return span(p.header_offset, p.header_size);
    default:
      break;
  }
  // HEADER, HEADER.FIELDS and TEXT of a part that is not a message are empty.
  if (inner_message < 0) return {};
  const auto& m = s.parts[static_cast<std::size_t>(inner_message)];
  switch (section.text) {
    case Section::Text::header:
      return span(m.header_offset, m.header_size);
    case Section::Text::header_fields:
    case Section::Text::header_fields_not:
      return span(m.header_offset, m.header_size, true);
    default:
      return span(m.body_offset, m.body_size);
  }
}

std::string section_text(std::string_view bytes, const Section& section) {
  const bool exclude = section.text == Section::Text::header_fields_not;
  return filter_header_fields(bytes, section.fields, exclude);
}

std::string_view section_bytes(const mime::Structure& s, std::string_view message,
                               const Section& section, std::string& storage) {
  const auto span = section_span(s, message.size(), section);
  const auto bytes = message.substr(span.offset, span.size);
  if (!span.filters_header) return bytes;
  storage = section_text(bytes, section);
  return std::string_view(storage);
}

std::string filter_header_fields(std::string_view header, const std::vector<std::string>& names,
                                 bool exclude) {
  std::string out;
  bool keep = false;
  while (!header.empty()) {
    auto eol = header.find('\n');
    const auto line = header.substr(0, eol == std::string_view::npos ? header.size() : eol + 1);
    header.remove_prefix(line.size());
    if (line == "\r\n" || line == "\n") break;  // the end of the header block
    if (line.front() == ' ' || line.front() == '\t') {
      if (keep) out.append(line);
      continue;
    }
    const auto colon = line.find(':');
    keep = false;
    if (colon == std::string_view::npos) continue;
    auto name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    bool listed = false;
    for (const auto& n : names) listed = listed || base::iequals(n, name);
    keep = listed != exclude;
    if (keep) {
      out.append(line);
      if (!line.ends_with('\n')) out += "\r\n";
    }
  }
  out += "\r\n";
  return out;
}

}  // namespace postino::imap::wire
