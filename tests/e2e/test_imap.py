"""IMAP with Python's imaplib (RFC 3501 §6.2, §6.3, RFC 4959, RFC 5530): LOGIN and
AUTHENTICATE PLAIN, LOGIN and SCRAM-SHA-256 over STARTTLS and port 993, failures
answered NO [AUTHENTICATIONFAILED], nothing accepted before TLS; mailbox management (CREATE, DELETE, RENAME, LIST, LSUB,
SUBSCRIBE, STATUS) with modified UTF-7 names; mail delivered by SMTP read, flagged and
expunged; ENVELOPE, BODYSTRUCTURE and body sections; APPEND, COPY and MOVE; curl over
imap:// with STARTTLS and imaps://."""

import base64
import imaplib
import re
import statistics
import time

import harness


class ImapLoginTest(harness.ServerTestCase):
    listen = ["imap", "imaps", "smtp"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user, cls.password = re.search(r"demo account (\S+)\s+password (\S+)", cls.server.banner).groups()

    def test_login_over_imaps_and_starttls(self):
        ctx = self.server.client_tls_context()
        m = imaplib.IMAP4_SSL("localhost", self.server.ports["imaps"], ssl_context=ctx, timeout=10)
        self.assertIn("AUTH=PLAIN", m.capabilities)
        typ, data = m.login(self.user, self.password)
        self.assertEqual(typ, "OK")
        self.assertIn(b"Logged in", data[0])
        self.assertEqual(m.noop()[0], "OK")
        m.logout()
        m = imaplib.IMAP4("127.0.0.1", self.server.ports["imap"], timeout=10)
        self.assertIn("LOGINDISABLED", m.capabilities)
        m.starttls(ssl_context=ctx)
        self.assertNotIn("LOGINDISABLED", m.capabilities)
        self.assertEqual(m.login(self.user, self.password)[0], "OK")
        m.logout()

    def test_authenticate_plain(self):
        m = imaplib.IMAP4_SSL("localhost", self.server.ports["imaps"],
                              ssl_context=self.server.client_tls_context(), timeout=10)
        typ, _ = m.authenticate("PLAIN", lambda _: f"\0{self.user}\0{self.password}".encode())
        self.assertEqual(typ, "OK")
        m.logout()

    def test_authenticate_login_and_scram_sha256(self):
        ctx = self.server.client_tls_context()
        m = imaplib.IMAP4_SSL("localhost", self.server.ports["imaps"], ssl_context=ctx, timeout=10)
        self.assertIn("AUTH=SCRAM-SHA-256", m.capabilities)
        client = harness.ScramSha256Client(self.user, self.password)
        self.assertEqual(m.authenticate("SCRAM-SHA-256", client)[0], "OK")
        self.assertTrue(client.verified, "the server's signature (v=) did not check out")
        self.assertEqual(m.select("INBOX")[0], "OK")
        m.logout()
        m = imaplib.IMAP4_SSL("localhost", self.server.ports["imaps"], ssl_context=ctx, timeout=10)
        with self.assertRaises(imaplib.IMAP4.error) as e:
            m.authenticate("SCRAM-SHA-256", harness.ScramSha256Client(self.user, "wrong"))
        self.assertIn("AUTHENTICATIONFAILED", str(e.exception))
        answers = iter([self.user.encode(), self.password.encode()])
        self.assertEqual(m.authenticate("LOGIN", lambda _: next(answers))[0], "OK")
        m.logout()

    def test_wrong_password_is_authenticationfailed(self):
        m = imaplib.IMAP4_SSL("localhost", self.server.ports["imaps"],
                              ssl_context=self.server.client_tls_context(), timeout=10)
        with self.assertRaises(imaplib.IMAP4.error) as e:
            m.login(self.user, "wrong")
        self.assertIn("AUTHENTICATIONFAILED", str(e.exception))
        with self.assertRaises(imaplib.IMAP4.error):
            m.login("nobody@example.test", "wrong")
        m.shutdown()

    def test_mailbox_management_with_imaplib(self):
        m = imaplib.IMAP4_SSL("localhost", self.server.ports["imaps"],
                              ssl_context=self.server.client_tls_context(), timeout=10)
        m.login(self.user, self.password)
        self.assertEqual(m.create("Projects/2026")[0], "OK")
        self.assertEqual(m.create('"Caf&AOk-"')[0], "OK")
        typ, listing = m.list()
        self.assertEqual(typ, "OK")
        names = [line.decode().rsplit(' "/" ', 1)[1] for line in listing]
        for expected in ("INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive", "Projects",
                         "Projects/2026", "Caf&AOk-"):
            self.assertIn(expected, names)
        self.assertEqual(m.rename("Projects", "Old")[0], "OK")
        self.assertEqual(m.delete("Old/2026")[0], "OK")
        self.assertEqual(m.delete("Old")[0], "OK")
        typ, data = m.status("INBOX", "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)")
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0].decode(), r"^INBOX \(MESSAGES \d+ UIDNEXT \d+ UIDVALIDITY \d+ UNSEEN \d+\)$")
        self.assertEqual(m.unsubscribe("Junk")[0], "OK")
        self.assertNotIn(b"Junk", b" ".join(m.lsub()[1]))
        # RELIABILITY I01: no way out of the user's own namespace.
        for bad in ("../x", "a//b", "/etc", "~root", "./a"):
            typ, data = m.create(bad)
            self.assertEqual(typ, "NO", bad)
            self.assertIn(b"[CANNOT]", data[0])
        typ, data = m.create('"&Jjo"')  # RELIABILITY I02: broken modified UTF-7
        self.assertEqual(typ, "NO")
        m.logout()

    def test_mail_delivered_by_smtp_is_read_flagged_and_expunged_over_imap(self):
        import smtplib
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.sendmail("a@remote.test", [self.user], b"Subject: over imap\r\n\r\nhello imap\r\n")
        m = imaplib.IMAP4_SSL("localhost", self.server.ports["imaps"],
                              ssl_context=self.server.client_tls_context(), timeout=10)
        m.login(self.user, self.password)
        typ, data = m.select("INBOX")
        self.assertEqual(typ, "OK")
        count = int(data[0])
        self.assertGreaterEqual(count, 1)
        typ, data = m.fetch(str(count), "(UID RFC822.SIZE BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        body = data[0][1]
        self.assertTrue(body.startswith(b"Return-Path: <a@remote.test>\r\nReceived: "))
        self.assertTrue(body.endswith(b"Subject: over imap\r\n\r\nhello imap\r\n"))
        self.assertIn(f"RFC822.SIZE {len(body)}".encode(), data[0][0])
        typ, data = m.fetch(str(count), "(FLAGS)")
        self.assertNotIn(b"\\Seen", data[0])  # PEEK left it unseen
        typ, data = m.fetch(str(count), "(BODY[TEXT])")
        self.assertEqual(data[0][1], b"hello imap\r\n")
        typ, data = m.fetch(str(count), "(FLAGS)")
        self.assertIn(b"\\Seen", data[0])
        typ, data = m.store(str(count), "+FLAGS", "(\\Deleted)")
        self.assertEqual(typ, "OK")
        typ, data = m.expunge()
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [str(count).encode()])
        typ, data = m.select("INBOX", readonly=True)
        self.assertEqual(int(data[0]), count - 1)
        m.close()
        # APPEND to Sent, then COPY and MOVE, as a mail client does when it sends.
        message = b"Subject: sent by me\r\n\r\nkeep a copy\r\n"
        typ, data = m.append("Sent", "(\\Seen)", imaplib.Time2Internaldate(1795550000), message)
        self.assertEqual(typ, "OK")
        # UIDPLUS (RFC 4315): APPENDUID names Sent's UIDVALIDITY and the new UID.
        sent_validity = m.status("Sent", "(UIDVALIDITY)")[1][0].split()[-1].rstrip(b")")
        self.assertEqual(re.match(rb"\[APPENDUID (\d+) (\d+)\]", data[0]).groups(),
                         (sent_validity, b"1"))
        m.select("Sent")
        typ, data = m.fetch("1", "(FLAGS BODY.PEEK[])")
        self.assertIn(b"\\Seen", data[0][0])
        self.assertEqual(data[0][1], message)
        typ, data = m.copy("1", "Archive")
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0], rb"^\[COPYUID \d+ 1 1\] COPY completed")
        typ, data = m._simple_command("MOVE", "1", "Trash")
        self.assertEqual(typ, "OK")
        self.assertRegex(m.untagged_responses["OK"][-1], rb"^\[COPYUID \d+ 1 1\] Moved UIDs.")
        m.append("Sent", "(\\Deleted)", None, message)
        m.append("Sent", "(\\Deleted)", None, message)
        m.noop()
        m.untagged_responses.pop("EXPUNGE", None)  # the MOVE's
        self.assertEqual(m.uid("EXPUNGE", "3")[0], "OK")  # only UID 3; UID 2 stays, \Deleted
        self.assertEqual(m.response("EXPUNGE"), ("EXPUNGE", [b"2"]))  # sequence number 2
        self.assertEqual(m.uid("SEARCH", "ALL")[1], [b"2"])
        m.expunge()
        self.assertEqual(m.status("Trash", "(MESSAGES)")[1][0], b"Trash (MESSAGES 1)")
        self.assertEqual(m.status("Sent", "(MESSAGES)")[1][0], b"Sent (MESSAGES 0)")
        m.logout()

    def test_envelope_and_bodystructure_of_a_delivered_message(self):
        import smtplib
        message = ("From: J\u00f6rg <jorg@remote.test>\r\nTo: Team: a@x.test, \"B, Jr.\" <b@y.test>;\r\n"
                   "Subject: envelope\r\nMessage-ID: <e1@remote.test>\r\n\r\nbody\r\n").encode()
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.sendmail("jorg@remote.test", [self.user], message)
        m = imaplib.IMAP4_SSL("localhost", self.server.ports["imaps"],
                              ssl_context=self.server.client_tls_context(), timeout=10)
        m.login(self.user, self.password)
        count = int(m.select("INBOX", readonly=True)[1][0])
        typ, data = m.fetch(str(count), "ENVELOPE")
        self.assertEqual(typ, "OK")
        # The 8-bit display name comes as a literal: imaplib splits the response around each.
        text = b"".join(p[0] + b"<" + p[1] + b">" if isinstance(p, tuple) else p for p in data)
        jorg = '{5}<J\u00f6rg>'.encode()
        self.assertIn(
            b'(ENVELOPE (NIL "envelope"'
            b' ((' + jorg + b' NIL "jorg" "remote.test"))'  # From, then Sender and Reply-To from it
            b' ((' + jorg + b' NIL "jorg" "remote.test")) ((' + jorg + b' NIL "jorg" "remote.test"))'
            b' ((NIL NIL "Team" NIL)(NIL NIL "a" "x.test")("B, Jr." NIL "b" "y.test")(NIL NIL NIL NIL))'
            b' NIL NIL NIL "<e1@remote.test>"))', text)
        typ, data = m.fetch(str(count), "(BODY BODYSTRUCTURE)")
        self.assertIn(b'(BODY ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1)'
                      b' BODYSTRUCTURE ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1 NIL NIL NIL NIL))',
                      data[0])
        # What a mail client fetches for its message list, then the text part.
        typ, data = m.fetch(str(count), "(BODY.PEEK[HEADER.FIELDS (Subject Message-ID)] BODY.PEEK[1])")
        self.assertEqual(typ, "OK")
        self.assertIn(b"BODY[HEADER.FIELDS (SUBJECT MESSAGE-ID)] {51}", data[0][0])
        self.assertEqual(data[0][1], b"Subject: envelope\r\nMessage-ID: <e1@remote.test>\r\n\r\n")
        self.assertEqual(data[1][1], b"body\r\n")
        m.logout()

    def test_a_large_message_round_trips_through_append_and_fetch(self):
        # 8 MB: FETCH streams it from the message file in pieces (FetchResponder).
        m = imaplib.IMAP4_SSL("localhost", self.server.ports["imaps"],
                              ssl_context=self.server.client_tls_context(), timeout=30)
        m.login(self.user, self.password)
        m.create("Big")
        lines = b"".join(b"%07d abcdefghijklmnopqrstuvwxyz0123456789\r\n" % i for i in range(180000))
        message = b"Subject: big\r\n\r\n" + lines
        self.assertEqual(m.append("Big", None, None, message)[0], "OK")
        m.select("Big")
        typ, data = m.fetch("1", "(BODY.PEEK[] BODY.PEEK[TEXT]<1000000.3000000>)")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0][1], message)
        self.assertEqual(data[1][1], lines[1000000:4000000])
        m.logout()

    def test_append_is_not_held_up_by_delayed_acks(self):
        # imaplib writes a literal and its closing CRLF apart, with Nagle's algorithm on: the
        # CRLF waits until the literal is acknowledged. With nothing to answer yet the server
        # acknowledges at once (TCP_QUICKACK); before, every APPEND waited for Linux's
        # delayed ACK (44 ms each, against 1-2 ms for Dovecot, which does the same).
        m = imaplib.IMAP4_SSL("localhost", self.server.ports["imaps"],
                              ssl_context=self.server.client_tls_context(), timeout=10)
        m.login(self.user, self.password)
        m.create("Acks")
        message = b"Subject: ack\r\n\r\n" + b"a line of text\r\n" * 200
        took = []
        for _ in range(15):
            began = time.monotonic()
            self.assertEqual(m.append("Acks", None, None, message)[0], "OK")
            took.append(time.monotonic() - began)
        self.assertLess(statistics.median(took), 0.020, f"APPEND times: {took}")
        m.logout()

    def test_curl_over_imap_starttls_and_imaps(self):
        import subprocess
        import tempfile

        def curl(url, *extra, data=None):
            out = subprocess.run(["curl", "-sS", "--cacert", self.server.cert_file,
                                  "--user", f"{self.user}:{self.password}", *extra, url],
                                 input=data, capture_output=True, timeout=30)
            self.assertEqual(out.returncode, 0, out.stderr)
            return out.stdout

        imaps = f"imaps://localhost:{self.server.ports['imaps']}"
        imap = f"imap://127.0.0.1:{self.server.ports['imap']}"
        curl(imaps + "/", "-X", "CREATE CurlBox")
        self.assertIn(b'"/" CurlBox', curl(imaps + "/"))  # LIST
        message = b"Subject: via curl\r\nFrom: c@example.test\r\n\r\nuploaded by curl\r\n"
        with tempfile.NamedTemporaryFile(suffix=".eml") as f:
            f.write(message)
            f.flush()
            curl(imaps + "/CurlBox", "-T", f.name)  # APPEND
        # STARTTLS on 143 (--ssl-reqd: never in the clear), the message by UID.
        self.assertEqual(curl(imap + "/CurlBox;UID=1", "--ssl-reqd"), message)
        self.assertEqual(curl(imap + "/CurlBox;UID=1;SECTION=TEXT", "--ssl-reqd"),
                         b"uploaded by curl\r\n")
        self.assertIn(b"* SEARCH 1", curl(imaps + "/CurlBox?SUBJECT%20curl"))
        self.assertIn(b"* SEARCH", curl(imaps + "/CurlBox?BODY%20nowhere"))
        curl(imaps + "/", "-X", "DELETE CurlBox")
        self.assertNotIn(b"CurlBox", curl(imaps + "/"))

    def test_delivered_mail_is_indexed_in_the_background_and_found_by_search_body(self):
        import smtplib
        import sqlite3
        import time
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.sendmail("a@remote.test", [self.user],
                       b"Subject: index me\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                       b"the word is quixotic=\r\nally\r\n")
        db = sqlite3.connect(f"file:{self.server.data}/store.db?mode=ro", uri=True)
        deadline = time.monotonic() + 10
        while db.execute("SELECT count(*) FROM blobs WHERE text_rowid IS NULL").fetchone()[0]:
            self.assertLess(time.monotonic(), deadline, "the indexer did not index new mail")
            time.sleep(0.1)
        rows = db.execute("SELECT count(*) FROM blob_text WHERE blob_text MATCH "
                          "'\"quixotically\"'").fetchone()[0]
        db.close()
        self.assertEqual(rows, 1)  # decoded from quoted-printable, soft break joined
        m = imaplib.IMAP4_SSL("localhost", self.server.ports["imaps"],
                              ssl_context=self.server.client_tls_context(), timeout=10)
        m.login(self.user, self.password)
        m.select("INBOX", readonly=True)
        typ, data = m.search(None, "BODY", "QUIXOTICALLY")
        self.assertEqual(typ, "OK")
        self.assertEqual(len(data[0].split()), 1)
        m.logout()

    def test_message_commands_need_a_selected_mailbox(self):
        c = self.server.connect("imaps")
        self.assertTrue(c.line().startswith("* OK"))
        token = base64.b64encode(f"\0{self.user}\0{self.password}".encode()).decode()
        c.send(f"a AUTHENTICATE PLAIN {token}\r\nb SEARCH ALL\r\nc LOGOUT\r\n")
        self.assertEqual(c.line(), "a OK [CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE IDLE CHILDREN NAMESPACE UNSELECT MOVE UIDPLUS SPECIAL-USE CREATE-SPECIAL-USE STATUS=SIZE CONDSTORE QRESYNC QUOTA ESEARCH SEARCHRES SORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES LIST-EXTENDED LIST-STATUS BINARY UTF8=ACCEPT COMPRESS=DEFLATE APPENDLIMIT=52428800] Logged in")
        self.assertEqual(c.line(), "b BAD Command not valid in this state")
        self.assertEqual(c.line(), "* BYE Logging out")
        c.close()


if __name__ == "__main__":
    harness.main()
