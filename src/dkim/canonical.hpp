// DKIM "relaxed" canonicalization (RFC 6376 §3.4.2, §3.4.4), the only one Postino signs
// with: it survives the re-folding and white-space changes relays make. Pure.
#pragma once

#include <string>
#include <string_view>

namespace postino::dkim {

// One header field as it enters the signature: name lower-cased, value unfolded, runs of
// white space made one space, white space around the colon and at the end removed;
// "name:value\r\n".
std::string relaxed_header(std::string_view name, std::string_view value);

// The body as it enters the body hash, fed in pieces of any size: runs of white space in
// a line made one space, white space at line ends removed, empty lines at the end removed,
// every line ended with CRLF (a bare LF counts as a line end). An empty body stays empty.
class RelaxedBody {
 public:
  // Returns the canonical bytes that are certain so far.
  std::string feed(std::string_view chunk);
  // The rest, at the end of the body.
  std::string finish();

 private:
  void end_line(std::string& out);
  std::string line_;             // the current line, canonical so far (without trailing WSP)
  bool pending_space_ = false;   // white space seen after the last other character
  bool pending_cr_ = false;      // a CR that may begin the line end
  std::size_t empty_lines_ = 0;  // empty lines held back: they count only if text follows
};

}  // namespace postino::dkim
