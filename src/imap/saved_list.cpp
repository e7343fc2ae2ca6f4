#include "imap/saved_list.hpp"

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <limits>

namespace postino::imap {
namespace {

constexpr std::string_view magic = "PSTLIST1";

void put(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

std::uint32_t crc_of(std::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes a uInt length: large inputs in pieces.
  while (!bytes.empty()) {
    const auto n = std::min<std::size_t>(bytes.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(n));
    bytes.remove_prefix(n);
  }
  return static_cast<std::uint32_t>(crc);
}

// Reads varints from bytes, failing once for good on a short or overlong one.
struct Reader {
  std::string_view in;
  bool ok = true;
  std::uint64_t next(std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
    std::uint64_t v = 0;
    for (int shift = 0; ok; shift += 7) {
      if (in.empty() || shift > 63) {
        ok = false;
        break;
      }
      const auto byte = static_cast<unsigned char>(in.front());
      in.remove_prefix(1);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) break;
    }
    if (v > max) ok = false;
    return ok ? v : 0;
  }
  std::string_view take(std::size_t n) {
    if (!ok || in.size() < n) {
      ok = false;
      return {};
    }
    auto out = in.substr(0, n);
    in.remove_prefix(n);
    return out;
  }
};

}  // namespace

std::string encode_saved_list(store::MailboxId mailbox, store::UidValidity uid_validity,
                              store::ModSeq highest_mod_seq,
                              const std::vector<store::MessageInfo>& messages) {
  std::string out(magic);
  out.reserve(16 * messages.size() + 64);
  put(out, static_cast<std::uint64_t>(mailbox.value));
  put(out, uid_validity.value);
  put(out, highest_mod_seq.value);
  put(out, messages.size());
  std::uint32_t previous = 0;
  for (const auto& m : messages) {
    put(out, m.uid.value - previous);
    previous = m.uid.value;
    put(out, m.mod_seq.value);
    put(out, m.flags.system);
    put(out, zigzag(m.size));
    put(out,
        zigzag(std::chrono::duration_cast<std::chrono::seconds>(m.internal_date.time_since_epoch())
                   .count()));
    put(out, m.flags.keywords.size());
    for (const auto& k : m.flags.keywords) {
      put(out, k.size());
      out += k;
    }
  }
  const auto crc = crc_of(out);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return out;
}

std::optional<SavedList> decode_saved_list(std::string_view bytes) {
  if (bytes.size() < magic.size() + 4 || bytes.substr(0, magic.size()) != magic)
    return std::nullopt;
  const auto body = bytes.substr(0, bytes.size() - 4);
  std::uint32_t crc = 0;
  for (int i = 0; i < 4; ++i)
    crc |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[body.size() + i]))
           << (8 * i);
  if (crc != crc_of(body)) return std::nullopt;
  Reader r{body.substr(magic.size())};
  constexpr auto u32 = std::numeric_limits<std::uint32_t>::max();
  SavedList out;
  out.mailbox = store::MailboxId(static_cast<std::int64_t>(
      r.next(static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))));
  out.uid_validity = store::UidValidity(static_cast<std::uint32_t>(r.next(u32)));
  out.highest_mod_seq = store::ModSeq(r.next());
  // Each message takes at least six bytes: a count beyond that is damage, not a size.
  const auto count = r.next(r.in.size() / 6);
  if (!r.ok) return std::nullopt;
  store::reserve_messages(out.messages, count);
  std::uint64_t uid = 0;
  for (std::uint64_t i = 0; i < count && r.ok; ++i) {
    store::MessageInfo m;
    const auto step = r.next(u32);
    uid += step;
    if (step == 0 || uid > u32) return std::nullopt;
    m.uid = store::Uid(static_cast<std::uint32_t>(uid));
    m.mod_seq = store::ModSeq(r.next());
    m.flags.system = static_cast<std::uint32_t>(r.next(u32));
    m.size = unzigzag(r.next());
    m.internal_date = store::SystemClock::time_point(std::chrono::seconds(unzigzag(r.next())));
    const auto keywords = r.next(r.in.size());
    for (std::uint64_t k = 0; k < keywords && r.ok; ++k) {
      m.flags.keywords.emplace_back(r.take(r.next(r.in.size())));
    }
    out.messages.push_back(std::move(m));
  }
  if (!r.ok || !r.in.empty()) return std::nullopt;
  return out;
}

}  // namespace postino::imap
