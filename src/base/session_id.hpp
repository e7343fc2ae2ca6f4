// Session identifiers: short random tokens that tag every log line of one connection.
#pragma once

#include <string>

namespace postino::base {

class SessionId {
 public:
  SessionId() = default;
  // A fresh random id such as "S4KQ7ZP2M"; unique enough to follow one session in the logs.
  static SessionId generate();
  const std::string& str() const { return value_; }
  bool operator==(const SessionId&) const = default;

 private:
  explicit SessionId(std::string v) : value_(std::move(v)) {}
  std::string value_ = "-";
};

}  // namespace postino::base
