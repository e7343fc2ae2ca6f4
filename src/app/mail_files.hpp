// Maildir and mbox, the formats other servers keep mail in, read and written for
// `postino import` and `postino export`. Pure functions over bytes and names; the commands
// (mail_transfer_commands.cpp) walk directories and talk to the store.
//
// Maildir: one file per message; flags in the name after ":2," (D draft, F flagged,
// P passed, R replied, S seen, T trashed; a-z keywords numbered by Dovecot's
// dovecot-keywords file); Maildir++ subfolders are ".Name.Sub" directories with modified
// UTF-7 names. mbox: messages after "From " lines (mboxrd escaping), flags in the Status,
// X-Status and X-Keywords header fields.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/types.hpp"

namespace postino::app {

// LF or CRLF lines → CRLF lines (a stray CR stays).
std::string to_crlf(std::string_view text);
// CRLF lines → LF lines.
std::string to_lf(std::string_view text);

// Flags from a Maildir file name; `keywords` maps 'a'… to Dovecot keyword names.
store::Flags maildir_flags(std::string_view file_name, const std::map<char, std::string>& keywords);
// Whether Maildir file `a` was delivered before `b`: by the seconds that begin the name,
// then the microseconds of its "M<usec>" part (written without leading zeros, by Python and
// others, so "M99999" sorts after "M100000" as text), then the names themselves.
bool maildir_delivered_before(std::string_view a, std::string_view b);
// ":2,FLAGS" for a file name (letters sorted, as Maildir wants); keywords get letters from
// `keywords` (extended with new ones, at most 26).
std::string maildir_info(const store::Flags& flags, std::map<std::string, char>& keywords);
// Dovecot's dovecot-keywords file ("0 $Forwarded" lines) → letter → name, and back.
std::map<char, std::string> parse_dovecot_keywords(std::string_view text);
std::string dovecot_keywords_text(const std::map<std::string, char>& keywords);
// A Maildir++ folder directory (".Sent", ".Archive.2024") → mailbox name ("Archive/2024",
// UTF-8); nullopt for a directory that is not a folder.
std::optional<std::string> maildir_folder_name(std::string_view directory);
// The other way: "Archive/2024" → ".Archive.2024".
std::string maildir_folder_directory(std::string_view mailbox);

struct MboxMessage {
  std::string text;  // CRLF lines, without the From line and the mbox status fields
  store::Flags flags;
  std::optional<store::SystemClock::time_point> internal_date;  // from the From line
};

// Splits an mbox file: a message starts at a "From " line at the start of the file or
// after an empty line; ">From " lines lose one '>' (mboxrd).
std::vector<MboxMessage> split_mbox(std::string_view data);

// One message as mbox text: From line, status fields, escaped body, LF lines, a blank line.
std::string mbox_entry(std::string_view message, const store::Flags& flags,
                       store::SystemClock::time_point internal_date);

}  // namespace postino::app
