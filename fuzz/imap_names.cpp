// IMAP mailbox names and sets (imap/wire): modified UTF-7 decodes only what RFC 3501
// §5.1.3 allows and what it decodes encodes back to the same bytes; any UTF-8 name
// survives encode then decode; sequence sets, SEARCHRES "$" sets and section specs parse
// or refuse without harm.
#include <algorithm>
#include <string>
#include <vector>

#include "fuzz.hpp"
#include "imap/wire/mailbox_name.hpp"
#include "imap/wire/section.hpp"
#include "imap/wire/sequence_set.hpp"

using namespace postino::imap::wire;

POSTINO_FUZZ_TARGET(imap_names) {
  if (const auto utf8 = decode_mutf7(data)) {
    FUZZ_CHECK(encode_mutf7(*utf8) == data);
    const bool has_control = std::any_of(utf8->begin(), utf8->end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    FUZZ_CHECK(decode_utf8_name(*utf8).has_value() == !has_control);
  }
  if (const auto utf8 = decode_utf8_name(data)) {
    FUZZ_CHECK(decode_mutf7(encode_mutf7(*utf8)) == *utf8);
  }
  if (const auto set = SequenceSet::parse(data)) {
    std::vector<std::uint32_t> in;
    for (std::uint32_t n = 1; n <= 64; ++n) {
      if (set->contains(n, 64)) in.push_back(n);
    }
    const auto again = SequenceSet::parse(format_sequence_set(in));
    FUZZ_CHECK(in.empty() || again);
    for (std::uint32_t n = 1; n <= 64 && again; ++n) {
      FUZZ_CHECK(again->contains(n, 64) == set->contains(n, 64));
      FUZZ_CHECK(SequenceSet::of(in).contains(n, 64) == set->contains(n, 64));
    }
  }
  (void)parse_section(data);
  (void)list_matches(data, "INBOX/Sub/Deeper");
}
