// Store errors as IMAP responses (STYLE.md example 7, RFC 5530 codes), mapped in one place.
#pragma once

#include <string>

#include "store/error.hpp"

namespace postino::imap {

// "NO [CODE] text" for a store error.
inline std::string no_for(const store::Error& e) {
  switch (e.kind) {
    case store::ErrorKind::not_found:
      return "NO [NONEXISTENT] No such mailbox";
    case store::ErrorKind::already_exists:
      return "NO [ALREADYEXISTS] Mailbox already exists";
    case store::ErrorKind::invalid:
      return "NO [CANNOT] Invalid mailbox name";
    case store::ErrorKind::in_use:
      return "NO [HASCHILDREN] Mailbox has children, delete them first";  // RFC 9051 §7.1
    case store::ErrorKind::over_quota:
      return "NO [OVERQUOTA] Quota exceeded";
    case store::ErrorKind::no_space:  // the server's disk, not the user's quota
      return "NO [UNAVAILABLE] The server is short of disk space, try again later";
    case store::ErrorKind::too_big:
      return "NO [TOOBIG] Too big";
    case store::ErrorKind::temporary:
    case store::ErrorKind::would_block:  // a call made again on a worker never gives it
      return "NO [UNAVAILABLE] Temporary failure, try again later";
    case store::ErrorKind::corrupt:  // `postino fsck` tells more
      return "NO [SERVERBUG] The message store is damaged";
  }
  return "NO [SERVERBUG] Internal error";
}

}  // namespace postino::imap
