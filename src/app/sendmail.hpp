// `postino sendmail` (also run as `sendmail` through a link): the sendmail command line
// that cron, scripts and PHP's mail() use. Like Postfix's postdrop it writes the message
// straight into the store (local copies at once, the rest queued for the running server's
// scheduler), as server.user; it never opens a network connection.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace postino::app {

struct SendmailArgs {
  bool extract_recipients = false;  // -t
  bool ignore_dots = false;         // -i, -oi: a line with a single dot does not end input
  std::string sender;               // -f ADDRESS (also -r)
  std::string full_name;            // -F NAME
  std::string config_file;          // -C FILE
  std::vector<std::string> recipients;
  std::string error;  // a usage error
};

// Parses the arguments after the program name: the options sendmail implementations
// share (-t -i -oi -f -r -F -C, joined or separate values; -bm, -odi, -oem and other -o
// and -b options that do not change delivery are accepted and ignored), then recipients.
SendmailArgs parse_sendmail_args(const std::vector<std::string>& args);

struct PreparedMessage {
  std::string text;                     // CRLF lines, with From/Date/Message-ID when missing
  std::vector<std::string> recipients;  // -t: To, Cc and Bcc, added to the command line's
  std::string error;
};

// Turns what came on standard input into the message to store: LF or CRLF lines become
// CRLF; without ignore_dots a line "." ends the input; a missing From, Date or Message-ID
// is added (`from` is the sender address, `host` the Message-ID's right side); with -t the
// recipients come from To, Cc and Bcc, and Bcc is removed.
PreparedMessage prepare_message(const std::string& input, const SendmailArgs& args,
                                const std::string& from, const std::string& host,
                                const std::string& date, const std::string& unique);

// Runs the command: `argv0` decides nothing; args are those after it (or after
// "sendmail"). Returns a sysexits(3) code.
int sendmail_main(const std::vector<std::string>& args);

}  // namespace postino::app
