// Dot-stuffing; see dot_stuffer.hpp.
#include "base/dot_stuffer.hpp"

namespace postino::base {

void DotStuffer::end_line(std::string& out) {
  out += "\r\n";
  pending_cr_ = false;
  if (in_body_) ++body_lines_;
  if (!in_body_ && line_empty_) in_body_ = true;  // the blank line after the header
  at_line_start_ = true;
  line_empty_ = true;
  if (top_lines_ && in_body_ && body_lines_ >= *top_lines_) done_ = true;
}

std::string DotStuffer::feed(std::string_view chunk) {
  std::string out;
  out.reserve(chunk.size() + chunk.size() / 64 + 8);
  // With TOP 0 the header's blank line already ends the output.
  for (std::size_t i = 0; i < chunk.size() && !done_; ++i) {
    const char c = chunk[i];
    if (c == '\n') {
      end_line(out);
      continue;
    }
    if (pending_cr_) {  // a CR not followed by LF is text
      out.push_back(bare_cr_ == BareCr::keep ? '\r' : ' ');
      pending_cr_ = false;
    }
    if (c == '\r') {
      pending_cr_ = true;
      if (at_line_start_) at_line_start_ = false;
      continue;
    }
    if (at_line_start_ && c == '.') out.push_back('.');
    at_line_start_ = false;
    line_empty_ = false;
    out.push_back(c);
  }
  return out;
}

std::string DotStuffer::finish() {
  std::string out;
  if (!done_ && (!at_line_start_ || pending_cr_))
    end_line(out);  // the terminator must start a line
  out += ".\r\n";
  return out;
}

std::string dot_stuff(std::string_view message, std::optional<std::uint64_t> top_lines) {
  DotStuffer stuffer(top_lines);
  std::string out = stuffer.feed(message);
  out += stuffer.finish();
  return out;
}

}  // namespace postino::base
