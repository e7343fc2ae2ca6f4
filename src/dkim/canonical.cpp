// See canonical.hpp.
#include "dkim/canonical.hpp"

namespace postino::dkim {
namespace {

bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}

}  // namespace

std::string relaxed_header(std::string_view name, std::string_view value) {
  std::string out;
  out.reserve(name.size() + value.size() + 3);
  for (char c : name) {
    if (is_wsp(c)) continue;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  out.push_back(':');
  bool space = false;
  bool started = false;
  for (char c : value) {
    if (c == '\r' || c == '\n') continue;  // unfolding
    if (is_wsp(c)) {
      space = started;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    started = true;
    out.push_back(c);
  }
  out += "\r\n";
  return out;
}

void RelaxedBody::end_line(std::string& out) {
  pending_space_ = false;  // white space at a line end goes
  if (line_.empty()) {
    ++empty_lines_;
    return;
  }
  for (; empty_lines_ > 0; --empty_lines_) out += "\r\n";
  out += line_;
  out += "\r\n";
  line_.clear();
}

std::string RelaxedBody::feed(std::string_view chunk) {
  std::string out;
  for (char c : chunk) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (c == '\n') {
        end_line(out);
        continue;
      }
      // A CR inside a line is text.
      if (pending_space_) line_.push_back(' ');
      pending_space_ = false;
      line_.push_back('\r');
    }
    if (c == '\r') {
      pending_cr_ = true;
    } else if (c == '\n') {
      end_line(out);
    } else if (is_wsp(c)) {
      pending_space_ = true;
    } else {
      if (pending_space_) line_.push_back(' ');
      pending_space_ = false;
      line_.push_back(c);
    }
  }
  return out;
}

std::string RelaxedBody::finish() {
  std::string out;
  if (pending_cr_) {
    pending_cr_ = false;
    if (pending_space_) line_.push_back(' ');
    pending_space_ = false;
    line_.push_back('\r');
  }
  // A last line without a line end gets one (RFC 6376 §3.4.4); empty lines at the end and
  // an empty body stay out.
  if (!line_.empty()) end_line(out);
  return out;
}

}  // namespace postino::dkim
