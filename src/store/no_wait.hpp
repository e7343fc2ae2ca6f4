// Reads that never wait for the disk. An event loop must not block, so every store call
// goes to a worker thread, and a trip there and back costs more than the call itself when
// what it reads is in memory (on the reference machine a sleeping worker's wake-up is
// 0.1-0.3 ms; a mailbox's summary read from cached pages takes 8 us). Inside a NoWaitScope
// the store answers from memory and the page cache only: a read that would wait for the
// disk (or for a lock, or for a connection to be opened) is not made, and the call fails
// at once with ErrorKind::would_block; the caller then makes the same call on a worker.
#pragma once

namespace postino::store {

class NoWaitScope {
 public:
  NoWaitScope();
  ~NoWaitScope();
  NoWaitScope(const NoWaitScope&) = delete;
  NoWaitScope& operator=(const NoWaitScope&) = delete;

 private:
  bool outer_;
};

// Inside a NoWaitScope on this thread.
bool no_wait();
// For the store's implementations: a read could not be made without waiting. Each call
// inside the scope then fails with would_block.
void note_would_block();
bool would_have_blocked();

}  // namespace postino::store
