// Envelope field extraction; see envelope_fields.hpp.
#include "mime/envelope_fields.hpp"

#include "mime/header.hpp"

namespace postino::mime {

EnvelopeFields extract_envelope_fields(std::string_view message, const Structure& structure) {
  if (structure.parts.empty()) return {};
  return extract_envelope_fields(message, structure.parts[0]);
}

EnvelopeFields extract_envelope_fields(std::string_view message, const Part& part) {
  EnvelopeFields e;
  if (part.header_offset > message.size()) return e;
  const auto fields = parse_header(message.substr(part.header_offset, part.header_size));
  const std::pair<const char*, std::string*> wanted[] = {{"Date", &e.date},
                                                         {"Subject", &e.subject},
                                                         {"From", &e.from},
                                                         {"Sender", &e.sender},
                                                         {"Reply-To", &e.reply_to},
                                                         {"To", &e.to},
                                                         {"Cc", &e.cc},
                                                         {"Bcc", &e.bcc},
                                                         {"In-Reply-To", &e.in_reply_to},
                                                         {"Message-ID", &e.message_id},
                                                         {"References", &e.references}};
  for (const auto& [name, target] : wanted) {
    if (const auto* f = find_field(fields, name)) *target = unfold(f->value);
  }
  return e;
}

}  // namespace postino::mime
