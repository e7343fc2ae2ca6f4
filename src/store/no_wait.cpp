// Reads that never wait for the disk; see no_wait.hpp.
#include "store/no_wait.hpp"

namespace postino::store {
namespace {

thread_local bool in_scope = false;
thread_local bool blocked = false;

}  // namespace

NoWaitScope::NoWaitScope() : outer_(!in_scope) {
  if (outer_) {
    in_scope = true;
    blocked = false;
  }
}

NoWaitScope::~NoWaitScope() {
  if (outer_) {
    in_scope = false;
    blocked = false;
  }
}

bool no_wait() {
  return in_scope;
}

void note_would_block() {
  if (in_scope) blocked = true;
}

bool would_have_blocked() {
  return in_scope && blocked;
}

}  // namespace postino::store
