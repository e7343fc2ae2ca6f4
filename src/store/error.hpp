// Storage errors as protocol-neutral kinds (STYLE.md example 7). Each protocol maps them
// once: SMTP 451/452, IMAP NO [code], POP3 -ERR [SYS/…]. Store calls return values and
// never throw on bad input.
#pragma once

#include <boost/system/result.hpp>

#include <stdexcept>
#include <string>

namespace postino::store {

enum class ErrorKind {
  temporary,       // try again later: busy database, I/O error, fsync failure
  no_space,        // the disk is full (SMTP 452 4.3.1)
  not_found,       // no such domain, user, mailbox or message
  already_exists,  // the name is taken
  over_quota,      // the account's quota would be exceeded
  in_use,          // something depends on it (a domain with users, …)
  too_big,         // over a size limit
  invalid,         // a name or value that is not allowed
  corrupt,         // stored data failed its checks
  would_block,     // inside a NoWaitScope: not made, it would have waited (no_wait.hpp)
};

const char* to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::temporary;
  std::string detail;  // for logs and the admin; protocols show their own text
};

class StoreException : public std::runtime_error {
 public:
  explicit StoreException(Error e) : std::runtime_error(e.detail), error(std::move(e)) {}
  Error error;
};

// Lets result<T, Error>::value() throw.
[[noreturn]] inline void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw StoreException(e);
}

template <class T>
using Result = boost::system::result<T, Error>;

inline Error make_error(ErrorKind kind, std::string detail) {
  return Error{kind, std::move(detail)};
}

}  // namespace postino::store
