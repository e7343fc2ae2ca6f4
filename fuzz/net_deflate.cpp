// COMPRESS=DEFLATE input (net/deflate.hpp): whatever a client sends, each inflate step
// gives at most what it was allowed, and what the server compresses inflates back to
// the same bytes.
#include <string>

#include "fuzz.hpp"
#include "net/deflate.hpp"

using postino::net::Deflate;

POSTINO_FUZZ_TARGET(net_deflate) {
  Deflate d;
  FUZZ_CHECK(d.is_ready());
  d.feed(data);
  for (int steps = 0; d.has_pending() && steps < 4096; ++steps) {
    std::string out;
    if (d.inflate(out, 4096) == Deflate::Result::error) break;
    FUZZ_CHECK(out.size() <= 4096);
    if (out.empty()) break;
  }
  // Round trip of the input itself through a fresh pair of streams.
  Deflate server, client_side;
  std::string wire;
  FUZZ_CHECK(server.compress(data, wire));
  client_side.feed(wire);
  std::string text;
  while (client_side.has_pending()) {
    FUZZ_CHECK(client_side.inflate(text, 65536) == Deflate::Result::ok);
  }
  FUZZ_CHECK(client_side.inflate(text, 65536) == Deflate::Result::ok);
  FUZZ_CHECK(text == data);
}
