#!/usr/bin/python3
"""POP3, Postino against Dovecot (the POP3 server of Postfix + Dovecot) on the same machine
in the same run: one maildrop of --messages messages (LIST, then RETR of every message
in one session, one at a time and then pipelined, five passes each) and --clients
clients at once, each on its own maildrop of --per-client messages (RETR of all of them,
timed once every client has logged in; 500 each, so that the measure lasts a good part
of a second: with 50 it lasted 30 ms and its ratio spread by +-30 %).
Both are filled over SMTP beforehand (Postino directly; the reference through Postfix and
Dovecot's LMTP into Maildir) with Postfix's smtp-source. The RETRs are made by
build/bench/pop3_load (bench/pop3_load.cpp, a thread per connection reading each reply
into one buffer): a client in Python cost more per RETR than either server, so its
figures were the client's. Each repetition also measures the machine's floor: the same
client against build/bench/pop3_floor, a server that only answers every RETR from memory,
so that a ratio can be read against what any server could reach here. LIST is timed here (RawPop3). Plain TCP on loopback for both
(Postino with pop3.allow_plaintext_loopback, Dovecot with disable_plaintext_auth = no),
and both check the same yescrypt password hash (bench/passwords.py).
The systems alternate, --repeat times; medians and ranges are printed and written to
bench/results/pop3.json, with the client's own CPU time.

    /usr/bin/python3 bench/pop3_bench.py [--binary build/postino]
        [--load build/bench/pop3_load] [--messages 1000] [--size 5000] [--clients 20]
        [--per-client 500] [--repeat 3]

Needs scripts/install-deps and scripts/install-bench-deps (`make bench` runs both).
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from reference import DOMAIN, Reference  # noqa: E402
from passwords import dovecot_passdb, password_hash, write_passwd_file  # noqa: E402
from smtp_bench import PostinoSystem  # noqa: E402

PASSWORD = "pop3-bench-pw"  # not the reference's static "secret": its passwd-file answers
LOAD = os.path.join(HERE, "..", "build", "bench", "pop3_load")
FLOOR = os.path.join(HERE, "..", "build", "bench", "pop3_floor")


class PostinoPop3(PostinoSystem):
    listen = ["smtp", "pop3"]
    config = "[pop3]\nallow_plaintext_loopback = true\n[smtp]\nmax_messages_per_hour = 0\n"

    def __init__(self, binary, hashed):
        super().__init__(binary)
        self.pop3_port = self.server.ports["pop3"]
        self.hashed = hashed

    def add_user(self, user):
        # The password hash both systems check (bench/passwords.py).
        passwd = os.path.join(self.server.data, f"{user}.passwd")
        write_passwd_file(passwd, [f"{user}@{DOMAIN}"], self.hashed)
        self.cli("user", "import-passwd", passwd)

    def login(self, user):
        return f"{user}@{DOMAIN}", PASSWORD


class ReferencePop3:
    name = "Postfix+Dovecot"

    def __init__(self, passwd_file):
        self.ref = Reference(extra=dovecot_passdb(passwd_file)).start()
        self.port = self.ref.smtp_port
        self.pop3_port = self.ref.pop3_port

    def add_user(self, user):
        pass  # Dovecot's static userdb takes every user

    def delivered(self, user):
        return self.ref.delivered(user)

    def login(self, user):
        return user, PASSWORD  # LMTP stores by the local part (auth_username_format %Ln)

    def settle(self):
        pass  # nothing left for later (bench/settle.py)

    def stop(self):
        self.ref.stop()


class Floor:
    """bench/pop3_floor: a server that does nothing but answer every RETR with one message
    of the size given, from memory (no store, no password, no dot-stuffing). pop3_load
    against it measures what the machine allows any server: the loopback and the
    wake-ups of every round trip."""
    name = "floor"

    def __init__(self, size):
        self.proc = subprocess.Popen([FLOOR, "--size", str(size)], stdout=subprocess.PIPE,
                                     text=True)
        self.pop3_port = int(self.proc.stdout.readline())

    def login(self, user):
        return user, PASSWORD

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def listed_size(system, user):
    """The median size of the user's messages as the server lists them."""
    p = session(system, user)
    sizes = [int(line.split()[1]) for line in p.list()[1]]
    p.quit()
    return int(statistics.median(sizes))


def fill(system, user, count, size):
    system.add_user(user)
    subprocess.run(["smtp-source", "-s", "10", "-m", str(count), "-l", str(size),
                    "-f", "bench@remote.test", "-t", f"{user}@{DOMAIN}",
                    f"127.0.0.1:{system.port}"], check=True, capture_output=True, timeout=600)
    deadline = time.monotonic() + 300
    while system.delivered(user) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{system.name}: {system.delivered(user)} of {count} delivered")
        time.sleep(0.05)
    system.settle()


class RawPop3:
    """A POP3 client for LIST: each reply read raw (its status line, then a multi-line
    reply up to the terminating dot, the lines left unparsed; Python's poplib reads line
    by line, which cost more than the server's answer). The same client for both."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buffer = b""
        self.status()  # the greeting

    def read_until(self, marker, data=b""):
        data = bytearray(data + self.buffer)
        searched = 0
        while (at := data.find(marker, max(0, searched - len(marker) + 1))) < 0:
            searched = len(data)
            chunk = self.sock.recv(65536)  # (a 1 MB buffer per call costs more than a RETR)
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        self.buffer = bytes(data[at + len(marker):])
        return bytes(data[:at])

    def status(self):
        line = self.read_until(b"\r\n")
        if not line.startswith(b"+OK"):
            raise RuntimeError(line.decode(errors="replace"))
        return line

    def command(self, line, multi_line=False):
        self.sock.sendall(line.encode() + b"\r\n")
        self.status()
        if multi_line:  # the body, up to CRLF "." CRLF (a CRLF put first for an empty one)
            return self.read_until(b"\r\n.\r\n", b"\r\n")[2:]
        return b""

    def user(self, name):
        self.command(f"USER {name}")

    def pass_(self, password):
        self.command(f"PASS {password}")

    def list(self):
        body = self.command("LIST", True)
        return None, body.split(b"\r\n") if body else [], len(body)

    def quit(self):
        self.command("QUIT")
        self.sock.close()


def session(system, user):
    p = RawPop3(system.pop3_port)
    name, password = system.login(user)
    p.user(name)
    p.pass_(password)
    return p


def load(system, users, messages, window):
    """Runs pop3_load: (seconds, messages retrieved, the client's CPU seconds)."""
    logins = [system.login(u) for u in users]
    passwords = {password for _, password in logins}
    assert len(passwords) == 1
    out = subprocess.run([LOAD, "--port", str(system.pop3_port), "--password", passwords.pop(),
                          "--messages", str(messages), "--window", str(window),
                          *[name for name, _ in logins]],
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"pop3_load against {system.name} failed:\n{out.stderr}")
    result = json.loads(out.stdout)
    return result["seconds"], result["messages"], result["client_cpu_seconds"]


def big_maildrop(system, user, messages):
    """LIST seconds, then RETR of every message one at a time and pipelined 50 at a time
    (each: seconds, messages, client CPU)."""
    p = session(system, user)
    began = time.monotonic()
    listing = p.list()[1]
    listed = time.monotonic() - began
    p.quit()
    if len(listing) != messages:
        raise RuntimeError(f"{system.name}: LIST showed {len(listing)} messages")
    return listed, rounds(system, user, messages, 1), rounds(system, user, messages, 50)


def rounds(system, user, messages, window, count=5):
    """pop3_load over the maildrop `count` times in a row, added up: one pass over 1,000
    messages lasts 40 ms, and its rate spread by +-20 %."""
    seconds = retrieved = cpu = 0
    for _ in range(count):
        s, n, c = load(system, [user], messages, window)
        seconds, retrieved, cpu = seconds + s, retrieved + n, cpu + c
    return seconds, retrieved, cpu


def many_clients(system, users, per_client):
    """Every user's client retrieving its messages at once, one at a time each (the clock
    starts once all have logged in: the login, the same yescrypt hash checked by both, is not
    what this measures)."""
    return load(system, users, per_client, 1)


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(HERE, "..", "build", "postino"))
    parser.add_argument("--load", default=os.path.join(HERE, "..", "build", "bench", "pop3_load"))
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--per-client", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    args = parser.parse_args()
    global LOAD, FLOOR
    LOAD = os.path.abspath(args.load)
    FLOOR = os.path.join(os.path.dirname(LOAD), "pop3_floor")
    users = [f"pop{i}" for i in range(args.clients)]
    # Both check the same yescrypt hash (bench/passwords.py): Dovecot's auth process reads
    # a passwd-file of the reference's users (their local parts, as LMTP stores them).
    work = tempfile.mkdtemp(prefix="postino-pop3-bench-")
    os.chmod(work, 0o755)
    hashed = password_hash(PASSWORD, "yescrypt")
    passwd_file = os.path.join(work, "passwd")
    write_passwd_file(passwd_file, ["big"] + users, hashed)
    os.chmod(passwd_file, 0o644)
    systems = [PostinoPop3(os.path.abspath(args.binary), hashed), ReferencePop3(passwd_file)]
    measured = {s.name: {"list_ms": [], "retr_per_s": [], "retr_pipelined_per_s": [],
                         "clients_per_s": [], "client_cpu_us_per_retr": []} for s in systems}
    floor_measured = {"retr_per_s": [], "retr_pipelined_per_s": []}
    try:
        for system in systems:
            fill(system, "big", args.messages, args.size)
            for u in users:
                fill(system, u, args.per_client, args.size)
        floor_size = listed_size(systems[0], "big")  # headers added on the way included
        for rep in range(args.repeat):
            for system in (systems if rep % 2 == 0 else systems[::-1]):
                listed, one, pipelined = big_maildrop(system, "big", args.messages)
                many = many_clients(system, users, args.per_client)
                m = measured[system.name]
                m["list_ms"].append(listed * 1000)
                for key, (seconds, n, _) in (("retr_per_s", one),
                                             ("retr_pipelined_per_s", pipelined),
                                             ("clients_per_s", many)):
                    m[key].append(n / seconds)
                m["client_cpu_us_per_retr"].append(
                    sum(r[2] for r in (one, pipelined, many)) * 1e6 /
                    sum(r[1] for r in (one, pipelined, many)))
            floor = Floor(floor_size)
            try:
                for key, window in (("retr_per_s", 1), ("retr_pipelined_per_s", 50)):
                    seconds, n, _ = rounds(floor, "big", args.messages, window)
                    floor_measured[key].append(n / seconds)
            finally:
                floor.stop()
    finally:
        for system in systems:
            system.stop()
        shutil.rmtree(work, ignore_errors=True)
    results = {"messages": args.messages, "size": args.size, "clients": args.clients,
               "per_client": args.per_client}
    for name, m in measured.items():
        results[name] = {k: summary(v) for k, v in m.items()}
    ours, theirs = results["Postino"], results["Postfix+Dovecot"]
    rows = [("list_ms", f"LIST of {args.messages} messages (ms)", False),
            ("retr_per_s", f"RETR of {args.messages} messages of {args.size} B (messages/s)",
             True),
            ("retr_pipelined_per_s",
             f"RETR of {args.messages} messages, pipelined 50 at a time (messages/s)", True),
            ("clients_per_s",
             f"{args.clients} clients x {args.per_client} RETR (messages/s)", True)]
    print("client CPU per RETR (microseconds): " + ", ".join(
        f"{name} {results[name]['client_cpu_us_per_retr']['median']:.0f}"
        for name in ("Postino", "Postfix+Dovecot")), flush=True)
    for key, label, higher_is_better in rows:
        a, b = ours[key], theirs[key]
        ratio = a["median"] / b["median"] if higher_is_better else b["median"] / a["median"]
        results[key + "_ratio"] = ratio
        print(f"| {label} | {a['median']:.1f} ({a['min']:.1f}-{a['max']:.1f}) | "
              f"{b['median']:.1f} ({b['min']:.1f}-{b['max']:.1f}) | {ratio:.1f}x |", flush=True)
    # What the machine allows any server, beside what 2x the reference would need.
    results["floor"] = {k: summary(v) for k, v in floor_measured.items()}
    results["floor"]["message_bytes"] = floor_size
    for key, label in (("retr_per_s", "one RETR at a time"),
                       ("retr_pipelined_per_s", "pipelined 50 at a time")):
        f, a, b = results["floor"][key]["median"], ours[key]["median"], theirs[key]["median"]
        print(f"floor, {label} (bench/pop3_floor, a server that only answers, messages of "
              f"{floor_size} B): {f:.0f}/s; Postino {a / f:.0%} of it, "
              f"Postfix+Dovecot {b / f:.0%}; 2x Postfix+Dovecot would be {2 * b / f:.0%}",
              flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "pop3.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
