// The SMTP DATA reader (smtp/wire/data_reader.hpp) against a reference model of where a
// message ends: the first <CRLF>.<CRLF>, the DATA line's CRLF counting as the first
// (RFC 5321 §4.1.1.4; every other variant is message text, RELIABILITY S01/S02). Any
// disagreement, or a different message when the same bytes come in pieces, is a crash.
#include <string>

#include "fuzz.hpp"
#include "smtp/wire/data_reader.hpp"

namespace {

using postino::smtp::wire::DataReader;

struct Outcome {
  bool done;
  std::size_t consumed;
  std::string message;
  bool too_big;
  bool bare_lf;
  bool operator==(const Outcome&) const = default;
};

Outcome read(std::string_view data, std::size_t piece, std::uint64_t max_bytes) {
  DataReader reader(max_bytes);
  std::size_t consumed = 0;
  while (consumed < data.size() && !reader.done()) {
    const auto n = std::min(piece, data.size() - consumed);
    const auto took = reader.feed(data.substr(consumed, n));
    FUZZ_CHECK(took <= n);
    FUZZ_CHECK(took == n || reader.done());  // it stops early only at the end of data
    consumed += took;
  }
  return {reader.done(), consumed, reader.message(), reader.is_too_big(), reader.saw_bare_lf()};
}

}  // namespace

POSTINO_FUZZ_TARGET(smtp_data) {
  if (data.size() < 2) return;
  const auto piece = static_cast<unsigned char>(data[0]) % 16 + 1;
  const std::uint64_t max_bytes = static_cast<unsigned char>(data[1]) * 4;
  data.remove_prefix(2);
  // The model: "\r\n" + data holds "\r\n.\r\n" first at `at`; the data ends after it.
  const auto at = ("\r\n" + std::string(data)).find("\r\n.\r\n");
  const auto whole = read(data, data.size() + 1, max_bytes);
  FUZZ_CHECK(whole.done == (at != std::string::npos));
  if (whole.done) FUZZ_CHECK(whole.consumed == at + 3);
  FUZZ_CHECK(read(data, piece, max_bytes) == whole);
  FUZZ_CHECK(whole.message.size() <= max_bytes);
}
