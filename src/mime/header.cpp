// Header field parsing; see header.hpp.
#include "mime/header.hpp"
#include "base/ascii.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

namespace postino::mime {
namespace {

// RFC 2045 §5.1 tspecials, plus white space and CTLs, end a token.
bool is_token_char(unsigned char c) {
  if (c <= 0x20 || c == 0x7f) return false;
  switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '@':
    case ',':
    case ';':
    case ':':
    case '\\':
    case '"':
    case '/':
    case '[':
    case ']':
    case '?':
    case '=':
      return false;
    default:
      return true;
  }
}

// Skips white space, line breaks and (nested (comments)).
void skip_cfws(std::string_view s, std::size_t& i) {
  while (i < s.size()) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
    } else if (c == '(') {
      int depth = 0;
      for (; i < s.size(); ++i) {
        if (s[i] == '\\') {
          if (i + 1 < s.size()) ++i;  // a quoted pair; a last "\\" ends the value
        } else if (s[i] == '(') {
          ++depth;
        } else if (s[i] == ')' && --depth == 0) {
          ++i;
          break;
        }
      }
    } else {
      break;
    }
  }
}

std::string read_token(std::string_view s, std::size_t& i) {
  const auto start = i;
  while (i < s.size() && is_token_char(static_cast<unsigned char>(s[i]))) ++i;
  return std::string(s.substr(start, i - start));
}

std::string read_quoted(std::string_view s, std::size_t& i) {
  std::string out;
  ++i;  // opening quote
  while (i < s.size() && s[i] != '"') {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    if (s[i] != '\r' && s[i] != '\n') out.push_back(s[i]);  // folding inside quotes
    ++i;
  }
  if (i < s.size()) ++i;  // closing quote (absent in broken mail)
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const int byte = s[i] == '%' && i + 2 < s.size() ? base::hex_byte(s[i + 1], s[i + 2]) : -1;
    if (byte >= 0) {
      out.push_back(static_cast<char>(byte));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct RawParameter {
  std::string name;  // lower-case, as written ("title*0*")
  std::string value;
};

// RFC 2231 §3–4: joins "name*0", "name*1*", … and decodes "name*" values.
std::vector<Parameter> join_sections(const std::vector<RawParameter>& raw) {
  struct Sections {
    std::map<int, std::pair<std::string, bool>> parts;  // section → (value, is_extended)
    Parameter plain;
    bool has_plain = false;
  };
  std::vector<std::string> order;
  std::map<std::string, Sections> by_name;
  for (const auto& p : raw) {
    std::string base = p.name;
    int section = -1;
    bool extended = false;
    if (!base.empty() && base.back() == '*') {
      extended = true;
      base.pop_back();
    }
    if (auto star = base.find('*'); star != std::string::npos) {
      int n = 0;
      const auto digits = std::string_view(base).substr(star + 1);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
      if (ec == std::errc{} && end == digits.data() + digits.size() && n >= 0 && n < 1000) {
        section = n;
        base = base.substr(0, star);
      }
    }
    if (!by_name.contains(base)) order.push_back(base);
    auto& entry = by_name[base];
    if (section >= 0) {
      entry.parts.emplace(section, std::make_pair(p.value, extended));
    } else if (!entry.has_plain) {
      entry.has_plain = true;
      entry.plain.name = base;
      if (extended) {
        // charset'language'value
        const auto q1 = p.value.find('\''), q2 = p.value.find('\'', q1 + 1);
        if (q1 != std::string::npos && q2 != std::string::npos) {
          entry.plain.charset = base::to_lower(std::string_view(p.value).substr(0, q1));
          entry.plain.language = p.value.substr(q1 + 1, q2 - q1 - 1);
          entry.plain.value = percent_decode(std::string_view(p.value).substr(q2 + 1));
        } else {
          entry.plain.value = percent_decode(p.value);
        }
      } else {
        entry.plain.value = p.value;
      }
    }
  }
  std::vector<Parameter> out;
  for (const auto& name : order) {
    auto& entry = by_name[name];
    if (!entry.parts.empty() && entry.parts.begin()->first == 0) {
      Parameter joined;
      joined.name = name;
      bool first = true;
      for (int expect = 0; const auto& [n, piece] : entry.parts) {
        if (n != expect++) break;  // a gap ends the value (RFC 2231 §3)
        std::string_view value = piece.first;
        if (piece.second && first) {
          const auto q1 = value.find('\''), q2 = value.find('\'', q1 + 1);
          if (q1 != std::string_view::npos && q2 != std::string_view::npos) {
            joined.charset = base::to_lower(value.substr(0, q1));
            joined.language = std::string(value.substr(q1 + 1, q2 - q1 - 1));
            value = value.substr(q2 + 1);
          }
        }
        joined.value += piece.second ? percent_decode(value) : std::string(value);
        first = false;
      }
      out.push_back(std::move(joined));
    } else if (entry.has_plain) {
      out.push_back(entry.plain);
    }
  }
  return out;
}

}  // namespace

std::vector<HeaderField> parse_header(std::string_view block) {
  std::vector<HeaderField> fields;
  std::size_t pos = 0;
  while (pos < block.size()) {
    auto lf = block.find('\n', pos);
    std::size_t line_end = lf == std::string_view::npos ? block.size() : lf;
    std::string_view line = block.substr(pos, line_end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header block
    // A field runs on over continuation lines starting with white space.
    std::size_t field_end = line_end;
    while (field_end < block.size()) {
      const auto next = field_end + 1;
      if (next >= block.size() || (block[next] != ' ' && block[next] != '\t')) break;
      const auto next_lf = block.find('\n', next);
      field_end = next_lf == std::string_view::npos ? block.size() : next_lf;
    }
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && colon > 0) {
      std::string_view name = line.substr(0, colon);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
      std::string_view value = block.substr(pos + colon + 1, field_end - pos - colon - 1);
      if (!value.empty() && value.back() == '\r') value.remove_suffix(1);
      fields.push_back({name, value});
    }
    pos = field_end == block.size() ? field_end : field_end + 1;
  }
  return fields;
}

const HeaderField* find_field(const std::vector<HeaderField>& fields, std::string_view name) {
  for (const auto& f : fields) {
    if (base::iequals(f.name, name)) return &f;
  }
  return nullptr;
}

std::string unfold(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c != '\r' && c != '\n') out.push_back(c);
  }
  const auto first = out.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  const auto last = out.find_last_not_of(" \t");
  return out.substr(first, last - first + 1);
}

std::vector<Parameter> parse_parameters(std::string_view s) {
  std::vector<RawParameter> raw;
  std::size_t i = 0;
  while (i < s.size()) {
    skip_cfws(s, i);
    if (i >= s.size()) break;
    if (s[i] != ';') {  // junk between parameters: skip to the next ";"
      const auto semi = s.find(';', i);
      if (semi == std::string_view::npos) break;
      i = semi;
    }
    ++i;
    skip_cfws(s, i);
    std::string name = base::to_lower(read_token(s, i));
    skip_cfws(s, i);
    if (name.empty() || i >= s.size() || s[i] != '=') continue;
    ++i;
    skip_cfws(s, i);
    std::string value;
    if (i < s.size() && s[i] == '"') {
      value = read_quoted(s, i);
    } else {
      // Lenient: an unquoted value with tspecials in it runs to the next ";".
      const auto start = i;
      while (i < s.size() && s[i] != ';' && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' &&
             s[i] != '\n') {
        ++i;
      }
      value = std::string(s.substr(start, i - start));
    }
    raw.push_back({std::move(name), std::move(value)});
  }
  return join_sections(raw);
}

ContentType parse_content_type(std::string_view s) {
  ContentType ct;
  std::size_t i = 0;
  skip_cfws(s, i);
  ct.type = base::to_lower(read_token(s, i));
  skip_cfws(s, i);
  if (ct.type.empty() || i >= s.size() || s[i] != '/') return ct;
  ++i;
  skip_cfws(s, i);
  ct.subtype = base::to_lower(read_token(s, i));
  if (ct.subtype.empty()) return ct;
  ct.is_valid = true;
  ct.parameters = parse_parameters(s.substr(i));
  return ct;
}

Disposition parse_disposition(std::string_view s) {
  Disposition d;
  std::size_t i = 0;
  skip_cfws(s, i);
  d.type = base::to_lower(read_token(s, i));
  if (!d.type.empty()) d.parameters = parse_parameters(s.substr(i));
  return d;
}

std::string parse_token(std::string_view s) {
  std::size_t i = 0;
  skip_cfws(s, i);
  return base::to_lower(read_token(s, i));
}

std::vector<std::string> parse_token_list(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    skip_cfws(s, i);
    auto start = i;
    while (i < s.size() && s[i] != ',' && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' &&
           s[i] != '\n' && s[i] != '(') {
      ++i;
    }
    if (i > start) out.emplace_back(s.substr(start, i - start));
    skip_cfws(s, i);
    if (i < s.size() && s[i] == ',')
      ++i;
    else if (i < s.size() && i == start)
      ++i;  // never stall on an unexpected byte
  }
  return out;
}

}  // namespace postino::mime
