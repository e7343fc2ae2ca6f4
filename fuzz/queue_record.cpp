// Queue records round trip (RELIABILITY S07, F07): whatever bytes a queue entry is made of
// (a sender, ENVID, ORCPT and replies with CR, LF and NUL in them, empty and long values),
// what the store gives back is exactly what was put in: the entry, its body, and the
// replies and statuses an attempt recorded. The input is read as length-prefixed fields,
// so any byte can be in any field.
#include <algorithm>
#include <string>

#include "session_driver.hpp"

using namespace postino;

namespace {

// The input, read field by field: a length byte (scaled, so that long values come up),
// then that many bytes; short input gives short or empty fields.
class Fields {
 public:
  explicit Fields(std::string_view data) : data_(data) {}
  std::uint8_t byte() {
    if (data_.empty()) return 0;
    const auto b = static_cast<std::uint8_t>(data_.front());
    data_.remove_prefix(1);
    return b;
  }
  std::string text() {
    const std::size_t length = byte();
    // Above 200: a long value (up to 20 KB, RELIABILITY S07's long ORCPT), repeated bytes.
    const std::size_t n = length > 200 ? (length - 200) * 400 : length;
    std::string out(data_.substr(0, std::min(n, data_.size())));
    data_.remove_prefix(out.size());
    if (out.size() < n && !out.empty()) {
      while (out.size() < n) out += out.substr(0, n - out.size());
    }
    return out;
  }

 private:
  std::string_view data_;
};

std::string read_all(store::BlobReader& reader) {
  std::string out;
  char buf[4096];
  for (;;) {
    auto n = reader.read(buf, sizeof buf);
    FUZZ_CHECK(n);
    if (*n == 0) return out;
    out.append(buf, *n);
  }
}

}  // namespace

POSTINO_FUZZ_TARGET(queue_record) {
  auto& store = fuzz::FuzzStore::get().store();
  Fields in(data);
  store::NewQueueEntry entry;
  entry.sender = in.text();
  entry.envid = in.text();
  entry.ret = in.byte() % 3;
  const int count = in.byte() % 6 + 1;
  for (int i = 0; i < count; ++i) {
    auto address = in.text();
    auto orcpt = in.text();
    entry.recipients.push_back({address, orcpt, static_cast<std::uint32_t>(in.byte() & 15)});
  }
  store::Acceptance a;
  a.remote = entry;
  a.remote_message = in.text();
  auto accepted = store.accept(a);
  FUZZ_CHECK(accepted);
  const auto id = accepted->queue_id;
  auto stored = store.queue_entry(id);
  FUZZ_CHECK(stored);
  FUZZ_CHECK(stored->sender == entry.sender);
  FUZZ_CHECK(stored->envid == entry.envid);
  FUZZ_CHECK(stored->ret == entry.ret);
  FUZZ_CHECK(stored->size == static_cast<std::int64_t>(a.remote_message.size()));
  FUZZ_CHECK(stored->recipients.size() == entry.recipients.size());
  for (std::size_t i = 0; i < entry.recipients.size(); ++i) {
    FUZZ_CHECK(stored->recipients[i].address == entry.recipients[i].address);
    FUZZ_CHECK(stored->recipients[i].orcpt == entry.recipients[i].orcpt);
    FUZZ_CHECK(stored->recipients[i].notify == entry.recipients[i].notify);
    FUZZ_CHECK(stored->statuses[i] == 0);
  }
  auto body = store.open_queued(id);
  FUZZ_CHECK(body);
  FUZZ_CHECK(read_all(**body) == a.remote_message);

  // An attempt: some recipients delivered or failed with a reply, the others pending.
  store::QueueAttempt attempt;
  attempt.next_attempt = store::SystemClock::now() + std::chrono::hours(1);
  std::vector<int> statuses(entry.recipients.size(), 0);
  std::vector<std::string> replies(entry.recipients.size());
  for (std::size_t i = 0; i < entry.recipients.size(); ++i) {
    const int status = in.byte() % 3;
    auto reply = in.text();
    if (status == 0) continue;
    statuses[i] = status;
    replies[i] = reply;
    attempt.recipients.push_back({i, status, reply});
  }
  FUZZ_CHECK(store.finish_attempt(id, "fuzz", attempt));
  auto after = store.queue_entry(id);
  if (std::count(statuses.begin(), statuses.end(), 0) == 0) {
    FUZZ_CHECK(!after && after.error().kind == store::ErrorKind::not_found);  // all done
    return;
  }
  FUZZ_CHECK(after);
  FUZZ_CHECK(after->attempts == 1);
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    FUZZ_CHECK(after->statuses[i] == statuses[i]);
    if (statuses[i] != 0) FUZZ_CHECK(after->last_replies[i] == replies[i]);
  }
  FUZZ_CHECK(store.change_queue(id, store::QueueAction::remove));
}
