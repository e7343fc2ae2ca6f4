// Envelope field extraction; see envelope_fields.hpp.
#include "mime/envelope_fields.hpp"

#include "mime/header.hpp"

namespace postino::mime {

EnvelopeFields extract_envelope_fields(std::string_view message, const Structure& structure) {
  EnvelopeFields e;
  if (structure.parts.empty()) return e;
  const auto& root = structure.parts[0];
  const auto fields = parse_header(message.substr(root.header_offset, root.header_size));
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
