// POP3 multi-line responses (RFC 1939 §3): every line ends in CRLF, a line starting with
// "." gets another ".", and the response ends with ".\r\n". Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postino::pop3::wire {

// The dot-stuffed message followed by the terminating line. With `top_lines` (TOP), only
// the header, the blank line and that many lines of the body (RFC 1939 §7).
std::string dot_stuff(std::string_view message,
                      std::optional<std::uint64_t> top_lines = std::nullopt);

}  // namespace postino::pop3::wire
