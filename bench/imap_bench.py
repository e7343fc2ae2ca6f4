#!/usr/bin/python3
"""IMAP benchmark on one big mailbox: a `postino serve --dev` is filled over SMTP with
--messages messages (100,000 by default; 8 SMTP sessions at once), then one IMAP client
over TLS times SELECT, UID FETCH 1:* (FLAGS), FETCH 1:* (ENVELOPE), SEARCH FROM,
SEARCH BODY with a rare word (one message has it) and with a common one (every message).

    /usr/bin/python3 bench/imap_bench.py [--binary build/postino] [--messages 100000]
                                         [--data DIR]   (kept: the next run skips the fill)

The client reads the raw responses (no parsing beyond the tagged line), so the figures are
the server's time plus TLS, not a client library's.
"""

import argparse
import os
import re
import smtplib
import socket
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
import harness  # noqa: E402

RARE = 777  # the one message with the rare word
WORDS = ("report meeting budget invoice travel lunch project review schedule draft "
         "quarter results team update notes agenda customer").split()


def message(i):
    subject = f"{WORDS[i % len(WORDS)]} {WORDS[(i * 7) % len(WORDS)]} #{i}"
    sender = f"sender{i % 500}@remote{i % 37}.test"
    body = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(120))
    lines = "\r\n".join(body[j:j + 72] for j in range(0, len(body), 72))
    extra = "\r\nthe rare word is zanzibarite\r\n" if i == RARE else ""
    return (f"From: Sender {i % 500} <{sender}>\r\nTo: demo@example.test\r\n"
            f"Subject: {subject}\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n"
            f"Message-ID: <{i}@remote.test>\r\n\r\n{lines}\r\n{extra}").encode()


def fill(server, user, count, sessions=8):
    def sender(start):
        with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=120) as s:
            for i in range(start, count, sessions):
                s.sendmail(f"bench{i % 500}@remote.test", [user], message(i))
    threads = [threading.Thread(target=sender, args=(k,)) for k in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


class Client:
    def __init__(self, server):
        ctx = server.client_tls_context()
        self.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", server.ports["imaps"]),
                                                             timeout=600),
                                    server_hostname="localhost")
        self.buffer = b""
        self.n = 0
        self.read_until(b"\r\n")
        # Every response is then found after a CRLF, the first one too.
        self.buffer = b"\r\n" + self.buffer

    def read_until(self, marker):
        data = bytearray(self.buffer)
        searched = 0  # only new bytes (and the marker's width before them) are searched
        while (at := data.find(marker, max(0, searched - len(marker) + 1))) < 0:
            searched = len(data)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        self.buffer = bytes(data[at + len(marker):])
        return bytes(data[:at])

    def timed(self, command):
        """Sends a command; returns (seconds, response bytes, tagged line)."""
        self.n += 1
        tag = b"b%d" % self.n
        t0 = time.monotonic()
        self.sock.sendall(tag + b" " + command + b"\r\n")
        data = self.read_until(b"\r\n" + tag + b" ")
        status = self.read_until(b"\r\n")
        self.buffer = b"\r\n" + self.buffer
        return time.monotonic() - t0, data, status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="build/postino")
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--data", help="a data directory kept between runs; filled only when new")
    args = ap.parse_args()
    harness.BINARY = os.path.abspath(args.binary)
    config = "[smtp]\nmax_messages_per_hour = 0\n"
    data = os.path.abspath(args.data) if args.data else None
    is_new = not data or not os.path.exists(os.path.join(data, "store.db"))
    with harness.DevServer(listen=["smtp", "imaps"], config=config, data=data) as server:
        user, password = re.search(r"demo account (\S+)\s+password (\S+)", server.banner).groups()
        if is_new:
            t0 = time.monotonic()
            fill(server, user, args.messages)
            t_fill = time.monotonic() - t0
            print(f"| fill: {args.messages} messages over SMTP, 8 sessions | {t_fill:.1f} s "
                  f"({args.messages / t_fill:.0f} messages/s) |")
            # The full-text index is filled once the mail stops coming.
            db = sqlite3.connect(f"file:{server.data}/store.db?mode=ro", uri=True)
            t0 = time.monotonic()
            while db.execute("SELECT count(*) FROM blobs WHERE text_rowid IS NULL").fetchone()[0]:
                time.sleep(0.2)
            db.close()
            t_index = time.monotonic() - t0
            print(f"| full-text index caught up after the fill | {t_index:.1f} s "
                  f"({args.messages / t_index:.0f} messages/s) |")
        c = Client(server)
        c.timed(f"LOGIN {user} {password}".encode())
        for label, command in (
                ("SELECT INBOX", b"SELECT INBOX"),
                ("UID FETCH 1:* (FLAGS)", b"UID FETCH 1:* (FLAGS)"),
                ("FETCH 1:* (ENVELOPE)", b"FETCH 1:* (ENVELOPE)"),
                ("SEARCH FROM sender42@", b"SEARCH FROM sender42@"),
                ("SEARCH BODY zanzibarite (1 message has it)", b"SEARCH BODY zanzibarite"),
                ("SEARCH BODY budget (every message has it)", b"SEARCH BODY budget"),
                ("SEARCH SUBJECT \"travel lunch\"", b'SEARCH SUBJECT "travel lunch"'),
        ):
            seconds, data, status = c.timed(command)
            if not status.startswith(b"OK"):
                raise SystemExit(f"{label}: {status!r}")
            hits = ""
            if command.startswith(b"SEARCH"):
                hits = f", {len(data.split(b'* SEARCH', 1)[1].split())} hits"
            print(f"| {label} | {seconds * 1000:.0f} ms ({len(data) / 1e6:.1f} MB{hits}) |")


if __name__ == "__main__":
    main()
