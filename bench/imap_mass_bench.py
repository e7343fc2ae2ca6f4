#!/usr/bin/python3
"""IMAP operations on every message of a mailbox at once, Postino against Dovecot on the
same machine in the same run: a user cleaning up. The big-mailbox Maildir of
bench/imap_bench.py (--messages messages, 10,000 by default) is served by both; one
client over plain TCP on loopback times, on each server and --repeat times, alternating:
CREATE a mailbox, COPY 1:* into it, SELECT it, STORE 1:* +FLAGS.SILENT (\\Deleted),
EXPUNGE, then SELECT INBOX and DELETE the mailbox. While Postino does one of these, every
other write of the server (a delivery, another user's flags) waits for it: its time is
that wait. Medians are printed with the ratio (Dovecot's time / Postino's).

    /usr/bin/python3 bench/imap_mass_bench.py [--binary build/postino] [--messages 10000]
        [--repeat 3]
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from imap_bench import logged_in, ms, start_boxes, write_maildir  # noqa: E402


def steps(n):
    return (
        ("CREATE", b"CREATE Cleanup", None),
        (f"COPY 1:* ({n})", b"COPY 1:* Cleanup", None),
        ("SELECT", b"SELECT Cleanup", b"* %d EXISTS" % n),
        (f"STORE 1:* +FLAGS.SILENT (\\Deleted) ({n})",
         b"STORE 1:* +FLAGS.SILENT (\\Deleted)", None),
        (f"EXPUNGE ({n})", b"EXPUNGE", b"* 1 EXPUNGE"),
        ("SELECT INBOX", b"SELECT INBOX", b"* %d EXISTS" % n),
        ("DELETE", b"DELETE Cleanup", None),
    )


def clean_up(box, messages):
    c, _ = logged_in(box)
    c.timed(b"SELECT INBOX")
    out = {}
    for label, command, expect in steps(messages):
        seconds, data, status = c.timed(command)
        if not status.startswith(b"OK"):
            raise SystemExit(f"{box.name}: {label}: {status!r}")
        if expect and expect not in data:
            raise SystemExit(f"{box.name}: {label}: no {expect!r} in the answer")
        out[label] = seconds
    c.timed(b"LOGOUT")
    c.close()
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(HERE, "..", "build", "postino"))
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="postino-mass-maildir-")
    boxes = []
    times = {}
    try:
        maildir = os.path.join(work, "Maildir")
        write_maildir(maildir, args.messages)
        boxes = start_boxes(os.path.abspath(args.binary), work, maildir, args.messages,
                            "sha512-crypt")
        times = {box.name: {} for box in boxes}
        for rep in range(args.repeat):
            for box in (boxes if rep % 2 == 0 else boxes[::-1]):
                for label, seconds in clean_up(box, args.messages).items():
                    times[box.name].setdefault(label, []).append(seconds)
    finally:
        for box in boxes:
            box.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{args.messages} messages, median of {args.repeat}\n")
    print("| command | Postino (ms) | Dovecot (ms) | Dovecot / Postino |")
    print("|---|---|---|---|")
    for label, _, _ in steps(args.messages):
        ours = statistics.median(times["Postino"][label]) * 1000
        theirs = statistics.median(times["Dovecot"][label]) * 1000
        print(f"| {label} | {ms(ours)} | {ms(theirs)} | {theirs / ours:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
