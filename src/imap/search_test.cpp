// Tests for IMAP SEARCH: flags, sizes, dates, header keys, logic, and BODY/TEXT from the
// full-text index or by reading messages.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "imap/session_fixture.hpp"

namespace postino::imap {
namespace {

using test_support::ImapLogin;

TEST_F(ImapLogin, SearchFlagsSizesDatesHeadersAndLogic) {
  const auto demo = store_->find_account("demo@example.test")->id;
  ASSERT_TRUE(store_->deliver(
      {demo}, "From: Alice <alice@x.test>\r\nSubject: Quarterly Report\r\n\r\nnumbers\r\n"));
  ASSERT_TRUE(store_->deliver(
      {demo}, "From: bob@y.test\r\nSubject: lunch\r\n\r\n" + std::string(500, 'x') + "\r\n"));
  ASSERT_TRUE(
      store_->deliver({demo}, "From: carol@z.test\r\nSubject: 100% off_sale\r\n\r\nspam\r\n"));
  start(true);
  send("a LOGIN demo@example.test secret\r\nb SELECT INBOX\r\n");
  send("c STORE 2 +FLAGS (\\Seen $Work)\r\n");
  EXPECT_EQ(send("d SEARCH ALL\r\n"), "* SEARCH 1 2 3\r\nd OK SEARCH completed\r\n");
  EXPECT_EQ(send("e SEARCH UNSEEN\r\n"), "* SEARCH 1 3\r\ne OK SEARCH completed\r\n");
  EXPECT_EQ(send("f SEARCH FROM ALICE SUBJECT report\r\n"),
            "* SEARCH 1\r\nf OK SEARCH completed\r\n");
  EXPECT_EQ(send("g SEARCH OR FROM bob SUBJECT \"%\"\r\n"),
            "* SEARCH 2 3\r\ng OK SEARCH completed\r\n");
  EXPECT_EQ(send("h SEARCH NOT (LARGER 100) KEYWORD $work\r\n"),
            "* SEARCH\r\nh OK SEARCH completed\r\n");
  EXPECT_EQ(send("i SEARCH LARGER 100\r\n"), "* SEARCH 2\r\ni OK SEARCH completed\r\n");
  EXPECT_EQ(send("j UID SEARCH 2:* UNKEYWORD $Work\r\n"),
            "* SEARCH 3\r\nj OK UID SEARCH completed\r\n");
  EXPECT_EQ(send("k SEARCH SINCE 1-Jan-2000 BEFORE 1-Jan-2000\r\n"),
            "* SEARCH\r\nk OK SEARCH completed\r\n");
  EXPECT_EQ(send("l SEARCH SUBJECT \"_\"\r\n"),
            "* SEARCH 3\r\nl OK SEARCH completed\r\n");  // I03: literal
  EXPECT_EQ(send("m SEARCH CHARSET UTF-8 ALL\r\n"), "* SEARCH 1 2 3\r\nm OK SEARCH completed\r\n");
  EXPECT_EQ(send("n SEARCH CHARSET KOI8-R ALL\r\n"),
            "n NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset\r\n");
  EXPECT_EQ(send("o SEARCH SENTSINCE 1-Jan-2000\r\n"),
            "* SEARCH\r\no OK SEARCH completed\r\n");  // no Date fields here
  EXPECT_EQ(send("p SEARCH BOGUS\r\n"), "p BAD Unknown search key BOGUS\r\n");
  std::string deep = "q SEARCH";
  for (int i = 0; i < 1000; ++i) deep += " OR ALL";
  EXPECT_EQ(send(deep + " ALL\r\n"), "q BAD Search too complex\r\n");  // RELIABILITY L07
}

TEST_F(ImapLogin, SearchBodyAndTextAnswerFromTheFullTextIndexWithoutReadingMessages) {
  ASSERT_TRUE(
      store_->deliver({demo_id()}, "Subject: one\r\n\r\nL'\xc3\xa9t\xc3\xa9 est chaud\r\n"));
  ASSERT_TRUE(store_->deliver({demo_id()}, "Subject: two\r\n\r\nab\r\n"));
  ASSERT_EQ(store_->index_text(1 << 20)->indexed, 2u);
  // With every message file gone, only the index can answer.
  for (auto& e : std::filesystem::recursive_directory_iterator(dir_ / "blobs")) {
    if (e.is_regular_file()) std::filesystem::remove(e.path());
  }
  start(true);
  send("a LOGIN demo@example.test secret\r\nb SELECT INBOX\r\n");
  EXPECT_EQ(send("c SEARCH BODY chaud\r\n"), "* SEARCH 1\r\nc OK SEARCH completed\r\n");
  // Unicode case folding: ÉTÉ finds été.
  EXPECT_EQ(send("d SEARCH CHARSET UTF-8 TEXT {6}\r\n"), "+ Ready for literal data\r\n");
  EXPECT_EQ(send("'\xc3\x89T\xc3\x89\r\n"), "* SEARCH 1\r\nd OK SEARCH completed\r\n");
  EXPECT_EQ(send("e SEARCH TEXT \"subject: two\"\r\n"), "* SEARCH 2\r\ne OK SEARCH completed\r\n");
  EXPECT_EQ(send("f SEARCH NOT BODY chaud\r\n"), "* SEARCH 2\r\nf OK SEARCH completed\r\n");
  // Two characters are too few for the index: the messages are read, and these cannot be.
  EXPECT_EQ(send("g SEARCH BODY ab\r\n"), "* SEARCH\r\ng OK SEARCH completed\r\n");
}

TEST_F(ImapLogin, SearchBodyTextHeaderAndSentDates) {
  const auto demo = store_->find_account("demo@example.test")->id;
  ASSERT_TRUE(store_->deliver({demo},
                              "Subject: plain\r\nX-Mailer: Mutt\r\n"
                              "Date: Tue, 24 Nov 2026 23:30:00 -1000\r\n\r\nMeet at Noon\r\n"));
  ASSERT_TRUE(store_->deliver(
      {demo},
      "Subject: encoded\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      "c2VjcmV0IHdvcmQ=\r\n--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
      "J=C3=B6rg sa=\r\nys hi\r\n--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n"
      "na\xefve\r\n--b\r\nContent-Type: image/png\r\n\r\nnoon\r\n--b--\r\n"));
  start(true);
  send("a LOGIN demo@example.test secret\r\nb SELECT INBOX\r\n");
  EXPECT_EQ(send("c SEARCH BODY noon\r\n"), "* SEARCH 1\r\nc OK SEARCH completed\r\n");
  EXPECT_EQ(send("d SEARCH BODY \"SECRET word\"\r\n"), "* SEARCH 2\r\nd OK SEARCH completed\r\n");
  EXPECT_EQ(send("e SEARCH BODY \"says hi\"\r\n"), "* SEARCH 2\r\ne OK SEARCH completed\r\n");
  EXPECT_EQ(send("e2 SEARCH CHARSET UTF-8 BODY {6}\r\n"), "+ Ready for literal data\r\n");
  EXPECT_EQ(send("na\xc3\xafve\r\n"), "* SEARCH 2\r\ne2 OK SEARCH completed\r\n");  // from Latin-1
  EXPECT_EQ(send("f SEARCH TEXT encoded\r\n"), "* SEARCH 2\r\nf OK SEARCH completed\r\n");
  EXPECT_EQ(send("g SEARCH TEXT noon\r\n"), "* SEARCH 1\r\ng OK SEARCH completed\r\n");
  EXPECT_EQ(send("h SEARCH HEADER x-mailer mutt\r\n"), "* SEARCH 1\r\nh OK SEARCH completed\r\n");
  EXPECT_EQ(send("i SEARCH HEADER Content-Type \"\"\r\n"),
            "* SEARCH 2\r\ni OK SEARCH completed\r\n");
  EXPECT_EQ(send("j SEARCH CHARSET UTF-8 BODY {5}\r\n"), "+ Ready for literal data\r\n");
  EXPECT_EQ(send("J\xc3\xb6rg\r\n"), "* SEARCH 2\r\nj OK SEARCH completed\r\n");
  EXPECT_EQ(send("k SEARCH HEADER x-mailer\r\n"), "k BAD Missing search argument\r\n");
  // SENT* read the Date field's own calendar date, zone disregarded; no Date never matches.
  EXPECT_EQ(send("l SEARCH SENTON 24-Nov-2026\r\n"), "* SEARCH 1\r\nl OK SEARCH completed\r\n");
  EXPECT_EQ(send("m SEARCH SENTBEFORE 25-Nov-2026\r\n"), "* SEARCH 1\r\nm OK SEARCH completed\r\n");
  EXPECT_EQ(send("n SEARCH SENTSINCE 25-Nov-2026\r\n"), "* SEARCH\r\nn OK SEARCH completed\r\n");
  EXPECT_EQ(send("o SEARCH NOT SENTON 24-Nov-2026\r\n"), "* SEARCH 2\r\no OK SEARCH completed\r\n");
  EXPECT_EQ(send("p SEARCH SENTON 31-Foo-2026\r\n"), "p BAD Invalid date\r\n");
  // Header keys match the RFC 2047-decoded text.
  ASSERT_TRUE(store_->deliver({demo},
                              "Subject: =?ISO-8859-1?Q?Caf=E9?= =?utf-8?b?4piV?= ok\r\n"
                              "X-Tag: =?utf-8?q?na=C3=AFve?=\r\n\r\nx\r\n"));
  EXPECT_EQ(send("q NOOP\r\n"), "* 3 EXISTS\r\nq OK NOOP completed\r\n");
  EXPECT_EQ(send("r SEARCH CHARSET UTF-8 SUBJECT {8}\r\n"), "+ Ready for literal data\r\n");
  EXPECT_EQ(send("caf\xc3\xa9\xe2\x98\x95\r\n"), "* SEARCH 3\r\nr OK SEARCH completed\r\n");
  EXPECT_EQ(send("r3 SEARCH TEXT {5}\r\n"), "+ Ready for literal data\r\n");
  EXPECT_EQ(send("caf\xc3\xa9\r\n"), "* SEARCH 3\r\nr3 OK SEARCH completed\r\n");
  EXPECT_EQ(send("s SEARCH HEADER X-Tag {5}\r\n"), "+ Ready for literal data\r\n");
  EXPECT_EQ(send("na\xc3\xafv\r\n"), "* SEARCH 3\r\ns OK SEARCH completed\r\n");
  // Unicode case folding in header keys too: CAFÉ finds Café, NAÏV finds naïve.
  EXPECT_EQ(send("t SEARCH CHARSET UTF-8 SUBJECT {5}\r\n"), "+ Ready for literal data\r\n");
  EXPECT_EQ(send("CAF\xc3\x89\r\n"), "* SEARCH 3\r\nt OK SEARCH completed\r\n");
  EXPECT_EQ(send("u SEARCH HEADER X-Tag {5}\r\n"), "+ Ready for literal data\r\n");
  EXPECT_EQ(send("NA\xc3\x8fV\r\n"), "* SEARCH 3\r\nu OK SEARCH completed\r\n");
  // And in strings too short for the index, which read the messages: Ï finds ï.
  EXPECT_EQ(send("v SEARCH CHARSET UTF-8 BODY {3}\r\n"), "+ Ready for literal data\r\n");
  EXPECT_EQ(send("\xc3\x8fv\r\n"), "* SEARCH 2\r\nv OK SEARCH completed\r\n");
}

TEST_F(ImapLogin, SortAndThreadFromTheEnvelopeFields) {
  const auto demo = demo_id();
  auto deliver = [&](std::string header, std::string body) {
    ASSERT_TRUE(store_->deliver({demo}, header + "\r\n" + body + "\r\n"));
  };
  deliver(
      "From: Zoe <zoe@x>\r\nTo: b@x\r\nDate: Mon, 2 Nov 2026 10:00 +0000\r\n"
      "Subject: Plan\r\nMessage-ID: <1@x>\r\n",
      "a somewhat longer body");
  deliver(
      "From: adam@x\r\nTo: a@x\r\nDate: Mon, 2 Nov 2026 12:00 +0000\r\n"
      "Subject: Re: Plan\r\nMessage-ID: <2@x>\r\nIn-Reply-To: <1@x>\r\n",
      "x");
  deliver(
      "From: Bob <BOB@x>\r\nTo: c@x\r\nDate: Mon, 2 Nov 2026 11:00 +0100\r\n"
      "Subject: [team] Lunch\r\nMessage-ID: <3@x>\r\n",
      "yy");
  deliver(
      "From: carl@x\r\nDate: Mon, 2 Nov 2026 13:00 +0000\r\nSubject: Re: Re: plan\r\n"
      "Message-ID: <4@x>\r\nReferences: <1@x> <2@x>\r\n",
      "zzz");
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  send("b SELECT INBOX\r\n");
  EXPECT_EQ(send("c SORT (SUBJECT) UTF-8 ALL\r\n"), "* SORT 3 1 2 4\r\nc OK SORT completed\r\n");
  EXPECT_EQ(send("d SORT (REVERSE DATE) UTF-8 ALL\r\n"),
            "* SORT 4 2 1 3\r\nd OK SORT completed\r\n");  // 1 and 3 both 10:00 UTC: in order
  EXPECT_EQ(send("e SORT (FROM SIZE) US-ASCII NOT FROM carl\r\n"),
            "* SORT 2 3 1\r\ne OK SORT completed\r\n");
  EXPECT_EQ(send("f UID SORT (TO) UTF-8 UID 2:*\r\n"),
            "* SORT 4 2 3\r\nf OK UID SORT completed\r\n");  // no To: the empty string first
  EXPECT_EQ(send("g THREAD REFERENCES UTF-8 ALL\r\n"),
            "* THREAD (1 2 4)(3)\r\ng OK THREAD completed\r\n");
  EXPECT_EQ(send("h THREAD ORDEREDSUBJECT UTF-8 ALL\r\n"),
            "* THREAD (1 (2)(4))(3)\r\nh OK THREAD completed\r\n");
  EXPECT_EQ(send("i UID THREAD REFERENCES UTF-8 NOT UID 2\r\n"),
            "* THREAD (1 4)(3)\r\ni OK UID THREAD completed\r\n");
  EXPECT_EQ(send("j THREAD REFERENCES UTF-8 SUBJECT nothing\r\n"),
            "* THREAD\r\nj OK THREAD completed\r\n");
  // RFC 7162 §3.1.5: MODSEQ as a key adds the highest mod-sequence found.
  const auto highest = store_->mailbox(demo, "INBOX")->highest_mod_seq.value;
  EXPECT_EQ(send("j2 SORT (ARRIVAL) UTF-8 MODSEQ 1\r\n"),
            "* SORT 1 2 3 4 (MODSEQ " + std::to_string(highest) + ")\r\nj2 OK SORT completed\r\n");
  // Errors: each a clear answer.
  EXPECT_EQ(send("k SORT (WEIGHT) UTF-8 ALL\r\n"), "k BAD Invalid sort criteria\r\n");
  EXPECT_EQ(send("l SORT (SIZE REVERSE) UTF-8 ALL\r\n"), "l BAD Invalid sort criteria\r\n");
  EXPECT_EQ(send("m SORT (SIZE) KOI8-R ALL\r\n"),
            "m NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset\r\n");
  EXPECT_EQ(send("n THREAD JWZ UTF-8 ALL\r\n"), "n BAD Unknown threading algorithm JWZ\r\n");
  EXPECT_EQ(send("o SORT (SIZE) UTF-8\r\n"),
            "o BAD Syntax: SORT (sort-criteria) charset search-keys\r\n");
  EXPECT_EQ(send("p THREAD REFERENCES UTF-8 BOGUS\r\n"), "p BAD Unknown search key BOGUS\r\n");
}

// FROM, TO, CC, BCC and SUBJECT over a big mailbox: the full-text index names the
// candidates (every piece of the string between white space in their indexed header),
// and only they are checked against their fields: a folded or encoded value still
// matches, and a message not indexed yet is checked as it is.
TEST_F(ImapLogin, HeaderKeysTakeTheirCandidatesFromTheFullTextIndex) {
  ASSERT_TRUE(store_->deliver({demo_id()},
                              "From: Anna <anna@example.org>\r\nSubject: travel\r\n lunch plans"
                              "\r\n\r\nx\r\n"));
  ASSERT_TRUE(store_->deliver({demo_id()},
                              "From: =?utf-8?q?J=C3=B6rg?= <jorg@example.org>\r\n"
                              "Subject: =?utf-8?q?caf=C3=A9?= budget\r\n\r\ny\r\n"));
  ASSERT_TRUE(store_->deliver({demo_id()}, "From: bob@example.org\r\nSubject: other\r\n\r\nz\r\n"));
  ASSERT_EQ(store_->index_text(1 << 20)->indexed, 3u);
  ASSERT_TRUE(
      store_->deliver({demo_id()}, "From: anna@example.org\r\nSubject: Travel lunch\r\n\r\nw\r\n"));
  start(true);
  send("a LOGIN demo@example.test secret\r\nb SELECT INBOX\r\n");
  EXPECT_EQ(send("c SEARCH SUBJECT \"travel lunch\"\r\n"),
            "* SEARCH 1 4\r\nc OK SEARCH completed\r\n");
  EXPECT_EQ(send("d SEARCH FROM ANNA\r\n"), "* SEARCH 1 4\r\nd OK SEARCH completed\r\n");
  EXPECT_EQ(send("e SEARCH NOT FROM anna\r\n"), "* SEARCH 2 3\r\ne OK SEARCH completed\r\n");
  EXPECT_EQ(send("f SEARCH CHARSET UTF-8 FROM {5}\r\n"), "+ Ready for literal data\r\n");
  EXPECT_EQ(send("J\xc3\x96RG\r\n"), "* SEARCH 2\r\nf OK SEARCH completed\r\n");
  EXPECT_EQ(send("g SEARCH CHARSET UTF-8 SUBJECT {12}\r\n"), "+ Ready for literal data\r\n");
  EXPECT_EQ(send("caf\xc3\xa9 budget\r\n"), "* SEARCH 2\r\ng OK SEARCH completed\r\n");
  EXPECT_EQ(send("h SEARCH OR FROM bob SUBJECT plans\r\n"),
            "* SEARCH 1 3\r\nh OK SEARCH completed\r\n");
  // The candidates are the index's: with bob's indexed text taken away behind the
  // store's back, FROM bob finds nothing; "bo" is too short to ask, and is read.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "store.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "DELETE FROM blob_text WHERE rowid = "
                           "(SELECT text_rowid FROM blobs WHERE h_from = 'bob@example.org')",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  EXPECT_EQ(send("i SEARCH FROM bob\r\n"), "* SEARCH\r\ni OK SEARCH completed\r\n");
  EXPECT_EQ(send("j SEARCH FROM bo\r\n"), "* SEARCH 3\r\nj OK SEARCH completed\r\n");
}

// Few candidates in a bigger mailbox (sender17@: one in 30) have their fields read one by
// one; many (sender1: 11 in 30) have the mailbox's read at once; the answers are exact.
TEST_F(ImapLogin, HeaderKeysWithFewCandidatesReadOnlyTheirFields) {
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(store_->deliver({demo_id()}, "From: sender" + std::to_string(i) +
                                                 "@example.org\r\nSubject: s\r\n\r\nx\r\n"));
  }
  ASSERT_EQ(store_->index_text(1 << 20)->indexed, 30u);
  start(true);
  send("a LOGIN demo@example.test secret\r\nb SELECT INBOX\r\n");
  EXPECT_EQ(send("c SEARCH FROM sender17@\r\n"), "* SEARCH 18\r\nc OK SEARCH completed\r\n");
  EXPECT_EQ(send("d SEARCH FROM \"sender2 \"\r\n"), "* SEARCH\r\nd OK SEARCH completed\r\n");
  EXPECT_EQ(send("e SEARCH NOT FROM sender1\r\n"),
            "* SEARCH 1 3 4 5 6 7 8 9 10 21 22 23 24 25 26 27 28 29 30\r\ne OK SEARCH completed\r\n");
}

}  // namespace
}  // namespace postino::imap
