#!/usr/bin/python3
"""IMAP on one big mailbox, Postino against Dovecot (the IMAP server of Postfix + Dovecot)
on the same machine in the same run. One Maildir of --messages messages (100,000 by
default; realistic headers, about 1 KB each, one message with a rare word) is written
once; Dovecot serves a copy of it, Postino imports it (`postino import maildir`, then its
full-text index catches up). One client over plain TCP on loopback times, on each server:
LOGIN (Postino reads INBOX's summary before it answers a LOGIN, so on a cold server the
reads of a SELECT that follows may happen there: both are shown), SELECT, UID FETCH 1:*
(FLAGS) (and the two together: a server may answer SELECT before it reads the list),
FETCH 1:* (ENVELOPE), SEARCH FROM, SEARCH BODY of a rare word and of a common one,
SEARCH SUBJECT. Each server is first walked through once (Dovecot
builds its index of a new Maildir then); after that, --repeat times and alternating:
"cold" is a restarted server with the kernel's page cache dropped, "warm" the same
commands once more. Medians are printed with the ratio (Dovecot's time / Postino's) and
written to bench/results/imap_bigbox.json with a plot (imap_bigbox.png).

    /usr/bin/python3 bench/imap_bench.py [--binary build/postino] [--messages 100000]
        [--repeat 3] [--hash yescrypt|sha512-crypt]

Dovecot is Debian's 2.3 as installed, without a full-text search plugin (SEARCH BODY
reads the messages): the comparison is of what each does out of the box. Both check the
same password hash (--hash, yescrypt by default: bench/passwords.py), as a LOGIN with a
memory-hard hash leaves the CPU's caches cold for the SELECT after it. Dropping the
page cache needs root; without it "cold" is only a restart.
"""

import argparse
import json
import os
import pwd
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import harness  # noqa: E402
from dovecot import Dovecot  # noqa: E402
from passwords import dovecot_passdb, password_hash, write_passwd_file  # noqa: E402
from settle import wait_for_text_index  # noqa: E402

RARE = 777  # the one message with the rare word
WORDS = ("report meeting budget invoice travel lunch project review schedule draft "
         "quarter results team update notes agenda customer").split()
USER = "bench"
PASSWORD = "bigbox-pw"  # not dovecot.py's static "secret": the passwd-file must answer
COMMANDS = (
    ("SELECT INBOX", b"SELECT INBOX"),
    ("UID FETCH 1:* (FLAGS)", b"UID FETCH 1:* (FLAGS)"),
    ("FETCH 1:* (ENVELOPE)", b"FETCH 1:* (ENVELOPE)"),
    ("SEARCH FROM sender42@", b"SEARCH FROM sender42@"),
    ("SEARCH BODY zanzibarite (1 hit)", b"SEARCH BODY zanzibarite"),
    ("SEARCH BODY budget (every message)", b"SEARCH BODY budget"),
    ("SEARCH SUBJECT \"travel lunch\"", b'SEARCH SUBJECT "travel lunch"'),
)

# A server may answer SELECT before it has read the message list (Postino does, as Dovecot
# answers from its index header): the next command then waits for the list. The two
# together are what a client waits for before it shows the mailbox.
BOTH = "SELECT, then UID FETCH (both)"
LOGIN = "LOGIN"
LABELS = ([LOGIN] + [label for label, _ in COMMANDS[:2]] + [BOTH] +
          [label for label, _ in COMMANDS[2:]])


def message(i):
    subject = f"{WORDS[i % len(WORDS)]} {WORDS[(i * 7) % len(WORDS)]} #{i}"
    sender = f"sender{i % 500}@remote{i % 37}.test"
    body = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(120))
    lines = "\r\n".join(body[j:j + 72] for j in range(0, len(body), 72))
    extra = "\r\nthe rare word is zanzibarite\r\n" if i == RARE else ""
    return (f"Return-Path: <{sender}>\r\nFrom: Sender {i % 500} <{sender}>\r\n"
            f"To: {USER}@example.test\r\nSubject: {subject}\r\n"
            f"Date: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{i}@remote.test>\r\n"
            f"\r\n{lines}\r\n{extra}").encode()


def write_maildir(path, count):
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    base = 1796000000
    for i in range(count):
        # Delivered, not read yet: cur/ with no flags, mtimes in order (the arrival order).
        name = os.path.join(path, "cur", f"{base + i}.M{i}P1.bench,S={len(message(i))}:2,")
        with open(name, "wb") as f:
            f.write(message(i))
        os.utime(name, (base + i, base + i))


class Client:
    """Reads raw responses (nothing parsed beyond the tagged line), so the figures are the
    server's time, not a client library's: responses are received straight into one
    buffer, allocated and touched once and kept, and the clock stops when the tagged line
    is in, before anything is copied out. (A bytearray grown per response, then copied
    twice into bytes, cost the client 25-40 ms of a 3.5 MB `UID FETCH 1:* (FLAGS)`, in
    fresh pages, more than either server's own time.)"""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=1200)
        self.buf = bytearray(64 << 20)
        self.buf[::4096] = bytes(len(range(0, len(self.buf), 4096)))  # every page touched now
        self.start = 0  # the unread bytes are buf[start:end]
        self.end = 0
        self.n = 0
        self.consumed(self.read_until(b"\r\n"))  # the greeting

    def consumed(self, upto):
        """Everything before upto, which ends with a CRLF, is read: the next response is
        then found after that CRLF."""
        self.start = upto - 2
        if self.start == self.end - 2:
            self.buf[:2] = b"\r\n"
            self.start, self.end = 0, 2

    def read_until(self, marker, since=None):
        """The offset just past the first marker at or after since (start by default),
        received until it is."""
        searched = since = self.start if since is None else since
        while (at := self.buf.find(marker, max(since, searched - len(marker) + 1),
                                   self.end)) < 0:
            searched = self.end
            if self.end == len(self.buf):
                del self.buf[:self.start]  # only a long response gets here: room at the end
                self.end -= self.start
                searched -= self.start
                since -= self.start
                self.start = 0
                self.buf.extend(bytes(len(self.buf)))
                self.buf[::4096] = bytes(len(range(0, len(self.buf), 4096)))
            with memoryview(self.buf) as view:
                n = self.sock.recv_into(view[self.end:])
            if not n:
                raise ConnectionError("closed")
            self.end += n
        return at + len(marker)

    def timed(self, command):
        self.n += 1
        tag = b"b%d" % self.n
        began = time.monotonic()
        self.sock.sendall(tag + b" " + command + b"\r\n")
        status_at = self.read_until(b"\r\n" + tag + b" ")
        status_end = self.read_until(b"\r\n", status_at)
        seconds = time.monotonic() - began
        data = bytes(self.buf[self.start:status_at - len(tag) - 3])
        status = bytes(self.buf[status_at:status_end - 2])
        self.consumed(status_end)
        return seconds, data, status

    def close(self):
        self.sock.close()


class PostinoBox:
    name = "Postino"

    def __init__(self, binary, maildir, messages, passwd):
        harness.BINARY = binary
        self.data = tempfile.mkdtemp(prefix="postino-bigbox-")
        self.config = "[imap]\nallow_plaintext_loopback = true\n"
        self.server = harness.DevServer(listen=["imap"], config=self.config,
                                        data=self.data).start()
        # example.test is the dev server's own domain.
        self.cli("user", "import-passwd", passwd)
        began = time.monotonic()
        self.cli("import", "maildir", maildir, "--user", f"{USER}@example.test")
        print(f"Postino: imported {messages} messages in {time.monotonic() - began:.1f} s",
              flush=True)
        self.wait_for_index()

    def cli(self, *args, stdin=None):
        subprocess.run([harness.BINARY, "--data", self.data, *args], input=stdin, text=True,
                       check=True, capture_output=True, timeout=3600)

    def wait_for_index(self):
        waited = wait_for_text_index(self.data, timeout=3600)
        print(f"Postino: full-text index caught up in {waited:.1f} s", flush=True)

    @property
    def port(self):
        return self.server.ports["imap"]

    def login(self):
        return f"{USER}@example.test", PASSWORD

    def restart(self):
        self.server.stop()
        self.server.close()
        self.server = harness.DevServer(listen=["imap"], config=self.config,
                                        data=self.data).start()

    def stop(self):
        self.server.close()
        shutil.rmtree(self.data, ignore_errors=True)


class DovecotBox:
    name = "Dovecot"

    def __init__(self, maildir, passwd):
        self.dovecot = Dovecot(extra=dovecot_passdb(passwd)).start()
        home = os.path.join(self.dovecot.dir, "home", USER)
        shutil.copytree(maildir, os.path.join(home, "Maildir"))
        if os.getuid() == 0:
            nobody = pwd.getpwnam("nobody")
            for root, dirs, files in os.walk(home):
                for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                    os.chown(name, nobody.pw_uid, nobody.pw_gid)

    @property
    def port(self):
        return self.dovecot.port

    def login(self):
        return USER, PASSWORD

    def restart(self):
        config = self.dovecot.config
        subprocess.run(["dovecot", "-c", config, "stop"], capture_output=True)
        pid = os.path.join(self.dovecot.dir, "run", "master.pid")
        deadline = time.monotonic() + 20
        while os.path.exists(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        subprocess.run(["dovecot", "-c", config], check=True)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("dovecot did not come back: " + self.dovecot.log())
                time.sleep(0.05)

    def stop(self):
        self.dovecot.stop()


def drop_caches():
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def start_boxes(binary, work, maildir, messages, scheme):
    """Postino and Dovecot serving `maildir`, both checking the same password hash
    (bench/passwords.py); Dovecot's auth process reads its file in `work`."""
    hashed = password_hash(PASSWORD, scheme)
    os.chmod(work, 0o755)
    passwd = {name: os.path.join(work, f"{name}.passwd") for name in ("postino", "dovecot")}
    write_passwd_file(passwd["postino"], [f"{USER}@example.test"], hashed)
    write_passwd_file(passwd["dovecot"], [USER], hashed)
    for path in passwd.values():
        os.chmod(path, 0o644)
    return [PostinoBox(binary, maildir, messages, passwd["postino"]),
            DovecotBox(maildir, passwd["dovecot"])]


def logged_in(box):
    """A client logged in to the box, and the seconds its LOGIN took."""
    c = Client(box.port)
    user, password = box.login()
    seconds, _, status = c.timed(f"LOGIN {user} {password}".encode())
    if not status.startswith(b"OK"):
        raise SystemExit(f"{box.name}: LOGIN {status!r}")
    return c, seconds


def walk(box, messages):
    """Seconds per command, checking each answer."""
    c, seconds = logged_in(box)
    out = {LOGIN: seconds}
    for label, command in COMMANDS:
        seconds, data, status = c.timed(command)
        if not status.startswith(b"OK"):
            raise SystemExit(f"{box.name}: {label}: {status!r}")
        if command == b"SELECT INBOX" and b"* %d EXISTS" % messages not in data:
            raise SystemExit(f"{box.name}: SELECT does not show {messages} messages")
        if command == b"SEARCH BODY zanzibarite" and \
                data.split(b"* SEARCH", 1)[1].split() != [b"%d" % (RARE + 1)]:
            raise SystemExit(f"{box.name}: the rare word was not found in one message: {data!r}")
        out[label] = seconds
    out[BOTH] = out["SELECT INBOX"] + out["UID FETCH 1:* (FLAGS)"]
    c.timed(b"LOGOUT")
    c.close()
    return out


def ms(value):
    """Milliseconds as the table prints them: two decimals under 10."""
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(HERE, "..", "build", "postino"))
    parser.add_argument("--messages", type=int, default=100000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--hash", choices=("yescrypt", "sha512-crypt"), default="yescrypt")
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="postino-bigbox-maildir-")
    boxes = []
    try:
        maildir = os.path.join(work, "Maildir")
        began = time.monotonic()
        write_maildir(maildir, args.messages)
        print(f"wrote {args.messages} messages in {time.monotonic() - began:.1f} s", flush=True)
        boxes = start_boxes(os.path.abspath(args.binary), work, maildir, args.messages,
                            args.hash)
        for box in boxes:
            began = time.monotonic()
            walk(box, args.messages)  # Dovecot indexes the new Maildir here
            print(f"{box.name}: first walk {time.monotonic() - began:.1f} s", flush=True)
        times = {box.name: {"cold": {}, "warm": {}} for box in boxes}
        dropped = True
        for rep in range(args.repeat):
            for box in (boxes if rep % 2 == 0 else boxes[::-1]):
                box.restart()
                dropped = drop_caches() and dropped
                for phase in ("cold", "warm"):
                    for label, seconds in walk(box, args.messages).items():
                        times[box.name][phase].setdefault(label, []).append(seconds)
    finally:
        for box in boxes:
            box.stop()
        shutil.rmtree(work, ignore_errors=True)
    results = {"messages": args.messages, "page_cache_dropped": dropped, "rows": []}
    print("\n| command | phase | Postino (ms) | Dovecot (ms) | Dovecot / Postino |")
    print("|---|---|---|---|---|")
    for label in LABELS:
        for phase in ("cold", "warm"):
            ours = statistics.median(times["Postino"][phase][label]) * 1000
            theirs = statistics.median(times["Dovecot"][phase][label]) * 1000
            results["rows"].append({"command": label, "phase": phase, "Postino_ms": ours,
                                    "Dovecot_ms": theirs, "ratio": theirs / ours})
            print(f"| {label} | {phase} | {ms(ours)} | {ms(theirs)} | {theirs / ours:.1f}x |",
                  flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "imap_bigbox.json"), "w") as f:
        json.dump(results, f, indent=2)
    plot(results, os.path.join(args.out, "imap_bigbox.png"))


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = LABELS
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for ax, phase in zip(axes, ("cold", "warm")):
        rows = {r["command"]: r for r in results["rows"] if r["phase"] == phase}
        ys = range(len(labels))
        ax.barh([y + 0.2 for y in ys], [rows[c]["Postino_ms"] for c in labels], height=0.4,
                label="Postino")
        ax.barh([y - 0.2 for y in ys], [rows[c]["Dovecot_ms"] for c in labels], height=0.4,
                label="Dovecot")
        ax.set_yticks(list(ys))
        ax.set_yticklabels(labels)
        ax.set_xscale("log")
        ax.set_xlabel("milliseconds (log scale)")
        ax.set_title(f"{results['messages']:,} messages, {phase}")
        ax.grid(True, axis="x", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
