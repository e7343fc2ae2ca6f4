// BODY/BODYSTRUCTURE formatting; see bodystructure.hpp.
#include "imap/wire/bodystructure.hpp"

#include "imap/wire/envelope.hpp"
#include "mime/envelope_fields.hpp"

namespace postino::imap::wire {
namespace {

// A string (never NIL) as the grammar wants for types and parameter values.
std::string string(std::string_view value) {
  return value.empty() ? "\"\"" : nstring(value);
}

std::string parameters(const std::vector<mime::Parameter>& params) {
  if (params.empty()) return "NIL";
  std::string out = "(";
  for (const auto& p : params) {
    if (out.size() > 1) out += ' ';
    out += string(p.name) + " " + string(p.value);
  }
  return out + ")";
}

std::string disposition(const mime::Part& p) {
  if (p.disposition.empty()) return "NIL";
  return "(" + string(p.disposition) + " " + parameters(p.disposition_parameters) + ")";
}

std::string languages(const mime::Part& p) {
  if (p.languages.empty()) return "NIL";
  std::string out = "(";
  for (const auto& l : p.languages) out += (out.size() > 1 ? " " : "") + string(l);
  return out + ")";
}

class Formatter {
 public:
  Formatter(const mime::Structure& s, std::string_view message, bool extensible)
      : s_(s), message_(message), extensible_(extensible) {}

  std::string part(std::size_t index) {
    const auto& p = s_.parts[index];
    if (p.is_multipart()) {
      std::string out = "(";
      for (auto child : p.children) out += part(static_cast<std::size_t>(child));
      // RFC 3501 wants at least one body part; a multipart without any shows an empty one.
      if (p.children.empty())
        out += "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)";
      out += " " + string(p.subtype);
      if (extensible_) {
        out += " " + parameters(p.parameters) + " " + disposition(p) + " " + languages(p) + " " +
               nstring(p.location);
      }
      return out + ")";
    }
    auto params = parameters(p.parameters);
    if (p.type == "text" && p.parameters.empty()) params = "(\"charset\" \"us-ascii\")";
    std::string out = "(" + string(p.type) + " " + string(p.subtype) + " " + params + " " +
                      nstring(p.id) + " " + nstring(p.description) + " " + string(p.encoding) +
                      " " + std::to_string(p.body_size);
    if (p.is_message_rfc822() && p.children.size() == 1) {
      const auto& inner = s_.parts[static_cast<std::size_t>(p.children[0])];
      out += " " + format_envelope(mime::extract_envelope_fields(message_, inner)) + " " +
             part(static_cast<std::size_t>(p.children[0])) + " " + std::to_string(p.body_lines);
    } else if (p.type == "text") {
      out += " " + std::to_string(p.body_lines);
    }
    if (extensible_) {
      out += " " + nstring(p.md5) + " " + disposition(p) + " " + languages(p) + " " +
             nstring(p.location);
    }
    return out + ")";
  }

 private:
  const mime::Structure& s_;
  std::string_view message_;
  bool extensible_;
};

}  // namespace

bool bodystructure_needs_message(const mime::Structure& structure) {
  for (const auto& p : structure.parts) {
    if (p.is_message_rfc822() && !p.children.empty()) return true;
  }
  return false;
}

std::string format_bodystructure(const mime::Structure& structure, std::string_view message,
                                 bool extensible) {
  if (structure.parts.empty())
    return "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)";
  return Formatter(structure, message, extensible).part(0);
}

}  // namespace postino::imap::wire
