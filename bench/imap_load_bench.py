#!/usr/bin/python3
"""IMAP client mix, Postino against Dovecot 2.3 (Debian's package) on the same machine in
the same run: build/bench/imap_load (bench/imap_load.cpp: LOGIN, SELECT, UID FETCH of the
new messages' headers, UID FETCH of one body, UID STORE \\Seen, UID SEARCH UNSEEN, APPEND
to Sent, APPEND to INBOX, UID STORE \\Deleted and EXPUNGE of the previous session's
INBOX message, LOGOUT; a new connection per session) runs --seconds against each server
with 10 and 100 clients spread over --users accounts, over plain TCP on loopback.

Both servers get the same accounts with the same password hashes (one Dovecot passwd-file:
Dovecot reads it, `postino user import-passwd` imports it; --hash yescrypt, the scheme
Postino makes for new users, or sha512-crypt) and the same mailboxes: every INBOX is
filled with --messages messages of 1.5 to 12 KB of text through IMAP APPEND, and before
each run every INBOX is put back as it was (all unread, the messages the previous run's
clients appended expunged) and Sent emptied. Postino is `postino serve --dev` (SQLite
store, imap.allow_plaintext_loopback); Dovecot is tests/e2e/dovecot.py's (Maildir,
Debian's default process model: one imap-login and one imap process per connection, with
the process and per-user connection limits raised for 100 clients). The systems
alternate, --repeat runs each; medians and ranges are printed and written, with every
run's full output, to bench/results/imap_load.json.

    /usr/bin/python3 bench/imap_load_bench.py [--binary build/postino]
        [--load build/bench/imap_load] [--clients 10,100] [--seconds 20] [--repeat 3]
        [--users 10] [--messages 200] [--hash yescrypt|sha512-crypt] [--no-paced]

Then (unless --no-paced) Postino runs again with the same clients paced at twice Dovecot's
median operations a second (imap_load --rate), each command timed from when it was due:
the issue's "2x the operations at equal or better p99" measured at exactly 2x, its p99
against Dovecot's flat out. Paced clients start spread over one session's length (the
first session is a warm-up, not counted), so that their logins do not all fall in the
same interval.

Needs scripts/install-deps and scripts/install-bench-deps, and `make build` (which builds
build/bench/imap_load too).
"""

import argparse
import imaplib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import harness  # noqa: E402
from dovecot import Dovecot, process_tree  # noqa: E402
from passwords import dovecot_passdb, password_hash, write_passwd_file  # noqa: E402
from settle import wait_for_text_index  # noqa: E402

DOMAIN = "bench.test"
PASSWORD = "load-test-pw"  # not dovecot.py's static "secret": the passwd-file must answer
WORDS = ("report meeting budget invoice travel lunch project review schedule draft "
         "quarter results team update notes agenda customer").split()
SIZES = (1500, 3000, 6000, 12000, 2500, 4000, 2000, 8000)  # about 4.9 KB on average


def users(count):
    return [f"bench{i}@{DOMAIN}" for i in range(1, count + 1)]


def message(user, i):
    """A message of realistic shape: the usual headers, a text body of SIZES[i % 8]."""
    subject = f"{WORDS[i % len(WORDS)]} {WORDS[(i * 7) % len(WORDS)]} #{i}"
    body, line, k = [], [], i
    total = 0
    while total < SIZES[i % len(SIZES)]:
        word = WORDS[k % len(WORDS)]
        k += 3
        line.append(word)
        total += len(word) + 1
        if sum(len(w) + 1 for w in line) > 70:
            body.append(" ".join(line))
            line = []
    body.append(" ".join(line))
    return (f"From: Sender {i % 50} <sender{i % 50}@remote{i % 7}.test>\r\nTo: {user}\r\n"
            f"Subject: {subject}\r\nDate: Tue, 1 Dec 2026 {i % 24:02d}:{i % 60:02d}:00 +0000\r\n"
            f"Message-ID: <{i}.{user}@remote.test>\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n" + "\r\n".join(body) +
            "\r\n").encode()


def imap_login(port, user):
    c = imaplib.IMAP4("127.0.0.1", port, timeout=120)
    c.login(user, PASSWORD)
    return c


def check(reply, what):
    if reply[0] != "OK":
        raise RuntimeError(f"{what}: {reply!r}")
    return reply[1]


class PostinoSystem:
    name = "Postino"

    def __init__(self, binary, passwd_file):
        harness.BINARY = binary
        config = "[imap]\nallow_plaintext_loopback = true\n"
        self.server = harness.DevServer(listen=["imap"], config=config).start()
        self.port = self.server.ports["imap"]
        self.cli("domain", "add", DOMAIN)
        self.cli("user", "import-passwd", passwd_file)

    def cli(self, *args):
        subprocess.run([harness.BINARY, "--data", self.server.data, *args],
                       capture_output=True, text=True, check=True, timeout=60)

    def pids(self):
        return [self.server.proc.pid]

    def settle(self):
        """The text of the messages appended indexed (bench/settle.py)."""
        wait_for_text_index(self.server.data)

    def stop(self):
        self.server.close()


class DovecotSystem:
    name = "Dovecot"

    def __init__(self, passwd_file):
        # A second passdb after dovecot.py's static one ("secret"): ours is tried when
        # that one fails, which costs a string comparison.
        self.dovecot = Dovecot(extra=dovecot_passdb(passwd_file) + """
default_process_limit = 1000
default_client_limit = 4000
mail_max_userip_connections = 1000
""").start()
        self.port = self.dovecot.port

    def pids(self):
        return self.dovecot.pids()

    def settle(self):
        pass  # nothing left for later (bench/settle.py)

    def stop(self):
        self.dovecot.stop()


def fill(system, names, messages):
    """Every INBOX gets `messages` messages (UIDs 1..messages); Sent is created."""
    def one(user):
        c = imap_login(system.port, user)
        for i in range(messages):
            check(c.append("INBOX", "", None, message(user, i)), "APPEND")
        c.create("Sent")  # NO when the server made it already
        check(c.select("INBOX"), "SELECT")
        uid_next = int(c.response("UIDNEXT")[1][0])
        c.logout()
        if uid_next != messages + 1:  # imap_load draws its bodies from UIDs 1..messages
            raise RuntimeError(f"{system.name} {user}: UIDNEXT {uid_next} after the fill")
    run_all(one, names)
    system.settle()


def reset(system, names, messages):
    """INBOX as after the fill (all unread, later messages expunged); Sent empty."""
    def one(user):
        c = imap_login(system.port, user)
        check(c.select("INBOX"), "SELECT")
        uids = [int(u) for u in check(c.uid("SEARCH", "ALL"), "SEARCH")[0].split()]
        extra = [u for u in uids if u > messages]
        if len(uids) - len(extra) != messages:
            raise RuntimeError(f"{system.name} {user}: {len(uids) - len(extra)} of the "
                               f"{messages} messages left")
        check(c.uid("STORE", f"1:{messages}", "-FLAGS.SILENT", "(\\Seen \\Deleted)"), "STORE")
        if extra:
            check(c.uid("STORE", ",".join(map(str, extra)), "+FLAGS.SILENT", "(\\Deleted)"),
                  "STORE")
            check(c.expunge(), "EXPUNGE")
        if int(check(c.select("Sent"), "SELECT Sent")[0]) > 0:
            check(c.store("1:*", "+FLAGS.SILENT", "(\\Deleted)"), "STORE Sent")
            check(c.expunge(), "EXPUNGE Sent")
        c.logout()
    run_all(one, names)


def run_all(function, names):
    errors = []

    def guarded(name):
        try:
            function(name)
        except Exception as e:  # reported below, on the main thread
            errors.append(f"{name}: {e!r}")
    threads = [threading.Thread(target=guarded, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError("; ".join(errors))


def cpu_ticks(pids):
    """CPU time of these processes, and of their reaped children (Dovecot's exited
    imap and imap-login processes end up in the master's cutime), in clock ticks."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        except OSError:
            pass
    return total


def machine_busy():
    with open("/proc/stat") as f:
        values = [int(x) for x in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def run_once(system, load, clients, seconds, names, messages, rate=0):
    reset(system, names, messages)
    roots = system.pids()[:1]
    before = cpu_ticks(process_tree(roots[0]))
    busy_before = machine_busy()
    out = subprocess.run([load, "--host", "127.0.0.1", "--port", str(system.port),
                          "--clients", str(clients), "--seconds", str(seconds),
                          "--users", ",".join(names), "--password", PASSWORD,
                          "--mailbox-size", str(messages), "--rate", f"{rate:.1f}"],
                         capture_output=True, text=True, timeout=seconds + 300)
    # The master's own ticks plus its children's, living and reaped.
    after = cpu_ticks(process_tree(roots[0]))
    busy_after = machine_busy()
    if out.returncode != 0:
        raise RuntimeError(f"imap_load against {system.name} failed ({out.returncode}):\n"
                           f"{out.stderr}\n{out.stdout}")
    result = json.loads(out.stdout)
    ticks = os.sysconf("SC_CLK_TCK")
    result["server_cpu_seconds"] = (after - before) / ticks
    result["server_cpu_ms_per_op"] = result["server_cpu_seconds"] * 1000 / result["operations"]
    busy = busy_after[0] - busy_before[0]
    result["machine_busy_share"] = busy / max(1, busy_after[1] - busy_before[1])
    system.settle()
    return result


def spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(HERE, "..", "build", "postino"))
    parser.add_argument("--load", default=os.path.join(HERE, "..", "build", "bench", "imap_load"))
    parser.add_argument("--clients", default="10,100")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--hash", choices=("yescrypt", "sha512-crypt"), default="yescrypt")
    parser.add_argument("--only", choices=("Postino", "Dovecot"), help="one system (profiling)")
    parser.add_argument("--paced", action=argparse.BooleanOptionalAction, default=True,
                        help="also run Postino at twice Dovecot's operations a second")
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    args = parser.parse_args()
    client_counts = [int(c) for c in args.clients.split(",") if c]
    names = users(args.users)
    load = os.path.abspath(args.load)

    work = tempfile.mkdtemp(prefix="postino-imap-load-")
    os.chmod(work, 0o755)  # Dovecot's auth process reads the passwd-file
    passwd_file = os.path.join(work, "passwd")
    # One salt for every user: the cost is what matters.
    write_passwd_file(passwd_file, names, password_hash(PASSWORD, args.hash))
    os.chmod(passwd_file, 0o644)

    systems = []
    try:
        if args.only != "Dovecot":
            systems.append(PostinoSystem(os.path.abspath(args.binary), passwd_file))
        if args.only != "Postino":
            systems.append(DovecotSystem(passwd_file))
        for system in systems:
            began = time.monotonic()
            fill(system, names, args.messages)
            print(f"{system.name}: {len(names)} INBOXes of {args.messages} messages filled in "
                  f"{time.monotonic() - began:.1f} s", flush=True)
        rows = []
        for clients in client_counts:
            runs = {system.name: [] for system in systems}
            for rep in range(args.repeat):
                order = systems if rep % 2 == 0 else systems[::-1]
                for system in order:
                    r = run_once(system, load, clients, args.seconds, names, args.messages)
                    runs[system.name].append(r)
                    print(f"  {clients:>3} clients  {system.name:<8} {r['ops_per_second']:8.0f} "
                          f"ops/s  p99 {r['all']['p99_ms']:7.2f} ms  sessions {r['sessions']}  "
                          f"server CPU {r['server_cpu_ms_per_op']:.3f} ms/op  generator CPU "
                          f"{r['client_cpu_share_of_one_core'] * 100:.0f}% of a core",
                          flush=True)
            row = {"clients": clients, "users": len(names), "seconds": args.seconds}
            for name, results in runs.items():
                row[name] = {
                    "ops_per_second": spread([r["ops_per_second"] for r in results]),
                    "p99_ms": spread([r["all"]["p99_ms"] for r in results]),
                    "p50_ms": spread([r["all"]["p50_ms"] for r in results]),
                    "greeting_p99_ms": spread([r["greeting"]["p99_ms"] for r in results]),
                    "server_cpu_ms_per_op": spread([r["server_cpu_ms_per_op"] for r in results]),
                    "generator_cpu_share": spread([r["client_cpu_share_of_one_core"]
                                                   for r in results]),
                    "commands_p99_ms": {
                        op: statistics.median(r["commands"][op]["p99_ms"] for r in results)
                        for op in results[0]["commands"]},
                    "runs": results,
                }
            if len(systems) == 2:
                row["ratio_ops"] = (row["Postino"]["ops_per_second"]["median"] /
                                    row["Dovecot"]["ops_per_second"]["median"])
                row["ratio_p99"] = (row["Postino"]["p99_ms"]["median"] /
                                    row["Dovecot"]["p99_ms"]["median"])
            if len(systems) == 2 and args.paced:
                # The target as the issue words it: twice the operations at equal or better
                # p99. Run flat out, the clients never pause and Postino, many times faster,
                # has that many more commands in flight, queued behind each other. Here the
                # same clients send exactly twice what Dovecot managed, timed from when each
                # command was due.
                rate = 2 * row["Dovecot"]["ops_per_second"]["median"]
                paced = [run_once(systems[0], load, clients, args.seconds, names,
                                  args.messages, rate) for _ in range(args.repeat)]
                for r in paced:
                    print(f"  {clients:>3} clients  Postino at {rate:.0f} ops/s (2x Dovecot): "
                          f"{r['ops_per_second']:8.0f} ops/s  p99 {r['all']['p99_ms']:7.2f} ms",
                          flush=True)
                row["Postino_at_twice_Dovecot"] = {
                    "rate": rate,
                    "ops_per_second": spread([r["ops_per_second"] for r in paced]),
                    "p99_ms": spread([r["all"]["p99_ms"] for r in paced]),
                    "p50_ms": spread([r["all"]["p50_ms"] for r in paced]),
                    "runs": paced,
                }
                row["ratio_p99_at_twice"] = (
                    row["Postino_at_twice_Dovecot"]["p99_ms"]["median"] /
                    row["Dovecot"]["p99_ms"]["median"])
            rows.append(row)
    finally:
        for system in systems:
            system.stop()
        shutil.rmtree(work, ignore_errors=True)

    print()
    print("| clients | system | ops/s | p99 ms | p50 ms | LOGIN p99 ms | greeting p99 ms "
          "| server CPU ms/op |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        for system in systems:
            s = row[system.name]
            print(f"| {row['clients']} | {system.name} | {s['ops_per_second']['median']:.0f} "
                  f"({s['ops_per_second']['min']:.0f}–{s['ops_per_second']['max']:.0f}) | "
                  f"{s['p99_ms']['median']:.1f} ({s['p99_ms']['min']:.1f}–"
                  f"{s['p99_ms']['max']:.1f}) | {s['p50_ms']['median']:.2f} | "
                  f"{s['commands_p99_ms']['LOGIN']:.1f} | {s['greeting_p99_ms']['median']:.1f} | "
                  f"{s['server_cpu_ms_per_op']['median']:.3f} |")
        if "ratio_ops" in row:
            print(f"| {row['clients']} | ratio | {row['ratio_ops']:.2f}× | "
                  f"{row['ratio_p99']:.2f}× | | | | |")
        if "Postino_at_twice_Dovecot" in row:
            s = row["Postino_at_twice_Dovecot"]
            print(f"| {row['clients']} | Postino at 2× Dovecot's rate ({s['rate']:.0f}/s) | "
                  f"{s['ops_per_second']['median']:.0f} | {s['p99_ms']['median']:.1f} "
                  f"({s['p99_ms']['min']:.1f}–{s['p99_ms']['max']:.1f}) | "
                  f"{s['p50_ms']['median']:.2f} | | | |")
            print(f"| {row['clients']} | p99 at 2× against Dovecot's | | "
                  f"{row['ratio_p99_at_twice']:.2f}× | | | | |")
    if args.only is None:
        # One file for both hash schemes: a run replaces only its own scheme's entry.
        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, "imap_load.json")
        try:
            with open(path) as f:
                saved = json.load(f)
        except (OSError, ValueError):
            saved = {}
        saved[args.hash] = {"machine": machine_line(), "date": time.strftime("%Y-%m-%d"),
                            "command": " ".join(sys.argv), "users": len(names),
                            "messages": args.messages, "rows": rows}
        with open(path, "w") as f:
            json.dump(saved, f, indent=2)


def machine_line():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = re.search(r"model name\s*:\s*(.*)", f.read()).group(1)
    except (OSError, AttributeError):
        pass
    return f"{os.cpu_count()} cores ({cpu}), {platform.platform()}"


if __name__ == "__main__":
    main()
