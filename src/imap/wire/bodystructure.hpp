// The BODY and BODYSTRUCTURE fetch items (RFC 3501 §7.4.2), built from the MIME structure
// stored at delivery.
#pragma once

#include <string>
#include <string_view>

#include "mime/part.hpp"

namespace postino::imap::wire {

// True when formatting needs the message bytes: a message/rfc822 part's ENVELOPE is read
// from its header, which the stored structure does not keep.
bool bodystructure_needs_message(const mime::Structure& structure);

// BODYSTRUCTURE with `extensible`, BODY without. `message` may be empty when
// bodystructure_needs_message() is false.
std::string format_bodystructure(const mime::Structure& structure, std::string_view message,
                                 bool extensible);

}  // namespace postino::imap::wire
