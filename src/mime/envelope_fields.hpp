// The header fields IMAP needs without reading the message again (ENVELOPE, RFC 3501
// §7.4.2, and the SEARCH/SORT keys): raw values, unfolded, first occurrence.
#pragma once

#include <string>
#include <string_view>

#include "mime/part.hpp"

namespace postino::mime {

struct EnvelopeFields {
  std::string date, subject, from, sender, reply_to, to, cc, bcc, in_reply_to, message_id,
      references;
  bool operator==(const EnvelopeFields&) const = default;
};

// Reads the fields from the top-level header of `message` (as `structure` located it).
EnvelopeFields extract_envelope_fields(std::string_view message, const Structure& structure);

// Reads the fields from the header of `part`: the message inside a message/rfc822 part.
EnvelopeFields extract_envelope_fields(std::string_view message, const Part& part);

}  // namespace postino::mime
