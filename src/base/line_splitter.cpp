// Line splitting with a limit; see line_splitter.hpp.
#include "base/line_splitter.hpp"

namespace postino::base {

LineStep LineSplitter::next(std::string_view input) {
  LineStep step;
  const auto lf = input.find('\n');
  if (discarding_) {
    if (lf == std::string_view::npos) {
      step.consumed = input.size();  // keep throwing the overlong line away
      return step;
    }
    discarding_ = false;
    step.consumed = lf + 1;
    return step;  // need_more with bytes consumed: the caller loops
  }
  if (lf == std::string_view::npos) {
    // The limit counts the line without its terminator; allow one byte for a pending CR.
    if (input.size() > max_line_bytes_ + 1) {
      discarding_ = true;
      step.kind = LineStep::Kind::too_long;
      step.consumed = input.size();
    }
    return step;
  }
  std::size_t end = lf;
  if (end > 0 && input[end - 1] == '\r') --end;
  if (end > max_line_bytes_) {
    step.kind = LineStep::Kind::too_long;
    step.consumed = lf + 1;
    return step;
  }
  step.kind = LineStep::Kind::line;
  step.line = input.substr(0, end);
  step.consumed = lf + 1;
  return step;
}

}  // namespace postino::base
