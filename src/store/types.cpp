// Names of store enumerations; see types.hpp and error.hpp.
#include "store/types.hpp"
#include "store/error.hpp"

namespace postino::store {

const char* to_string(SpecialUse s) {
  switch (s) {
    case SpecialUse::none:
      return "";
    case SpecialUse::sent:
      return "\\Sent";
    case SpecialUse::drafts:
      return "\\Drafts";
    case SpecialUse::trash:
      return "\\Trash";
    case SpecialUse::junk:
      return "\\Junk";
    case SpecialUse::archive:
      return "\\Archive";
  }
  return "";
}

QueueState queue_state(const QueueEntry& e, SystemClock::time_point now) {
  if (e.is_held) return QueueState::held;
  if (!e.claimed_by.empty() && e.lease_until > now) return QueueState::active;
  return e.attempts > 0 ? QueueState::deferred : QueueState::incoming;
}

const char* to_string(QueueState s) {
  switch (s) {
    case QueueState::incoming:
      return "incoming";
    case QueueState::active:
      return "active";
    case QueueState::deferred:
      return "deferred";
    case QueueState::held:
      return "held";
  }
  return "?";
}

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::temporary:
      return "temporary";
    case ErrorKind::no_space:
      return "no_space";
    case ErrorKind::not_found:
      return "not_found";
    case ErrorKind::already_exists:
      return "already_exists";
    case ErrorKind::over_quota:
      return "over_quota";
    case ErrorKind::in_use:
      return "in_use";
    case ErrorKind::too_big:
      return "too_big";
    case ErrorKind::invalid:
      return "invalid";
    case ErrorKind::corrupt:
      return "corrupt";
    case ErrorKind::would_block:
      return "would_block";
  }
  return "?";
}

}  // namespace postino::store
