"""Postino's IMAP answers compared with Dovecot's (Debian's dovecot-imapd, on a loopback
port of its own) where the RFCs leave room for reading: SORT and both THREAD algorithms
of RFC 5256 over a corpus written to reach every rule of the base subject and of the
REFERENCES algorithm (missing and shared parents, duplicate and absent Message-IDs,
reference loops, In-Reply-To alone, forwards, list tags, zones, undated messages, groups),
and BINARY (RFC 3516) over parts in every transfer encoding.

The same messages are appended to both servers in the same order with the same internal
dates, so sequence numbers and UIDs agree; every command's untagged answer must be the
same bytes.
"""

import imaplib
import time

import harness
from dovecot import Dovecot


def message(subject=None, mid=None, refs=None, irt=None, date=None, frm="a@x", to=None,
            cc=None, body="x"):
    header = [f"From: {frm}"]
    for name, value in (("To", to), ("Cc", cc), ("Date", date), ("Subject", subject),
                        ("Message-ID", mid), ("References", refs), ("In-Reply-To", irt)):
        if value is not None:
            header.append(f"{name}: {value}")
    return ("\r\n".join(header) + "\r\n\r\n" + body + "\r\n").encode()


D = "Mon, 2 Nov 2026 {} +0000"
CORPUS = [
    message("Plan", "<1@x>", date=D.format("10:00"), frm="Zoe <zoe@x>", to="b@x",
            body="a longer body"),
    message("Re: Plan", "<2@x>", irt="<1@x>", date=D.format("12:00"), frm="adam@x", to="A@x",
            cc="q@x"),
    message("[team] Lunch", "<3@x>", date="Mon, 2 Nov 2026 11:00 +0100", frm="Bob <BOB@x>",
            to="c@x"),
    message("Re: Re: plan", "<4@x>", refs="<1@x> <2@x>", date=D.format("13:00"), frm="carl@x",
            cc="a@x"),
    message("Lost", "<5@x>", refs="<gone@x>", date=D.format("14:00"), frm="\"Dee\" <dee@x>"),
    message("Other", "<6@x>", refs="<gone@x>", date=D.format("09:00")),
    message("Solo", "<7@x>", refs="<missing@x>", date=D.format("08:00")),
    message("Talk", "<8@x>", date=D.format("15:00"), to="undisclosed-recipients:;"),
    message("Talk", "<9@x>", date=D.format("16:00")),
    message("Fwd: Talk (fwd)", "<10@x>", date=D.format("17:00")),
    message("[Fwd: Lunch]", "<11@x>", date=D.format("18:00")),
    message(None, "<12@x>"),
    message("dup", "<8@x>", refs="<3@x>", date=D.format("19:00")),
    message("Re: Talk", None, irt="<9@x>", date=D.format("20:00")),
    message("loop a", "<15@x>", refs="<16@x>", date=D.format("21:00")),
    message("loop b", "<16@x>", refs="<15@x>", date=D.format("22:00")),
    message("=?UTF-8?Q?R=C3=A9sum=C3=A9?=", "<17@x>", date=D.format("23:00")),
    message("Re: =?UTF-8?Q?r=C3=A9sum=C3=A9?=", "<18@x>", irt="<17@x>",
            date="Tue, 3 Nov 2026 00:30 +0100"),
    message("[list] Re: [x] deep", "<19@x>", refs="<a@x> <b@x> <c@x>",
            date="3 Nov 2026 01:00 -0500"),
    message("deep", "<20@x>", refs="<a@x> <b@x>", date="3 Nov 2026 02:00 EST"),
    message("Re: [list] deep", "<21@x>", refs="<a@x>", date="garbage date"),
    message("", "<22@x>", date=D.format("10:00")),
    message("Talk", "<23@x>", irt="<none@x> <8@x>", date=D.format("10:30")),
]

COMMANDS = [
    "SORT (ARRIVAL) UTF-8 ALL", "SORT (DATE) UTF-8 ALL", "SORT (REVERSE DATE) UTF-8 ALL",
    "SORT (FROM) UTF-8 ALL", "SORT (TO) UTF-8 ALL", "SORT (CC) UTF-8 ALL",
    "SORT (SUBJECT) UTF-8 ALL", "SORT (SIZE) UTF-8 ALL", "SORT (REVERSE SUBJECT DATE) UTF-8 ALL",
    "SORT (REVERSE ARRIVAL) UTF-8 ALL", "SORT (SUBJECT REVERSE SIZE) UTF-8 NOT SUBJECT talk",
    "UID SORT (SUBJECT) UTF-8 ALL",
    "THREAD ORDEREDSUBJECT UTF-8 ALL", "THREAD REFERENCES UTF-8 ALL",
    "THREAD REFERENCES UTF-8 NOT SUBJECT plan", "UID THREAD REFERENCES UTF-8 UID 2:20",
    "SORT (SIZE) UTF-8 SUBJECT nothing-matches",
]
# Left out on purpose: a THREAD that finds nothing. Dovecot 2.3 answers "* THREAD " with a
# trailing space; RFC 5256 §4's thread-data ("THREAD" [SP 1*thread-list]) has none, and
# Postino sends "* THREAD" (ImapLogin.SortAndThreadFromTheEnvelopeFields).


def fill(c):
    for i, raw in enumerate(CORPUS):
        when = time.mktime((2026, 11, 1, 0, (i * 37) % 60, i, 0, 0, 0)) - time.timezone
        status, _ = c.append("INBOX", None, imaplib.Time2Internaldate(when), raw)
        assert status == "OK", status
    status, _ = c.select("INBOX")
    assert status == "OK", status


def ask(c, command):
    """The untagged lines of one command and its status word."""
    tag = c._new_tag()
    c.send(tag + b" " + command.encode() + b"\r\n")
    lines = []
    while True:
        line = c.readline().rstrip(b"\r\n")
        if line.startswith(tag + b" "):
            return lines, line.split(b" ", 2)[1]
        lines.append(line)


BINARY_MESSAGE = (
    b"Subject: parts\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
    b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    b"caf=C3=A9 =\r\nau lait=3D\r\n"
    b"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    b"AAEC/wBo\r\nZWxsbw==\r\n"
    b"--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    b"d\xc3\xa9j\xc3\xa0 vu\r\n"
    b"--b\r\nContent-Type: message/rfc822\r\n\r\n"
    b"Subject: inner\r\nContent-Transfer-Encoding: base64\r\n\r\naGk=\r\n"
    b"--b--\r\n")

BINARY_COMMANDS = [
    "FETCH 1 (BINARY.PEEK[1])", "FETCH 1 (BINARY.PEEK[2])", "FETCH 1 (BINARY.PEEK[3])",
    "FETCH 1 (BINARY.SIZE[1] BINARY.SIZE[2] BINARY.SIZE[3])", "FETCH 1 (BINARY.PEEK[2]<2.3>)",
    "FETCH 1 (BINARY.PEEK[4.1])", "FETCH 1 (BINARY.SIZE[4.1])",
]


class LikeDovecotTest(harness.ServerTestCase):
    listen = ["imap"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dovecot = Dovecot().start()

    @classmethod
    def tearDownClass(cls):
        cls.dovecot.stop()
        super().tearDownClass()

    def both(self):
        theirs = self.dovecot.imap()
        ours = imaplib.IMAP4("127.0.0.1", self.server.ports["imap"])
        ours.starttls(self.server.client_tls_context())
        ours.login(*self.server.demo_credentials())
        self.addCleanup(theirs.logout)
        self.addCleanup(ours.logout)
        return ours, theirs

    def test_sort_and_thread_answers_equal_dovecots(self):
        ours, theirs = self.both()
        for c in (ours, theirs):
            fill(c)
        for command in COMMANDS:
            with self.subTest(command=command):
                self.assertEqual(ask(ours, command), ask(theirs, command))

    def test_binary_answers_equal_dovecots(self):
        ours, theirs = self.both()
        for c in (ours, theirs):
            self.assertEqual(c.create("Bin")[0], "OK")
            self.assertEqual(c.append("Bin", None, None, BINARY_MESSAGE)[0], "OK")
            self.assertEqual(c.select("Bin")[0], "OK")
        for command in BINARY_COMMANDS:
            with self.subTest(command=command):
                self.assertEqual(ask(ours, command), ask(theirs, command))


if __name__ == "__main__":
    harness.main()
