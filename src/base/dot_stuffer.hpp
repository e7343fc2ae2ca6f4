// Transparency for a message sent as dot-terminated lines: SMTP DATA (RFC 5321 §4.5.2)
// and POP3 multi-line responses (RFC 1939 §3). Every line ends in CRLF, a line starting
// with "." gets another ".", and the whole ends with ".\r\n". Pure; the stuffer works on
// chunks so that a large message is sent without being held in memory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postino::base {

class DotStuffer {
 public:
  // A CR not followed by LF: kept as text (POP3 serves what was stored), or sent as a
  // space (SMTP: RFC 5321 §2.3.8 forbids it on the wire, and a peer could read it as a
  // line end; RELIABILITY S03).
  enum class BareCr { keep, space };
  // With `top_lines` (TOP, RFC 1939 §7): only the header, the blank line and that many
  // lines of the body.
  explicit DotStuffer(std::optional<std::uint64_t> top_lines = std::nullopt,
                      BareCr bare_cr = BareCr::keep)
      : top_lines_(top_lines), bare_cr_(bare_cr) {}
  // The stuffed form of the next chunk of the message.
  std::string feed(std::string_view chunk);
  // The same, appended to `out`.
  void feed(std::string_view chunk, std::string& out);
  // The end: a line break for an unfinished last line, then ".\r\n".
  std::string finish();

 private:
  void end_line(std::string& out);
  std::optional<std::uint64_t> top_lines_;
  BareCr bare_cr_;
  bool at_line_start_ = true;
  bool line_empty_ = true;
  bool pending_cr_ = false;
  bool in_body_ = false;
  bool done_ = false;
  std::uint64_t body_lines_ = 0;
};

// The whole message at once.
std::string dot_stuff(std::string_view message,
                      std::optional<std::uint64_t> top_lines = std::nullopt);

}  // namespace postino::base
