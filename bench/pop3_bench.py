#!/usr/bin/python3
"""POP3 benchmark: LIST and RETR of 1,000 messages by one client, and 20 clients at once
(each on its own account), against a `postino serve --dev` started for the purpose.

    /usr/bin/python3 bench/pop3_bench.py [--binary build/postino] [--messages 1000]
"""

import argparse
import os
import poplib
import re
import smtplib
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
import harness  # noqa: E402


def fill(server, user, count, size):
    body = ("x" * 76 + "\r\n") * (size // 78)
    with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=60) as s:
        for i in range(count):
            s.sendmail("bench@remote.test", [user], f"Subject: bench {i}\r\n\r\n{body}".encode())


def session(server, user, password):
    p = poplib.POP3_SSL("localhost", server.ports["pop3s"], context=server.client_tls_context(), timeout=60)
    p.user(user)
    p.pass_(password)
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="build/postino")
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--size", type=int, default=5000)
    ap.add_argument("--clients", type=int, default=20)
    args = ap.parse_args()
    harness.BINARY = os.path.abspath(args.binary)
    with harness.DevServer(listen=["smtp", "pop3s"], config="[smtp]\nmax_messages_per_hour = 0\n") as server:
        user, password = re.search(r"demo account (\S+)\s+password (\S+)", server.banner).groups()
        fill(server, user, args.messages, args.size)
        p = session(server, user, password)
        t0 = time.monotonic()
        listing = p.list()[1]
        t_list = time.monotonic() - t0
        t0 = time.monotonic()
        for i in range(1, len(listing) + 1):
            p.retr(i)
        t_retr = time.monotonic() - t0
        p.quit()
        print(f"| LIST of {len(listing)} messages | {t_list * 1000:.1f} ms |")
        print(f"| RETR of {len(listing)} messages of {args.size} B | {t_retr:.2f} s "
              f"({len(listing) / t_retr:.0f} messages/s) |")

        # Concurrent clients, one account each.
        accounts = []
        for i in range(args.clients):
            address = f"bench{i}@example.test"
            subprocess.run([harness.BINARY, "--data", server.data, "user", "add", address,
                            "--password-stdin"], input="pw\n", text=True, check=True,
                           capture_output=True)
            fill(server, address, 50, args.size)
            accounts.append(address)
        times = []

        def client(address):
            t = time.monotonic()
            c = session(server, address, "pw")
            for i in range(1, 51):
                c.retr(i)
            c.quit()
            times.append(time.monotonic() - t)

        t0 = time.monotonic()
        threads = [threading.Thread(target=client, args=(a,)) for a in accounts]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        print(f"| {args.clients} clients × 50 RETR | {wall:.2f} s wall, {args.clients * 50 / wall:.0f} "
              f"messages/s, median session {statistics.median(times):.2f} s |")


if __name__ == "__main__":
    main()
