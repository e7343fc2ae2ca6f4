// The IMAP command receiver (imap/wire/receiver.hpp) over arbitrary bytes: whatever
// arrives, every step consumes within the input and makes progress, and the same bytes
// give the same steps whether they come at once or in pieces (the first input byte
// chooses the piece size), as RELIABILITY L06/L07 require.
#include <string>
#include <vector>

#include "fuzz.hpp"
#include "imap/wire/receiver.hpp"

namespace {

using postino::imap::wire::Receiver;

// The steps of a whole stream, as text, fed `piece` bytes at a time (0: all at once).
std::vector<std::string> steps(std::string_view data, std::size_t piece) {
  Receiver receiver({512, 4096, 8, 200});
  std::vector<std::string> out;
  std::string input;
  std::size_t fed = 0;
  for (int guard = 0; guard < 1000000; ++guard) {
    if (fed < data.size()) {
      const auto n = piece == 0 ? data.size() - fed : std::min(piece, data.size() - fed);
      input.append(data.substr(fed, n));
      fed += n;
    }
    for (;;) {
      const auto step = receiver.next(input);
      FUZZ_CHECK(step.consumed <= input.size());
      input.erase(0, step.consumed);
      using Kind = Receiver::Step::Kind;
      if (step.kind == Kind::need_more) {
        if (step.consumed == 0 || input.empty()) break;
        continue;
      }
      std::string s = std::to_string(static_cast<int>(step.kind)) + " " + step.tag + " " +
                      step.text + " " + step.command.tag + " " + step.command.name;
      for (const auto& a : step.command.arguments) s += " [" + a.value + "]";
      out.push_back(std::move(s));
      if (step.kind == Kind::fatal) return out;  // the session ends here
    }
    if (fed == data.size()) return out;
  }
  FUZZ_CHECK(false && "no progress");
  return out;
}

}  // namespace

POSTINO_FUZZ_TARGET(imap_receiver) {
  if (data.empty()) return;
  const auto piece = static_cast<unsigned char>(data[0]) % 8 + 1;
  data.remove_prefix(1);
  FUZZ_CHECK(steps(data, 0) == steps(data, piece));
}
