// The DATA reader (RFC 5321 §4.1.1.4, §4.5.2): collects the message text up to the
// end-of-data line, removing dot-stuffing and writing every line end as CRLF. Only
// <CRLF>.<CRLF> ends the data: "\n.\n", "\r.\r\n" and every other variant stay message
// text (SMTP smuggling, RELIABILITY S01/S02). A bare LF ends a line (Postfix's
// `normalize`) or, by policy, makes the message refused once it has been read. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace postino::smtp::wire {

class DataReader {
 public:
  // `max_bytes`: the message is collected up to this size; past it the rest is read and
  // thrown away, and is_too_big() is set (SMTP 552 after the dot).
  explicit DataReader(std::uint64_t max_bytes) : max_bytes_(max_bytes) {}

  // Consumes bytes from `input`. Returns the number consumed; done() is true once the
  // end-of-data line was consumed (anything after it is the next command).
  std::size_t feed(std::string_view input);

  bool done() const { return done_; }
  bool is_too_big() const { return too_big_; }
  bool saw_bare_lf() const { return saw_bare_lf_; }
  // Total size of the text as received (dot-stuffing removed), even past the limit.
  std::uint64_t size() const { return size_; }
  std::string& message() { return message_; }

 private:
  void emit(std::string_view bytes);

  std::uint64_t max_bytes_;
  std::string message_;
  std::uint64_t size_ = 0;
  bool done_ = false;
  bool too_big_ = false;
  bool saw_bare_lf_ = false;
  // Where we are in the current line.
  bool at_line_start_ = true;
  bool line_is_lone_dot_ = false;   // the line so far is exactly "." (stuffing removed)
  bool pending_cr_ = false;         // a CR was the last byte seen; emitted unless LF follows
  bool previous_line_crlf_ = true;  // the DATA command line ended the line before
};

}  // namespace postino::smtp::wire
