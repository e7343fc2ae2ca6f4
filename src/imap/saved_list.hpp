// A mailbox's message list saved in a file of its own (MailboxViews, imap.list_files_dir),
// so that the first SELECT of a big mailbox after a restart reads one small file in one
// piece and then only what changed since (Store::changes_since) instead of the list's
// index pages scattered over store.db, one disk read each (100,000 messages: a 1.3 MB
// file against 180 pages of 16 KiB, 6 against 45-70 ms cold). Dovecot keeps its index
// files for the same reason.
//
// The file is a cache, never the truth: written without fsync (a file torn by a crash
// fails its checksum), recognised by the mailbox's id and UIDVALIDITY, and brought up to
// date from the store. Hand-written because it is the store's own list in a compact form:
//   "PSTLIST1", then varints: mailbox id, UIDVALIDITY, HIGHESTMODSEQ, message count, and
//   per message: UID minus the previous UID, MODSEQ, flags, size, INTERNALDATE (unix
//   seconds, zigzag), keyword count and each keyword as length and bytes; last, the
//   CRC-32 (zlib) of everything before it, four bytes little-endian.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/types.hpp"

namespace postino::imap {

struct SavedList {
  store::MailboxId mailbox;
  store::UidValidity uid_validity;
  store::ModSeq highest_mod_seq;             // the list is the mailbox as of this MODSEQ
  std::vector<store::MessageInfo> messages;  // in UID order
};

std::string encode_saved_list(store::MailboxId mailbox, store::UidValidity uid_validity,
                              store::ModSeq highest_mod_seq,
                              const std::vector<store::MessageInfo>& messages);
// nullopt for anything but a whole, undamaged file of this format (UIDs must ascend).
std::optional<SavedList> decode_saved_list(std::string_view bytes);

}  // namespace postino::imap
