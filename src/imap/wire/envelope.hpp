// The ENVELOPE fetch item (RFC 3501 §7.4.2) and the nstring it is built from.
#pragma once

#include <string>
#include <string_view>

#include "mime/envelope_fields.hpp"

namespace postino::imap::wire {

// NIL for an empty value, a quoted string when the text allows one, a literal otherwise
// (8-bit, CR, LF or NUL bytes, or long text).
std::string nstring(std::string_view value);
void append_nstring(std::string& out, std::string_view value);

// "(date subject (from) (sender) (reply-to) (to) (cc) (bcc) in-reply-to message-id)".
// Sender and Reply-To fall back to From when absent, as RFC 3501 requires.
std::string format_envelope(const mime::EnvelopeFields& fields);
void append_envelope(std::string& out, const mime::EnvelopeFields& fields);

}  // namespace postino::imap::wire
