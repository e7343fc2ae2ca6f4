// Splits a byte stream into protocol lines with a hard length limit.
// Pure: it never reads or writes; the caller owns the buffer and erases what was consumed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace postino::base {

// One step of line splitting.
struct LineStep {
  enum class Kind {
    need_more,  // no complete line yet; nothing consumed that matters
    line,       // `line` holds one line without its terminator
    too_long,   // a line exceeded the limit; the splitter now discards up to the next LF
  };
  Kind kind = Kind::need_more;
  std::string_view line;  // valid only while the input it points into is unchanged
  std::size_t consumed = 0;
};

// Lines end at LF; a CR right before the LF is dropped (RFC 5321 §2.3.8 wants CRLF, but
// bare LF is accepted the way Postfix's `normalize` policy does). A bare CR stays inside
// the line, so that callers can reject it as a control character.
class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  // Looks at `input` (bytes not yet consumed) and returns the next step. `consumed` bytes
  // must be dropped by the caller before the next call. A too-long line is reported once,
  // as soon as the limit is passed, so a client cannot make us buffer an endless line.
  LineStep next(std::string_view input);

  // True while the rest of an overlong line is being discarded.
  bool is_discarding() const { return discarding_; }
  std::size_t max_line_bytes() const { return max_line_bytes_; }
  void set_max_line_bytes(std::size_t n) { max_line_bytes_ = n; }

 private:
  std::size_t max_line_bytes_;
  bool discarding_ = false;
};

// Hands every complete line (or too-long report) at the front of `input` to
// `on_step(const LineStep&)`, which returns false to stop early; then erases what was
// consumed. Bytes of an unfinished line stay in `input`.
template <class OnStep>
void consume_lines(LineSplitter& splitter, std::string& input, OnStep&& on_step) {
  std::size_t pos = 0;
  for (;;) {
    const LineStep step = splitter.next(std::string_view(input).substr(pos));
    pos += step.consumed;
    if (step.kind == LineStep::Kind::need_more) {
      if (step.consumed == 0 || pos == input.size()) break;
      continue;
    }
    if (!on_step(step)) break;
  }
  input.erase(0, pos);
}

}  // namespace postino::base
