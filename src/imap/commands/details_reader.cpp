#include "imap/commands/details_reader.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <system_error>

namespace postino::imap {

DetailsReader::DetailsReader(store::Store& store, store::AccountId account,
                             store::MailboxId mailbox, std::vector<store::Uid> uids,
                             store::Store::DetailParts parts, std::size_t batch,
                             bool read_ahead_from_start)
    : store_(store),
      account_(account),
      mailbox_(mailbox),
      uids_(std::move(uids)),
      parts_(parts),
      batch_(std::max<std::size_t>(batch, 1)),
      reading_ahead_(read_ahead_from_start) {}

DetailsReader::~DetailsReader() {
  for (auto& b : ahead_) {
    if (b.details.valid()) b.details.wait();
  }
  if (hint_.valid()) hint_.wait();
}

namespace {

// What the calling thread has read from block devices so far (512-byte units).
long blocks_read() {
  rusage usage{};
  return getrusage(RUSAGE_THREAD, &usage) == 0 ? usage.ru_inblock : 0;
}

}  // namespace

DetailsReader::Batch DetailsReader::plan(std::size_t from) const {
  Batch b{from, from, {}};
  const auto first = uids_[from].value;
  while (b.to + 1 < uids_.size() && b.to + 1 - from < batch_ &&
         uids_[b.to + 1].value - first <= 4 * (b.to + 1 - from) + 64) {
    ++b.to;
  }
  return b;
}

std::function<DetailsReader::Details()> DetailsReader::read(std::size_t from,
                                                            std::size_t to) const {
  // By value: the read needs nothing of this object but the store, which outlives it.
  return [&store = store_, account = account_, mailbox = mailbox_, first = uids_[from],
          last = uids_[to],
          parts = parts_] { return store.messages_details(account, mailbox, first, last, parts); };
}

void DetailsReader::hint() {
  // From what is neither told nor read yet (nothing, when the batches read cover the rest).
  const auto from = std::max(hinted_, planned_);
  if (from >= uids_.size() || hinted_ > planned_ + hint_messages / 2) return;
  if (hint_.valid() && hint_.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    return;  // still telling of the window before
  const auto to = std::min(from + hint_messages, uids_.size()) - 1;
  try {
    // Its own thread: the store walks b-tree pages and reads the messages' ids, which
    // may wait for the disk, while the batches go on.
    hint_ = std::async(std::launch::async, [&store = store_, account = account_, mailbox = mailbox_,
                                            first = uids_[from], last = uids_[to], parts = parts_] {
      store.read_ahead(account, mailbox, first, last, parts);
    });
  } catch (const std::system_error&) {
    return;  // no thread to be had: the batches read without the hint
  }
  hinted_ = to + 1;
}

void DetailsReader::read_ahead() {
  hint();
  while (ahead_.size() < batches_ahead && planned_ < uids_.size()) {
    auto b = plan(planned_);
    try {
      b.details = std::async(std::launch::async, read(b.from, b.to));
    } catch (const std::system_error&) {
      // No thread to be had (a process limit): the rest is read here, batch by batch.
      reading_ahead_ = false;
      return;
    }
    planned_ = b.to + 1;
    ahead_.push_back(std::move(b));
  }
}

std::optional<store::MessageDetails> DetailsReader::take(std::size_t i) {
  if (i >= uids_.size()) return std::nullopt;
  if (!started_ || i > current_to_) {
    current_.clear();
    cursor_ = 0;
    if (ahead_.empty()) {
      // Read here and now until a batch is slow (a FETCH of a few messages, or of many
      // whose rows are in memory, starts no thread).
      auto b = plan(i);
      const auto before = blocks_read();
      auto details = read(b.from, b.to)();
      if (blocks_read() - before > slow_blocks) reading_ahead_ = true;
      if (details) current_ = std::move(*details);
      current_to_ = b.to;
      planned_ = std::max(planned_, b.to + 1);
    } else {
      auto b = std::move(ahead_.front());
      ahead_.pop_front();
      auto details = b.details.get();
      if (details) current_ = std::move(*details);
      current_to_ = b.to;
    }
    started_ = true;
    if (reading_ahead_) read_ahead();
    if (i > current_to_) return take(i);  // skipped past a batch (not done by FETCH)
  }
  while (cursor_ < current_.size() && current_[cursor_].info.uid < uids_[i]) ++cursor_;
  if (cursor_ == current_.size() || current_[cursor_].info.uid != uids_[i]) return std::nullopt;
  return std::move(current_[cursor_++]);
}

}  // namespace postino::imap
