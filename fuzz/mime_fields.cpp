// Header field values as the server reads them (mime/): addresses with groups and
// source routes, RFC 2047 words, RFC 2231 parameters, dates with zones, header blocks,
// base64 and quoted-printable bodies; SORT's base subject and the DKIM canonical forms.
#include <string>

#include "dkim/canonical.hpp"
#include "fuzz.hpp"
#include "imap/sort.hpp"
#include "mime/address.hpp"
#include "mime/date.hpp"
#include "mime/encoded_word.hpp"
#include "mime/header.hpp"
#include "mime/transfer.hpp"

using namespace postino;

POSTINO_FUZZ_TARGET(mime_fields) {
  (void)mime::parse_address_list(data);
  (void)mime::decode_encoded_words(data);
  const auto days = mime::date_days(data);
  const auto seconds = mime::date_time(data);
  FUZZ_CHECK(days.has_value() == seconds.has_value());
  (void)mime::parse_header(data);
  (void)mime::parse_content_type(data);
  (void)mime::parse_disposition(data);
  (void)mime::decode_transfer(data, "base64");
  (void)mime::decode_transfer(data, "quoted-printable");
  (void)imap::sort::base_subject(data);
  (void)imap::sort::message_ids(data);
  // The body canonical form is the same however the body is cut, and canonical already.
  dkim::RelaxedBody whole, pieces, again;
  auto once = whole.feed(data);
  once += whole.finish();
  std::string cut;
  for (std::size_t i = 0; i < data.size(); i += 3) cut += pieces.feed(data.substr(i, 3));
  cut += pieces.finish();
  FUZZ_CHECK(once == cut);
  auto twice = again.feed(once);
  twice += again.finish();
  FUZZ_CHECK(twice == once);
  (void)dkim::relaxed_header("Subject", data);
}
