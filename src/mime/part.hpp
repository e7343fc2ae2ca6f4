// The MIME structure of a message (RFC 2045, 2046, 2231, 5322): a flat list of parts with
// exact byte offsets, sizes and line counts, so that IMAP can answer BODYSTRUCTURE and
// BODY[1.2] from stored figures and seek into the message instead of parsing it again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postino::mime {

struct Parameter {
  std::string name;     // lower-case, without RFC 2231 "*" or "*N"
  std::string value;    // continuations joined; %-escapes of extended values decoded
  std::string charset;  // RFC 2231 charset of an extended value, "" otherwise
  std::string language;
  bool operator==(const Parameter&) const = default;
};

struct Part {
  // Offsets into the whole message. The header block includes its terminating blank
  // line; the body is everything after it up to the part's end.
  std::uint64_t header_offset = 0;
  std::uint64_t header_size = 0;
  std::uint64_t body_offset = 0;
  std::uint64_t body_size = 0;
  std::uint64_t body_lines = 0;  // LF count of the body, as Dovecot counts

  std::string type = "text";  // lower-case
  std::string subtype = "plain";
  std::vector<Parameter> parameters;  // Content-Type parameters
  std::string id;                     // Content-ID
  std::string description;            // Content-Description (raw)
  std::string encoding = "7bit";      // Content-Transfer-Encoding, lower-case
  std::string md5;                    // Content-MD5
  std::string disposition;            // lower-case, "" when absent
  std::vector<Parameter> disposition_parameters;
  std::vector<std::string> languages;  // Content-Language
  std::string location;                // Content-Location

  // Tree links as indices into Structure::parts: the children of a multipart, or the
  // one encapsulated message of a message/rfc822 part.
  std::int32_t parent = -1;
  std::vector<std::int32_t> children;

  bool is_multipart() const { return type == "multipart"; }
  bool is_message_rfc822() const {
    return type == "message" && (subtype == "rfc822" || subtype == "global");
  }
  bool operator==(const Part&) const = default;
};

struct Structure {
  std::vector<Part> parts;    // parts[0] is the whole message
  bool is_truncated = false;  // a nesting or part-count limit was reached; deeper parts are leaves
  bool operator==(const Structure&) const = default;
};

struct Limits {
  std::size_t max_depth = 100;                      // Postfix mime_nesting_limit, Dovecot: 100
  std::size_t max_parts = 10000;                    // Dovecot's limit
  std::size_t max_header_bytes = 10 * 1024 * 1024;  // of one header block (RELIABILITY M02)
};

// Parses the structure of `message`. Never fails: broken mail (missing boundaries, bad
// headers, no blank line, 8-bit bytes) gets the structure a careful reader would see.
Structure parse_structure(std::string_view message, const Limits& limits = {});

}  // namespace postino::mime
