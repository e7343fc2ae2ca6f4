// SMTP command lines and their arguments as the server reads them (smtp/wire): the verb,
// MAIL and RCPT parameters with their limits, xtext both ways; and SMTP replies as the
// outbound client reads them from a hostile peer (smtp/client/reply.hpp, RELIABILITY F07).
#include <string>

#include "fuzz.hpp"
#include "smtp/client/reply.hpp"
#include "smtp/wire/command.hpp"
#include "smtp/wire/envelope.hpp"

using namespace postino::smtp;

POSTINO_FUZZ_TARGET(smtp_commands) {
  const auto cmd = wire::parse_command(data);
  FUZZ_CHECK(cmd.argument.size() <= data.size());
  (void)wire::is_valid_helo_argument(cmd.argument);
  (void)wire::parse_mail_from(cmd.argument);
  (void)wire::parse_rcpt_to(cmd.argument);
  (void)wire::parse_mail_from(data);
  (void)wire::parse_rcpt_to(data);
  if (const auto text = wire::decode_xtext(data)) {
    FUZZ_CHECK(wire::decode_xtext(wire::encode_xtext(*text)) == text);
  }
  const auto encoded = wire::encode_xtext(data);
  const auto decoded = wire::decode_xtext(encoded);
  // Control characters do not survive decoding (RFC 3461 §4); everything else does.
  if (decoded) FUZZ_CHECK(*decoded == data);

  client::ReplyReader reader({256, 20});
  std::string input(data);
  for (int guard = 0; guard < 100000; ++guard) {
    const auto before = input.size();
    const auto step = reader.next(input);
    FUZZ_CHECK(input.size() <= before);
    if (step.kind != client::ReplyReader::Step::Kind::reply) break;
    FUZZ_CHECK(step.reply.code >= 200 && step.reply.code <= 599);
    FUZZ_CHECK(input.size() < before);
  }
}
