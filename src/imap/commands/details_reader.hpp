// The details (MIME structure, envelope fields) of the messages one FETCH answers, read
// from the store a batch at a time: one query for up to 256 messages of a dense UID range
// rather than one per message. Once a batch was slow to read (its rows came from the disk,
// not from the page cache), the rest are read ahead: the next batches' queries run on threads
// of their own, several at once, while the session makes the responses of this one.
// `FETCH 1:* (ENVELOPE)` of 100,000 messages after the page cache was emptied: 620 ->
// 360 ms. Only then: with the rows in memory, reading ahead saved no time and cost half
// as much CPU again (the threads, and memory allocated on one and freed on another).
// Reading ahead also tells the store which messages come next (Store::read_ahead), a window
// of hint_messages at a time, so that the disk is asked for all of their pages together
// rather than for a few batches' pages at a time.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <optional>
#include <vector>

#include "store/store.hpp"

namespace postino::imap {

class DetailsReader {
 public:
  static constexpr std::size_t batch_messages = 256;
  static constexpr std::size_t batches_ahead = 3;  // queries in flight beside the session
  // A batch that made this thread read more than this from the disk (512-byte units, as
  // getrusage counts them: two pages of store.db) was slow. Not timed: a batch read from
  // memory takes long too when the thread waits for a core.
  static constexpr long slow_blocks = 64;
  // Messages the store is told of at once (Store::read_ahead), and again when the batches
  // read reach the middle of them: a window, so that FETCH 1:* of a huge mailbox does not
  // fill the page cache, nor queue the reads of its first batches behind all the others.
  static constexpr std::size_t hint_messages = 16384;

  DetailsReader(store::Store& store, store::AccountId account, store::MailboxId mailbox,
                std::vector<store::Uid> uids, store::Store::DetailParts parts,
                std::size_t batch = batch_messages, bool read_ahead_from_start = false);
  // Waits for the reads in flight (they use the store, and their results nothing).
  ~DetailsReader();
  DetailsReader(const DetailsReader&) = delete;
  DetailsReader& operator=(const DetailsReader&) = delete;

  // The details of uids[i], asked in increasing i; nullopt when they could not be read
  // with the batch (the message expunged meanwhile, or the query failed): the caller then
  // asks the store for that message alone.
  std::optional<store::MessageDetails> take(std::size_t i);

  // Whether the batches after the current one are read ahead (a batch was slow, or
  // read_ahead_from_start).
  bool reading_ahead() const { return reading_ahead_; }

 private:
  using Details = store::Result<std::vector<store::MessageDetails>>;
  struct Batch {
    std::size_t from = 0, to = 0;  // indexes into uids_, both included
    std::future<Details> details;
  };
  // The batch from `from` on: up to batch_ messages, while the UIDs stay dense enough
  // that the range does not read many messages the FETCH does not ask for.
  Batch plan(std::size_t from) const;
  // The read of uids_[from] to uids_[to], to run here or on another thread.
  std::function<Details()> read(std::size_t from, std::size_t to) const;
  // Starts reads until batches_ahead are in flight or every index is planned.
  void read_ahead();
  // Tells the store of the next window of messages when the last one is half read.
  void hint();

  store::Store& store_;
  store::AccountId account_;
  store::MailboxId mailbox_;
  std::vector<store::Uid> uids_;
  store::Store::DetailParts parts_;
  std::size_t batch_;
  std::deque<Batch> ahead_;
  std::size_t planned_ = 0;                     // indexes below are in a batch read or in flight
  std::vector<store::MessageDetails> current_;  // of the batch being taken, in UID order
  std::size_t current_to_ = 0;                  // its last index
  std::size_t cursor_ = 0;                      // into current_
  bool started_ = false;
  bool reading_ahead_ = false;  // a batch was slow: the rest are read ahead
  std::size_t hinted_ = 0;      // indexes below were told to the store
  std::future<void> hint_;      // the store being told
};

}  // namespace postino::imap
