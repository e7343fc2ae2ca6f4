#!/usr/bin/python3
"""SMTP durable delivery, Postino against Postfix + Dovecot (LMTP into Maildir) on the same
machine in the same run: Postfix's smtp-source sends --messages messages of each size over
1, 10 and 50 parallel sessions (a connection per message), and the clock stops when every
message is in its mailbox, not when it was accepted (Postino's 250 comes after the message
is durable in the mailbox; Postfix's after it is in its queue, and Dovecot's LMTP then
delivers it). The two systems alternate, --repeat times each; medians and the range are
printed, and written to bench/results/smtp.json with a plot (smtp_throughput.png).

Latency per message: --latency-messages messages of 5 KB sent one after another over 1
and 10 sessions (each a connection per message, as smtp-source does): from the client's
connect to the message being in its mailbox, p50 and p99. For Postino that is the 250
(sent once the message is committed in the mailbox); for Postfix + Dovecot the moment the
message's Maildir file appears, watched every millisecond.

    /usr/bin/python3 bench/smtp_bench.py [--binary build/postino] [--sessions 1,10,50]
        [--sizes 5000,100000] [--messages 600] [--repeat 3] [--latency-messages 300]

Needs scripts/install-deps and scripts/install-bench-deps (`make bench` runs both).
"""

import argparse
import json
import os
import sqlite3
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import harness  # noqa: E402
from reference import DOMAIN, Reference  # noqa: E402
from settle import wait_for_text_index  # noqa: E402


class PostinoSystem:
    name = "Postino"
    listen = ["smtp"]
    config = ""

    def __init__(self, binary):
        harness.BINARY = binary
        self.server = harness.DevServer(listen=self.listen, config=self.config).start()
        self.port = self.server.ports["smtp"]
        self.cli("domain", "add", DOMAIN)

    def cli(self, *args, stdin=None):
        subprocess.run([harness.BINARY, "--data", self.server.data, *args], input=stdin,
                       capture_output=True, text=True, check=True, timeout=60)

    def add_user(self, user):
        self.cli("user", "add", f"{user}@{DOMAIN}", "--password-stdin", stdin="pw\n")

    def delivered(self, user):
        db = sqlite3.connect(f"file:{self.server.data}/store.db?mode=ro", uri=True, timeout=30)
        try:
            return db.execute(
                "SELECT count(*) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id "
                "JOIN accounts a ON a.id = b.account_id WHERE a.address = ? AND b.name = 'INBOX'",
                (f"{user}@{DOMAIN}",)).fetchone()[0]
        finally:
            db.close()

    def pids(self):
        return [self.server.proc.pid]

    def settle(self):
        """The text of the messages just delivered indexed (bench/settle.py)."""
        wait_for_text_index(self.server.data)

    def arrivals(self, user):
        """When each tagged message reached the mailbox: Postino's 250 comes after the
        commit, so the sender's reply time is the time (None: nothing to watch)."""
        return None

    def stop(self):
        self.server.close()


class ReferenceSystem:
    name = "Postfix+Dovecot"

    def __init__(self):
        self.ref = Reference().start()
        self.port = self.ref.smtp_port

    def add_user(self, user):
        pass  # Dovecot's static userdb takes every user

    def delivered(self, user):
        return self.ref.delivered(user)

    def pids(self):
        return self.ref.pids()

    def arrivals(self, user):
        return MaildirWatch(self.ref.maildir(user))

    def settle(self):
        pass  # nothing left for later (bench/settle.py)

    def stop(self):
        self.ref.stop()


def run_once(system, user, sessions, size, messages):
    system.add_user(user)
    began = time.monotonic()
    subprocess.run(["smtp-source", "-s", str(sessions), "-m", str(messages), "-l", str(size),
                    "-f", "bench@remote.test", "-t", f"{user}@{DOMAIN}",
                    f"127.0.0.1:{system.port}"], check=True, capture_output=True, timeout=600)
    accepted = time.monotonic() - began
    deadline = time.monotonic() + 600
    while system.delivered(user) < messages:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{system.name}: {system.delivered(user)} of {messages} delivered")
        time.sleep(0.02)
    rate = messages / (time.monotonic() - began)
    system.settle()
    return rate, accepted


class MaildirWatch:
    """Notes, every millisecond, when each message tagged `X-Bench-Id: N` appears in a
    Maildir's new/ or cur/."""

    def __init__(self, maildir):
        self.maildir, self.seen, self.times = maildir, set(), {}
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop_event.is_set():
            now = time.monotonic()
            for sub in ("new", "cur"):
                try:
                    names = os.listdir(os.path.join(self.maildir, sub))
                except FileNotFoundError:
                    continue
                for name in names:
                    if name in self.seen:
                        continue
                    self.seen.add(name)
                    with open(os.path.join(self.maildir, sub, name), "rb") as f:
                        head = f.read(4096)
                    at = head.find(b"X-Bench-Id: ")
                    if at >= 0:
                        # Dovecot writes Maildir files with LF line ends.
                        tag = int(head[at + 12:head.index(b"\n", at)].strip())
                        self.times[tag] = now
            time.sleep(0.001)

    def stop(self):
        self.stop_event.set()
        self.thread.join()


def latency_once(system, user, sessions, messages):
    """Per-message latency in seconds (connect to in the mailbox), sorted."""
    system.add_user(user)
    body = "Subject: latency\r\n\r\n" + ("x" * 76 + "\r\n") * 64  # about 5 KB
    watch = system.arrivals(user)
    started, replied = {}, {}
    lock = threading.Lock()

    def client(first):
        for tag in range(first, messages, sessions):
            began = time.monotonic()
            with smtplib.SMTP("127.0.0.1", system.port, timeout=60) as s:
                s.sendmail("bench@remote.test", [f"{user}@{DOMAIN}"],
                           f"X-Bench-Id: {tag}\r\n{body}".encode())
            with lock:
                started[tag], replied[tag] = began, time.monotonic()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if watch is None:
        system.settle()
        return sorted(replied[t] - started[t] for t in started)
    deadline = time.monotonic() + 120
    while len(watch.times) < messages and time.monotonic() < deadline:
        time.sleep(0.01)
    watch.stop()
    if len(watch.times) < messages:
        raise RuntimeError(f"{system.name}: {len(watch.times)} of {messages} seen in the Maildir")
    return sorted(watch.times[t] - started[t] for t in started)


def disk_sync_ms(directory, rounds=40, size=100 * 1024):
    """The machine's disk at the time of a measurement: the median time of an fdatasync after
    appending `size` bytes to a file in `directory` (a durable delivery waits for such syncs;
    on a shared virtual disk it varies from hour to hour, and the ratios with it)."""
    path = os.path.join(directory, f"disk-probe-{os.getpid()}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        times = []
        for i in range(rounds):
            os.pwrite(fd, b"x" * size, i * size)
            began = time.monotonic()
            os.fdatasync(fd)
            times.append(time.monotonic() - began)
    finally:
        os.close(fd)
        os.unlink(path)
    return statistics.median(times) * 1000


def percentile(values, p):
    return values[min(len(values) - 1, int(len(values) * p))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(HERE, "..", "build", "postino"))
    parser.add_argument("--sessions", default="1,10,50")
    parser.add_argument("--sizes", default="5000,100000")
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency-messages", type=int, default=300)
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    args = parser.parse_args()
    sessions = [int(s) for s in args.sessions.split(",") if s]
    sizes = [int(s) for s in args.sizes.split(",") if s]  # --sizes "": latency only
    systems = [PostinoSystem(os.path.abspath(args.binary)), ReferenceSystem()]
    results, latencies = [], []
    try:
        run = 0
        for size in sizes:
            # 100 KB messages: fewer of them, the runs stay short.
            messages = args.messages if size <= 10000 else max(50, args.messages // 3)
            for s in sessions:
                rates = {system.name: [] for system in systems}
                disk_ms = disk_sync_ms(tempfile.gettempdir())
                for rep in range(args.repeat):
                    order = systems if rep % 2 == 0 else systems[::-1]
                    for system in order:
                        run += 1
                        rate, _ = run_once(system, f"run{run}", s, size, messages)
                        rates[system.name].append(rate)
                row = {"size": size, "sessions": s, "messages": messages,
                       "disk_sync_ms": round(disk_ms, 2)}
                for name, values in rates.items():
                    row[name] = {"median": statistics.median(values), "min": min(values),
                                 "max": max(values)}
                row["ratio"] = row["Postino"]["median"] / row["Postfix+Dovecot"]["median"]
                results.append(row)
                print(f"{size:>7} B  {s:>3} sessions  Postino {row['Postino']['median']:8.0f}/s "
                      f"({row['Postino']['min']:.0f}-{row['Postino']['max']:.0f})  "
                      f"Postfix+Dovecot {row['Postfix+Dovecot']['median']:8.0f}/s "
                      f"({row['Postfix+Dovecot']['min']:.0f}-{row['Postfix+Dovecot']['max']:.0f})"
                      f"  ratio {row['ratio']:.1f}x  (disk: 100 KiB fdatasync {disk_ms:.2f} ms)",
                      flush=True)
        for s in ((1, 10) if args.latency_messages > 0 else ()):
            row = {"sessions": s, "messages": args.latency_messages, "size": 5000}
            for system in systems:
                run += 1
                values = latency_once(system, f"run{run}", s, args.latency_messages)
                row[system.name] = {"p50_ms": percentile(values, 0.5) * 1000,
                                    "p99_ms": percentile(values, 0.99) * 1000}
            latencies.append(row)
            print(f"latency  5 KB  {s:>3} sessions  Postino p50 "
                  f"{row['Postino']['p50_ms']:.1f} ms p99 {row['Postino']['p99_ms']:.1f} ms  "
                  f"Postfix+Dovecot p50 {row['Postfix+Dovecot']['p50_ms']:.1f} ms p99 "
                  f"{row['Postfix+Dovecot']['p99_ms']:.1f} ms", flush=True)
    finally:
        for system in systems:
            system.stop()
    os.makedirs(args.out, exist_ok=True)
    if results:
        with open(os.path.join(args.out, "smtp.json"), "w") as f:
            json.dump(results, f, indent=2)
        plot(results, sizes, sessions, os.path.join(args.out, "smtp_throughput.png"))
    if latencies:
        with open(os.path.join(args.out, "smtp_latency.json"), "w") as f:
            json.dump(latencies, f, indent=2)


def plot(results, sizes, sessions, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(sizes), figsize=(5 * len(sizes), 4), squeeze=False)
    for ax, size in zip(axes[0], sizes):
        rows = [r for r in results if r["size"] == size]
        for name in ("Postino", "Postfix+Dovecot"):
            ax.errorbar([r["sessions"] for r in rows], [r[name]["median"] for r in rows],
                        yerr=[[r[name]["median"] - r[name]["min"] for r in rows],
                              [r[name]["max"] - r[name]["median"] for r in rows]],
                        marker="o", capsize=3, label=name)
        ax.set_xscale("log")
        ax.set_xticks(sessions)
        ax.set_xticklabels([str(s) for s in sessions])
        ax.set_xlabel("parallel SMTP sessions")
        ax.set_ylabel("messages delivered per second")
        ax.set_title(f"{size // 1000} KB messages, durable delivery")
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
