// SMTP replies as a client reads them (RFC 5321 §4.2): "250-first", "250 last", with
// an enhanced status code (RFC 3463 "2.1.5") when the peer gives one. Pure and bounded:
// a hostile or broken peer (RELIABILITY F07) gets a protocol error, never unbounded
// memory or a reply that is half another one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace postino::smtp::client {

struct Reply {
  int code = 0;                    // 200 … 599
  std::string enhanced;            // "2.1.5", or "" when the peer gave none
  std::vector<std::string> lines;  // the text of each line, code and separator removed

  bool is_positive() const { return code >= 200 && code < 400; }
  bool is_temporary() const { return code >= 400 && code < 500; }
  bool is_permanent() const { return code >= 500; }
  // "250 2.1.5 text" on one line, for logs, the queue and bounces.
  std::string summary() const;
};

struct ReplyLimits {
  std::size_t max_line_bytes = 4096;  // RFC 5321 §4.5.3.1.5 says 512; peers exceed it
  std::size_t max_lines = 200;
};

class ReplyReader {
 public:
  using Limits = ReplyLimits;
  struct Step {
    enum class Kind { need_more, reply, error } kind = Kind::need_more;
    Reply reply;        // for `reply`
    std::string error;  // for `error`: why the peer's bytes are not SMTP
  };

  explicit ReplyReader(Limits limits = {}) : limits_(limits) {}
  // Takes what it can from the front of `input`: one whole reply, or nothing. After an
  // error the reader is not usable; the connection is to be dropped.
  Step next(std::string& input);

 private:
  Limits limits_;
  Reply partial_;
};

}  // namespace postino::smtp::client
