// POP3 command lines (pop3/wire/command.hpp): parsed or refused, never more arguments
// than the line holds.
#include <string>

#include "fuzz.hpp"
#include "pop3/wire/command.hpp"

POSTINO_FUZZ_TARGET(pop3_command) {
  postino::pop3::wire::Command cmd;
  if (postino::pop3::wire::parse_command(data, cmd)) {
    FUZZ_CHECK(cmd.keyword.size() >= 3 && cmd.keyword.size() <= 4);
  }
}
