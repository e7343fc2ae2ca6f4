// The IMAP ENVELOPE (RFC 3501 §7.4.2) of a message's header fields, and the nstring it is
// built from. A function of the header alone, so it sits here, below the store: the store
// formats it once at delivery and FETCH ENVELOPE copies it (DESIGN: IMAP caches), where
// parsing every address list again cost most of a FETCH 1:* (ENVELOPE). imap/wire names
// the same functions for the protocol's side.
#pragma once

#include <string>
#include <string_view>

#include "mime/envelope_fields.hpp"

namespace postino::mime {

// NIL for an empty value, a quoted string when the text allows one, a literal otherwise
// (8-bit, CR, LF or NUL bytes, or long text).
std::string imap_nstring(std::string_view value);
void append_imap_nstring(std::string& out, std::string_view value);

// "(date subject (from) (sender) (reply-to) (to) (cc) (bcc) in-reply-to message-id)".
// Sender and Reply-To fall back to From when absent, as RFC 3501 requires.
std::string format_imap_envelope(const EnvelopeFields& fields);
void append_imap_envelope(std::string& out, const EnvelopeFields& fields);

}  // namespace postino::mime
