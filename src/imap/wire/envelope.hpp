// The ENVELOPE fetch item (RFC 3501 §7.4.2) and the nstring it is built from: formatted in
// mime/imap_envelope.hpp, where the store reaches it to keep each message's ENVELOPE from
// delivery on.
#pragma once

#include <string>
#include <string_view>

#include "mime/imap_envelope.hpp"

namespace postino::imap::wire {

inline std::string nstring(std::string_view value) {
  return mime::imap_nstring(value);
}
inline void append_nstring(std::string& out, std::string_view value) {
  mime::append_imap_nstring(out, value);
}
inline std::string format_envelope(const mime::EnvelopeFields& fields) {
  return mime::format_imap_envelope(fields);
}
inline void append_envelope(std::string& out, const mime::EnvelopeFields& fields) {
  mime::append_imap_envelope(out, fields);
}

}  // namespace postino::imap::wire
