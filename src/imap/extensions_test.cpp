// Tests for the IMAP extensions beyond IMAP4rev1: SPECIAL-USE, STATUS=SIZE, CONDSTORE,
// QRESYNC, QUOTA, ESEARCH, LIST-EXTENDED/LIST-STATUS and IDLE, as bytes in and out.
#include <gtest/gtest.h>
#include <algorithm>

#include "imap/session_fixture.hpp"
#include "store/notifier.hpp"

namespace postino::imap {
namespace {

using test_support::ImapLogin;

TEST_F(ImapLogin, SpecialUseCreateAndStatusSize) {
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  // RFC 6154 §3: CREATE with USE; one use per mailbox, known ones only.
  EXPECT_EQ(send("b CREATE Old/Sent (USE (\\Sent))\r\n"), "b OK CREATE completed\r\n");
  EXPECT_EQ(send("c LIST \"\" Old/Sent\r\n"),
            "* LIST (\\HasNoChildren \\Sent) \"/\" Old/Sent\r\nc OK LIST completed\r\n");
  EXPECT_EQ(send("d CREATE X (USE (\\Important))\r\n"),
            "d NO [USEATTR] Unsupported special use \\Important\r\n");
  EXPECT_EQ(send("e CREATE X (USE (\\Sent \\Trash))\r\n"),
            "e NO [USEATTR] One special use per mailbox\r\n");
  EXPECT_EQ(send("f CREATE X (FOO)\r\n"), "f BAD Syntax: CREATE mailbox [(USE (attributes))]\r\n");
  // LSUB shows no special use.
  EXPECT_EQ(send("g LSUB \"\" Old/Sent\r\n"), "g OK LSUB completed\r\n");
  // STATUS SIZE (RFC 8438): the octets of every message.
  ASSERT_TRUE(store_->deliver({demo_id()}, "Subject: s\r\n\r\n12345\r\n"));
  EXPECT_EQ(send("h STATUS INBOX (MESSAGES SIZE)\r\n"),
            "* STATUS INBOX (MESSAGES 1 SIZE 21)\r\nh OK STATUS completed\r\n");
}

TEST_F(ImapLogin, CondstoreModSeqsChangedSinceAndConditionalStore) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store_->deliver({demo_id()}, "Subject: " + std::to_string(i) + "\r\n\r\nx\r\n"));
  }
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  EXPECT_EQ(send("b ENABLE CONDSTORE X-UNKNOWN\r\n"),
            "* ENABLED CONDSTORE\r\nb OK ENABLE completed\r\n");
  const auto inbox = store_->mailbox(demo_id(), "INBOX").value();
  const auto base = inbox.highest_mod_seq.value;
  const auto selected = send("c SELECT INBOX\r\n");
  EXPECT_NE(selected.find("* OK [HIGHESTMODSEQ " + std::to_string(base) + "] Highest\r\n"),
            std::string::npos)
      << selected;
  // Message 1 changes: it alone is newer than `base`.
  EXPECT_EQ(send("d STORE 1 +FLAGS (\\Flagged)\r\n"), "* 1 FETCH (FLAGS (\\Flagged) MODSEQ (" +
                                                          std::to_string(base + 1) +
                                                          "))\r\nd OK STORE completed\r\n");
  EXPECT_EQ(send("e FETCH 1:* (FLAGS) (CHANGEDSINCE " + std::to_string(base) + ")\r\n"),
            "* 1 FETCH (FLAGS (\\Flagged) MODSEQ (" + std::to_string(base + 1) +
                "))\r\ne OK FETCH completed\r\n");
  EXPECT_EQ(send("f SEARCH MODSEQ " + std::to_string(base + 1) + "\r\n"),
            "* SEARCH 1 (MODSEQ " + std::to_string(base + 1) + ")\r\nf OK SEARCH completed\r\n");
  EXPECT_EQ(send("g SEARCH MODSEQ \"/flags/\\\\draft\" all " + std::to_string(base + 5) + "\r\n"),
            "* SEARCH\r\ng OK SEARCH completed\r\n");
  // RFC 7162 §3.1.3's example: the one changed since is left alone and named.
  EXPECT_EQ(send("h STORE 1,2 (UNCHANGEDSINCE " + std::to_string(base) +
                 ") +FLAGS.SILENT (\\Deleted)\r\n"),
            "* 2 FETCH (MODSEQ (" + std::to_string(base + 2) +
                "))\r\nh OK [MODIFIED 1] Conditional STORE failed for some messages\r\n");
  EXPECT_EQ(send("i UID STORE 1:3 (UNCHANGEDSINCE " + std::to_string(base + 1) +
                 ") -FLAGS (\\Deleted)\r\n"),
            "* 1 FETCH (UID 1 FLAGS (\\Flagged) MODSEQ (" + std::to_string(base + 1) +
                "))\r\n* 3 FETCH (UID 3 FLAGS () MODSEQ (" + std::to_string(base) +
                "))\r\ni OK [MODIFIED 2] Conditional UID STORE failed for some messages\r\n");
  EXPECT_EQ(send("j STATUS INBOX (HIGHESTMODSEQ)\r\n"), "* STATUS INBOX (HIGHESTMODSEQ " +
                                                            std::to_string(base + 2) +
                                                            ")\r\nj OK STATUS completed\r\n");
  EXPECT_EQ(send("k FETCH 1 (MODSEQ)\r\n"),
            "* 1 FETCH (MODSEQ (" + std::to_string(base + 1) + "))\r\nk OK FETCH completed\r\n");
  // An implicit \\Seen is a flag change too: its new MODSEQ is told with it.
  const auto implicit_seen = send("m FETCH 3 (BODY[TEXT])\r\n");
  EXPECT_NE(implicit_seen.find("FLAGS (\\Seen)"), std::string::npos) << implicit_seen;
  EXPECT_NE(implicit_seen.find("MODSEQ (" + std::to_string(base + 3) + ")"), std::string::npos)
      << implicit_seen;
  EXPECT_EQ(send("l FETCH 1 (FLAGS) (CHANGEDSINCE x)\r\n"),
            "l BAD Syntax: FETCH sequence-set items (CHANGEDSINCE modseq [VANISHED])\r\n");
}

TEST_F(ImapLogin, QresyncVanishedAndResyncAtSelect) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store_->deliver({demo_id()}, "Subject: " + std::to_string(i) + "\r\n\r\nx\r\n"));
  }
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  EXPECT_EQ(send("b SELECT INBOX (QRESYNC (1 1))\r\n"),
            "b BAD QRESYNC needs ENABLE QRESYNC first\r\n");
  EXPECT_EQ(send("c ENABLE QRESYNC\r\n"), "* ENABLED QRESYNC\r\nc OK ENABLE completed\r\n");
  send("d SELECT INBOX\r\n");
  const auto inbox = store_->mailbox(demo_id(), "INBOX").value();
  const auto validity = std::to_string(inbox.uid_validity.value);
  const auto base = inbox.highest_mod_seq.value;
  // Another client: message 2 expunged, message 3 flagged.
  store::Flags deleted{store::flag_deleted, {}};
  ASSERT_TRUE(store_->store_flags(demo_id(), inbox.id, {store::Uid(2)},
                                  store::Store::FlagChange::add, deleted));
  ASSERT_TRUE(
      store_->expunge(demo_id(), inbox.id, std::nullopt, store::Store::ExpungeScope::deleted));
  ASSERT_TRUE(store_->store_flags(demo_id(), inbox.id, {store::Uid(3)},
                                  store::Store::FlagChange::add, {store::flag_flagged, {}}));
  // RFC 7162 §3.2.10: VANISHED instead of EXPUNGE.
  EXPECT_EQ(send("e NOOP\r\n"), "* VANISHED 2\r\n* 2 FETCH (FLAGS (\\Flagged) MODSEQ (" +
                                    std::to_string(base + 3) + "))\r\ne OK NOOP completed\r\n");
  // A client that was away resyncs at SELECT; the old mailbox is CLOSED first.
  const auto resync =
      send("f SELECT INBOX (QRESYNC (" + validity + " " + std::to_string(base) + " 1:3))\r\n");
  EXPECT_EQ(resync.substr(0, 37), "* OK [CLOSED] Previous mailbox closed");
  EXPECT_NE(resync.find("* VANISHED (EARLIER) 2\r\n* 2 FETCH (UID 3 FLAGS (\\Flagged) MODSEQ (" +
                        std::to_string(base + 3) + "))\r\nf OK [READ-WRITE]"),
            std::string::npos)
      << resync;
  // Another UIDVALIDITY: nothing to resync.
  EXPECT_EQ(send("g SELECT INBOX (QRESYNC (1 " + std::to_string(base) + "))\r\n").find("VANISHED"),
            std::string::npos);
  EXPECT_EQ(
      send("h UID FETCH 1:* (FLAGS) (CHANGEDSINCE " + std::to_string(base) + " VANISHED)\r\n"),
      "* VANISHED (EARLIER) 2\r\n* 2 FETCH (UID 3 FLAGS (\\Flagged) MODSEQ (" +
          std::to_string(base + 3) + "))\r\nh OK UID FETCH completed\r\n");
  EXPECT_EQ(send("i FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)\r\n"),
            "i BAD VANISHED needs UID FETCH and ENABLE QRESYNC\r\n");
}

TEST_F(ImapLogin, QuotaRootAndUsage) {
  ASSERT_TRUE(store_->deliver({demo_id()}, "Subject: q\r\n\r\n" + std::string(3000, 'x') + "\r\n"));
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  // No limits: the root is there, with no resource limited.
  EXPECT_EQ(send("b GETQUOTAROOT INBOX\r\n"),
            "* QUOTAROOT INBOX \"\"\r\n* QUOTA \"\" ()\r\nb OK GETQUOTAROOT completed\r\n");
  ASSERT_TRUE(store_->set_quota("demo@example.test", {10 * 1024 * 1024, 1000}));
  EXPECT_EQ(send("c GETQUOTAROOT Sent\r\n"),
            "* QUOTAROOT Sent \"\"\r\n* QUOTA \"\" (STORAGE 3 10240 MESSAGE 1 1000)\r\n"
            "c OK GETQUOTAROOT completed\r\n");
  EXPECT_EQ(send("d GETQUOTA \"\"\r\n"),
            "* QUOTA \"\" (STORAGE 3 10240 MESSAGE 1 1000)\r\nd OK GETQUOTA completed\r\n");
  EXPECT_EQ(send("e GETQUOTA other\r\n"), "e NO [NONEXISTENT] No such quota root\r\n");
  EXPECT_EQ(send("f SETQUOTA \"\" (STORAGE 1)\r\n"),
            "f NO [NOPERM] Quotas are set by the administrator (postino quota set)\r\n");
  EXPECT_EQ(send("g GETQUOTAROOT Nope\r\n").substr(0, 4), "g NO");
}

TEST_F(ImapLogin, EsearchReturnsWhatWasAsked) {
  five_selected_three_flagged();
  EXPECT_EQ(send("d SEARCH RETURN (MIN MAX COUNT ALL) FLAGGED\r\n"),
            "* ESEARCH (TAG \"d\") MIN 2 MAX 5 ALL 2,4:5 COUNT 3\r\nd OK SEARCH completed\r\n");
  EXPECT_EQ(send("e UID SEARCH RETURN () FLAGGED\r\n"),
            "* ESEARCH (TAG \"e\") UID ALL 2,4:5\r\ne OK UID SEARCH completed\r\n");
  EXPECT_EQ(send("f SEARCH RETURN (COUNT MIN) DELETED\r\n"),
            "* ESEARCH (TAG \"f\") COUNT 0\r\nf OK SEARCH completed\r\n");
  EXPECT_EQ(send("g SEARCH RETURN (PARTIAL 1:2) ALL\r\n"),
            "g BAD Unknown SEARCH RETURN option PARTIAL\r\n");
  EXPECT_EQ(send("h SEARCH FLAGGED\r\n"), "* SEARCH 2 4 5\r\nh OK SEARCH completed\r\n");
}

TEST_F(ImapLogin, SearchresSavesAResultForDollar) {
  five_selected_three_flagged();
  // RFC 5182 §2.1: SAVE alone answers no ESEARCH; "$" is then usable by every command.
  EXPECT_EQ(send("d SEARCH RETURN (SAVE) FLAGGED\r\n"), "d OK SEARCH completed\r\n");
  EXPECT_EQ(
      send("e FETCH $ (UID)\r\n"),
      "* 2 FETCH (UID 2)\r\n* 4 FETCH (UID 4)\r\n* 5 FETCH (UID 5)\r\ne OK FETCH completed\r\n");
  EXPECT_EQ(send("f STORE $ +FLAGS.SILENT (\\Seen)\r\n"), "f OK STORE completed\r\n");
  EXPECT_EQ(send("g SEARCH SEEN\r\n"), "* SEARCH 2 4 5\r\ng OK SEARCH completed\r\n");
  EXPECT_EQ(send("h UID COPY $ INBOX\r\n"),
            "h OK [COPYUID " +
                std::to_string(store_->mailbox(demo_id(), "INBOX")->uid_validity.value) +
                " 2,4:5 6:8] UID COPY completed\r\n");
  // Kept as UIDs: after message 4 goes, "$" is sequence numbers 2 and 4 (UIDs 2 and 5).
  send("i STORE 4 +FLAGS.SILENT (\\Deleted)\r\n");
  EXPECT_EQ(send("j EXPUNGE\r\n").substr(0, 12), "* 4 EXPUNGE\r");
  EXPECT_EQ(send("k SEARCH $\r\n"), "* SEARCH 2 4\r\nk OK SEARCH completed\r\n");
  EXPECT_EQ(send("l UID SEARCH UID $ SEEN\r\n"), "* SEARCH 2 5\r\nl OK UID SEARCH completed\r\n");
  // §2.4: with MIN or MAX only those are saved; with COUNT the ESEARCH comes too.
  EXPECT_EQ(send("m SEARCH RETURN (SAVE MAX COUNT) FLAGGED\r\n"),
            "* ESEARCH (TAG \"m\") MAX 7 COUNT 5\r\nm OK SEARCH completed\r\n");
  EXPECT_EQ(send("n UID FETCH $ (UID)\r\n"), "* 7 FETCH (UID 8)\r\nn OK UID FETCH completed\r\n");
  // A failed SEARCH that saves leaves "$" empty; so does a new SELECT.
  EXPECT_EQ(send("o SEARCH RETURN (SAVE) NOSUCHKEY\r\n"), "o BAD Unknown search key NOSUCHKEY\r\n");
  EXPECT_EQ(send("p FETCH $ (UID)\r\n"), "p OK FETCH completed\r\n");
  send("q SEARCH RETURN (SAVE) ALL\r\n");
  EXPECT_EQ(send("q2 SEARCH RETURN (SAVE) CHARSET KOI8-R ALL\r\n"),
            "q2 NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset\r\n");
  EXPECT_EQ(send("q3 FETCH $ (UID)\r\n"), "q3 OK FETCH completed\r\n");  // a NO empties it too
  send("q4 SEARCH RETURN (SAVE) ALL\r\n");
  send("r SELECT INBOX\r\n");
  EXPECT_EQ(send("s SEARCH $\r\n"), "* SEARCH\r\ns OK SEARCH completed\r\n");
  EXPECT_EQ(send("t FETCH $:4 (UID)\r\n"), "t BAD Invalid sequence set\r\n");
}

TEST_F(ImapLogin, CompressDeflateOnceAfterLogin) {
  start(true);
  EXPECT_EQ(send("a COMPRESS DEFLATE\r\n"), "a BAD Command not valid in this state\r\n");
  send("b LOGIN demo@example.test secret\r\n");
  EXPECT_EQ(send("c COMPRESS GZIP\r\n"), "c BAD Unknown compression mechanism GZIP\r\n");
  EXPECT_EQ(send("d COMPRESS\r\n"), "d BAD Syntax: COMPRESS DEFLATE\r\n");
  // A client that did not wait for the OK (RELIABILITY T05): BAD, and no compression.
  EXPECT_EQ(send("e COMPRESS deflate\r\nf NOOP\r\n"),
            "e BAD Client did not wait for COMPRESS reply\r\nf OK NOOP completed\r\n");
  EXPECT_EQ(after_, net::After::read);
  EXPECT_EQ(send("e2 COMPRESS deflate\r\n"), "e2 OK DEFLATE active\r\n");
  EXPECT_EQ(after_, net::After::start_compression);
  EXPECT_EQ(send("g COMPRESS DEFLATE\r\n"),
            "g NO [COMPRESSIONACTIVE] DEFLATE is already active\r\n");
}

TEST_F(ImapLogin, BinaryFetchesDecodedPartsAndSizes) {
  const std::string message =
      "Subject: parts\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
      "caf=C3=A9 =\r\nau lait\r\n"
      "--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      "AAEC/w==\r\n"
      "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n"
      "begin 644 x\r\n"
      "--b--\r\n";
  ASSERT_TRUE(store_->deliver({demo_id()}, message));
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  send("b SELECT INBOX\r\n");
  // Quoted-printable undone (soft line break, 8-bit octets): a literal8, as whenever a
  // transfer encoding was undone (Dovecot does the same).
  EXPECT_EQ(send("c FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])\r\n"),
            "* 1 FETCH (BINARY[1] ~{13}\r\ncaf\xc3\xa9 au lait BINARY.SIZE[1] 13)\r\n"
            "c OK FETCH completed\r\n");
  // Base64 to bytes with a NUL: a literal8 (RFC 3516 §4.2); a partial of it.
  EXPECT_EQ(send("d FETCH 1 (BINARY.PEEK[2])\r\n"),
            std::string("* 1 FETCH (BINARY[2] ~{4}\r\n\0\x01\x02\xff", 31) +
                ")\r\nd OK FETCH completed\r\n");
  EXPECT_EQ(send("e FETCH 1 (BINARY.PEEK[2]<1.2>)\r\n"),
            "* 1 FETCH (BINARY[2]<1> ~{2}\r\n\x01\x02)\r\ne OK FETCH completed\r\n");
  // The whole message as it is; a part that is not there is empty.
  const auto whole = send("f FETCH 1 (BINARY.SIZE[] BINARY.SIZE[9])\r\n");
  EXPECT_EQ(whole, "* 1 FETCH (BINARY.SIZE[] " + std::to_string(message.size()) +
                       " BINARY.SIZE[9] 0)\r\nf OK FETCH completed\r\n");
  // A transfer encoding RFC 2045 does not define: NO [UNKNOWN-CTE] (§4.3).
  EXPECT_EQ(send("g FETCH 1 (BINARY.PEEK[3])\r\n"),
            "g NO [UNKNOWN-CTE] Unknown Content-Transfer-Encoding\r\n");
  EXPECT_EQ(send("h FETCH 1 (BINARY[1.MIME])\r\n"), "h BAD BINARY takes part numbers only\r\n");
  EXPECT_EQ(send("i FETCH 1 (BINARY.SIZE[1]<0.1>)\r\n"), "i BAD Invalid partial\r\n");
  // BINARY without PEEK sets \Seen like BODY[].
  EXPECT_EQ(send("j FETCH 1 (BINARY[1]<0.3>)\r\n"),
            "* 1 FETCH (BINARY[1]<0> ~{3}\r\ncaf FLAGS (\\Seen))\r\nj OK FETCH completed\r\n");
  // APPEND with a literal8: stored when it has no NUL, refused with one (RFC 3516 §4.4).
  EXPECT_EQ(send("k APPEND INBOX ~{11}\r\n"), "+ Ready for literal data\r\n");
  EXPECT_EQ(send("Subject: x\r\n").substr(0, 20), "* 2 EXISTS\r\nk OK [AP");
  EXPECT_EQ(send("l APPEND INBOX ~{3+}\r\n" + std::string("a\0b", 3) + "\r\n"),
            "l NO [UNKNOWN-CTE] Binary content (NUL) is not stored\r\n");
}

TEST_F(ImapLogin, NulBytesAreNeverSentInALiteral) {
  // RFC 3501 §4.3: a literal is CHAR8 (no NUL). A message that came over SMTP with NUL
  // bytes is sent with 0x80 in their place (as Dovecot does), inline or streamed from the
  // file; BINARY gives the bytes as they are in a literal8.
  const std::string small = std::string("X-Nul: a\0b\r\nSubject: n\r\n\r\nbody\0end\r\n", 36);
  const std::string big =
      "Subject: big\r\n\r\n" + std::string(100000, 'x') + std::string(1, '\0') + "\r\n";
  ASSERT_TRUE(store_->deliver({demo_id()}, small));
  ASSERT_TRUE(store_->deliver({demo_id()}, big));
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  send("b SELECT INBOX\r\n");
  auto shown = small;
  std::replace(shown.begin(), shown.end(), '\0', '\x80');
  EXPECT_EQ(send("c FETCH 1 (BODY.PEEK[])\r\n"),
            "* 1 FETCH (BODY[] {36}\r\n" + shown + ")\r\nc OK FETCH completed\r\n");
  EXPECT_EQ(send("d FETCH 1 (BODY.PEEK[HEADER.FIELDS (X-NUL)])\r\n"),
            "* 1 FETCH (BODY[HEADER.FIELDS (X-NUL)] {14}\r\nX-Nul: a\x80"
            "b\r\n\r\n)\r\n"
            "d OK FETCH completed\r\n");
  const auto streamed = send("e FETCH 2 (BODY.PEEK[TEXT])\r\n");
  EXPECT_EQ(streamed.find('\0'), std::string::npos);
  EXPECT_NE(streamed.find(std::string(100, 'x') + "\x80\r\n)"), std::string::npos);
  EXPECT_EQ(send("f FETCH 1 (BINARY.PEEK[TEXT])\r\n"), "f BAD BINARY takes part numbers only\r\n");
  EXPECT_EQ(send("g FETCH 1 (BINARY.PEEK[1])\r\n"),
            std::string("* 1 FETCH (BINARY[1] ~{10}\r\nbody\0end\r\n)\r\n", 41) +
                "g OK FETCH completed\r\n");
}

TEST_F(ImapLogin, Utf8AcceptNamesAndAppend) {
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  EXPECT_EQ(send("b CREATE Caf&AOk-\r\n"), "b OK CREATE completed\r\n");
  EXPECT_EQ(send("c APPEND INBOX UTF8 (~{3+}\r\nabc)\r\n"),
            "c BAD APPEND UTF8 needs ENABLE UTF8=ACCEPT\r\n");
  EXPECT_EQ(send("d ENABLE UTF8=ACCEPT\r\n"), "* ENABLED UTF8=ACCEPT\r\nd OK ENABLE completed\r\n");
  // RFC 6855 §3: names in UTF-8 both ways; "&" is only a character now.
  EXPECT_EQ(send("e LIST \"\" Caf*\r\n"),
            "* LIST (\\HasNoChildren) \"/\" \"Caf\xc3\xa9\"\r\ne OK LIST completed\r\n");
  EXPECT_EQ(send("f CREATE \"R&D \xe2\x82\xac\"\r\n"), "f OK CREATE completed\r\n");
  EXPECT_EQ(send("g STATUS \"Caf\xc3\xa9\" (MESSAGES)\r\n"),
            "* STATUS \"Caf\xc3\xa9\" (MESSAGES 0)\r\ng OK STATUS completed\r\n");
  EXPECT_EQ(send("h CREATE \"bad\xc3\"\r\n"), "h NO [CANNOT] Invalid mailbox name encoding\r\n");
  // §4: APPEND's UTF8 (literal8) form, with an 8-bit header.
  EXPECT_EQ(send("i APPEND \"Caf\xc3\xa9\" UTF8 (~{22+}\r\nSubject: caf\xc3\xa9\r\n\r\nhi\r\n)\r\n")
                .substr(0, 16),
            "i OK [APPENDUID ");
  EXPECT_NE(send("j SELECT \"Caf\xc3\xa9\"\r\n").find("* 1 EXISTS\r\n"), std::string::npos);
  // Erratum 4029: no other charset may be named.
  EXPECT_EQ(send("k SEARCH CHARSET UTF-8 ALL\r\n"),
            "k BAD No CHARSET after ENABLE UTF8=ACCEPT\r\n");
  EXPECT_EQ(send("l SORT (ARRIVAL) US-ASCII ALL\r\n"),
            "l BAD Only CHARSET UTF-8 after ENABLE UTF8=ACCEPT\r\n");
  EXPECT_EQ(send("m SORT (ARRIVAL) UTF-8 SUBJECT \"caf\xc3\xa9\"\r\n"),
            "* SORT 1\r\nm OK SORT completed\r\n");
  // Another session, without UTF8=ACCEPT, sees the same names in modified UTF-7.
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  EXPECT_EQ(send("b LIST \"\" R*\r\n"),
            "* LIST (\\HasNoChildren) \"/\" \"R&-D &IKw-\"\r\nb OK LIST completed\r\n");
}

TEST_F(ImapLogin, Imap4rev2OnceEnabled) {
  ASSERT_TRUE(store_->deliver({demo_id()}, "Subject: a\r\n\r\nx\r\n"));
  ASSERT_TRUE(store_->deliver({demo_id()}, "Subject: b\r\n\r\ny\r\n"));
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  // IMAP4rev1 until the client asks: RECENT and UNSEEN at SELECT, SEARCH answered SEARCH.
  const auto rev1 = send("b SELECT INBOX\r\n");
  EXPECT_NE(rev1.find("* 0 RECENT\r\n* OK [UNSEEN 1]"), std::string::npos) << rev1;
  EXPECT_EQ(send("c SEARCH ALL\r\n"), "* SEARCH 1 2\r\nc OK SEARCH completed\r\n");
  send("d UNSELECT\r\n");
  EXPECT_EQ(send("e ENABLE IMAP4rev2\r\n"), "* ENABLED IMAP4rev2\r\ne OK ENABLE completed\r\n");
  const auto uid_validity = std::to_string(store_->mailbox(demo_id(), "INBOX")->uid_validity.value);
  // RFC 9051 §6.3.2: no RECENT, no UNSEEN, the mailbox's LIST.
  EXPECT_EQ(send("f SELECT inbox\r\n"),
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] "
            "Flags permitted\r\n* 2 EXISTS\r\n* LIST () \"/\" INBOX\r\n"
            "* OK [UIDVALIDITY " +
                uid_validity +
                "] UIDs valid\r\n"
                "* OK [UIDNEXT 3] Predicted next UID\r\nf OK [READ-WRITE] SELECT completed\r\n");
  // §6.4.4: SEARCH answers ESEARCH, ALL assumed; nothing found says only the tag.
  EXPECT_EQ(send("g SEARCH SUBJECT b\r\n"),
            "* ESEARCH (TAG \"g\") ALL 2\r\ng OK SEARCH completed\r\n");
  EXPECT_EQ(send("h UID SEARCH DELETED\r\n"),
            "* ESEARCH (TAG \"h\") UID\r\nh OK UID SEARCH completed\r\n");
  // §6.3.11: STATUS DELETED.
  send("i STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
  EXPECT_EQ(send("j STATUS INBOX (MESSAGES DELETED)\r\n"),
            "* STATUS INBOX (MESSAGES 2 DELETED 1)\r\nj OK STATUS completed\r\n");
  // §7.1: CLOSED whenever a selection ends with another SELECT; names are UTF-8.
  EXPECT_EQ(send("k CREATE \"\xc3\x9c"
                 "bung\"\r\n"),
            "k OK CREATE completed\r\n");
  EXPECT_EQ(send("l EXAMINE \"\xc3\x9c"
                 "bung\"\r\n")
                .substr(0, 39),
            "* OK [CLOSED] Previous mailbox closed\r\n");
  // §7.1: HASCHILDREN.
  send("m CREATE Parent/Child\r\n");
  EXPECT_EQ(send("n DELETE Parent\r\n"),
            "n NO [HASCHILDREN] Mailbox has children, delete them first\r\n");
}

TEST_F(ImapLogin, ListExtendedAndListStatus) {
  ASSERT_TRUE(store_->deliver({demo_id()}, "Subject: s\r\n\r\n12345\r\n"));
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  send("b CREATE Work/Plans\r\n");
  send("c SUBSCRIBE Work/Plans\r\n");
  send("d SUBSCRIBE INBOX\r\n");
  // RFC 5258: SUBSCRIBED selection, several patterns, \Subscribed told.
  EXPECT_EQ(send("e LIST (SUBSCRIBED) \"\" (INBOX Work/*)\r\n"),
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" INBOX\r\n"
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" Work/Plans\r\ne OK LIST completed\r\n");
  // RECURSIVEMATCH: Work is not subscribed but its child is.
  EXPECT_EQ(send("f LIST (SUBSCRIBED RECURSIVEMATCH) \"\" Work\r\n"),
            "* LIST (\\HasChildren) \"/\" Work (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
            "f OK LIST completed\r\n");
  EXPECT_EQ(send("g LIST (SPECIAL-USE) \"\" *\r\n").find("INBOX"), std::string::npos);
  // RFC 5819: STATUS after each LIST line.
  EXPECT_EQ(send("h LIST \"\" INBOX RETURN (SUBSCRIBED STATUS (MESSAGES SIZE))\r\n"),
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" INBOX\r\n"
            "* STATUS INBOX (MESSAGES 1 SIZE 21)\r\nh OK LIST completed\r\n");
  EXPECT_EQ(send("i LIST (RECURSIVEMATCH) \"\" *\r\n").substr(0, 6), "i BAD ");
  EXPECT_EQ(send("j LIST \"\" * RETURN (STATUS (BOGUS))\r\n"),
            "j BAD Invalid STATUS return option\r\n");
  EXPECT_EQ(send("k LIST (FOO) \"\" *\r\n"), "k BAD Unknown LIST selection option\r\n");
}

TEST_F(ImapLogin, IdleWatchesTheSelectedMailboxUntilDone) {
  store::LocalNotifier notifier;
  SessionSettings settings;
  settings.store = store_.get();
  settings.authenticator = authenticator_.get();
  settings.notifier = &notifier;
  net::ClientInfo client;
  client.is_tls = true;
  session_ = std::make_unique<Session>(settings, client);
  int wakes = 0;
  session_->set_waker([&] { ++wakes; });
  send("a LOGIN demo@example.test secret\r\n");
  send("b SELECT INBOX\r\n");
  const auto inbox = store_->mailbox(demo_id(), "INBOX")->id;
  EXPECT_EQ(send("c IDLE\r\n"), "+ idling\r\n");
  ASSERT_TRUE(store_->deliver({demo_id()}, "Subject: new\r\n\r\nx\r\n"));
  notifier.notify(inbox);  // what a store with this notifier does after the commit
  EXPECT_EQ(wakes, 1);
  auto out = session_->woken(input_);
  ASSERT_EQ(out.after, net::After::work);
  out.work();
  EXPECT_EQ(session_->resume(input_).bytes, "* 1 EXISTS\r\n");
  // DONE may come in pieces; then the session stops watching.
  EXPECT_EQ(send("DO"), "");
  EXPECT_EQ(send("NE\r\n"), "c OK IDLE terminated\r\n");
  notifier.notify(inbox);
  EXPECT_EQ(wakes, 1);
  // A woken session that is not idling just reads on.
  EXPECT_EQ(session_->woken(input_).after, net::After::read);
  EXPECT_EQ(send("d IDLE\r\n"), "+ idling\r\n");
  EXPECT_EQ(send("e NOOP\r\n"), "d BAD Expected DONE to end IDLE\r\n");
  EXPECT_EQ(send("f NOOP\r\n"), "f OK NOOP completed\r\n");
}

}  // namespace
}  // namespace postino::imap
