#!/usr/bin/python3
"""Start-up time, idle memory and size on disk: Postino (`postino serve --dev`, every
listener) against the reference system (Postfix and Dovecot with IMAP, POP3 and LMTP, as
bench/reference.py sets them up). Start-up is from launch until every SMTP/IMAP/POP3 port
answers; memory is the proportional set size (PSS) of every process, 3 s after start;
size is the binary (Postino) and the installed size of the Debian packages (reference).

    /usr/bin/python3 bench/footprint.py [--binary build/postino] [--repeat 5]
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import harness  # noqa: E402
from idle_bench import memory_kib  # noqa: E402
from reference import Reference  # noqa: E402

PACKAGES = ["postfix", "dovecot-core", "dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd"]


def answering(ports):
    for port in ports:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return False
    return True


def postino_once():
    began = time.monotonic()
    server = harness.DevServer().start()
    try:
        ports = [server.ports[p] for p in ("smtp", "imap", "pop3")]
        while not answering(ports):
            time.sleep(0.005)
        started = time.monotonic() - began
        time.sleep(3)
        return started, memory_kib([server.proc.pid])[1]
    finally:
        server.close()


def reference_once():
    ref = Reference()
    began = time.monotonic()
    ref.start()
    try:
        while not answering([ref.smtp_port, ref.imap_port, ref.pop3_port]):
            time.sleep(0.005)
        started = time.monotonic() - began
        time.sleep(3)
        return started, memory_kib(ref.pids())[1]
    finally:
        ref.stop()


def installed_kib(packages):
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Installed-Size}\n", *packages],
                         capture_output=True, text=True, check=True).stdout
    return sum(int(x) for x in out.split())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(HERE, "..", "build", "postino"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    harness.BINARY = os.path.abspath(args.binary)
    rows = {"Postino": [], "Postfix+Dovecot": []}
    for _ in range(args.repeat):
        rows["Postino"].append(postino_once())
        rows["Postfix+Dovecot"].append(reference_once())
    sizes = {"Postino": os.path.getsize(harness.BINARY) // 1024,
             "Postfix+Dovecot": installed_kib(PACKAGES)}
    print("| | start-up (median, s) | idle memory (PSS, KiB) | size on disk (KiB) |")
    print("|---|---|---|---|")
    for name, values in rows.items():
        print(f"| {name} | {statistics.median(v[0] for v in values):.3f} | "
              f"{statistics.median(v[1] for v in values):.0f} | {sizes[name]} |")


if __name__ == "__main__":
    main()
