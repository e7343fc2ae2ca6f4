#!/usr/bin/python3
"""What a running server's tidying costs the mail arriving meanwhile: Postino alone, a store
filled over SMTP with --messages messages of 100 KB (body-log segments of 64 MiB), then
three in four of them deleted over IMAP, so that the next tidying (every
store.tidy_interval_seconds, here 2) collects their bodies and compacts every full
segment (its quarter still in use copied to the end of the log). Meanwhile one client
delivers 5 KB messages one after another (a connection each, as smtp-source does) for
--window seconds from the deletion: the time from its connect to the 250 (sent once the
message is durable in its mailbox), p50, p99 and the slowest, for each
store.tidy_bytes_per_second in --rates (0: no limit), alternating, --repeat times.

    /usr/bin/python3 bench/tidy_bench.py [--binary build/postino] [--messages 3000]
        [--rates 0,16777216] [--repeat 2] [--window 12]
"""

import argparse
import imaplib
import os
import smtplib
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import harness  # noqa: E402


def fill(server, user, messages):
    subprocess.run(["smtp-source", "-s", "10", "-m", str(messages), "-l", "100000",
                    "-f", "bench@remote.test", "-t", user,
                    f"127.0.0.1:{server.ports['smtp']}"],
                   check=True, capture_output=True, timeout=600)


def delete_three_in_four(server, messages):
    c = imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], timeout=120,
                          ssl_context=server.client_tls_context())
    c.login(*server.demo_credentials())
    c.select("INBOX")
    gone = ",".join(f"{u}:{u + 2}" for u in range(1, messages + 1, 4))
    c.uid("STORE", gone, "+FLAGS.SILENT", "(\\Deleted)")
    c.expunge()
    c.logout()


def probe(server, user, seconds):
    """Latencies (s) of 5 KB deliveries one after another for `seconds`."""
    body = "Subject: probe\r\n\r\n" + ("x" * 76 + "\r\n") * 64
    out, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        began = time.monotonic()
        with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=60) as s:
            s.sendmail("probe@remote.test", [user], body.encode())
        out.append(time.monotonic() - began)
    return sorted(out)


def segment_bytes(data):
    d = os.path.join(data, "segments")
    return sum(os.path.getsize(os.path.join(d, n)) for n in os.listdir(d))


def run_once(binary, rate, messages, window):
    harness.BINARY = binary
    config = ("[store]\nblob_grace_seconds = 0\ntidy_interval_seconds = 2\n"
              f"tidy_bytes_per_second = {rate}\n")
    server = harness.DevServer(config=config, listen=["smtp", "imaps"]).start()
    try:
        user = server.demo_credentials()[0]
        fill(server, user, messages)
        before = segment_bytes(server.data)
        result = {}
        t = threading.Thread(target=lambda: result.update(lat=probe(server, user, window)))
        t.start()
        delete_three_in_four(server, messages)
        t.join()
        lat = result["lat"]
        tidied = [line for line in server.stderr().splitlines() if "store.tidied" in line]
        return {"rate": rate, "probes": len(lat), "p50_ms": statistics.median(lat) * 1e3,
                "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3,
                "max_ms": lat[-1] * 1e3, "over_50ms": sum(1 for x in lat if x > 0.05),
                "segments_mb_before": before / 1e6,
                "segments_mb_after": segment_bytes(server.data) / 1e6, "tidied": tidied}
    finally:
        server.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(HERE, "..", "build", "postino"))
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rates", default="0,16777216")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--window", type=float, default=12)
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    for rep in range(args.repeat):
        for rate in (rates if rep % 2 == 0 else rates[::-1]):
            r = run_once(os.path.abspath(args.binary), rate, args.messages, args.window)
            print(f"tidy_bytes_per_second {rate:>9}: {r['probes']} deliveries, p50 "
                  f"{r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, slowest {r['max_ms']:.1f} "
                  f"ms, {r['over_50ms']} over 50 ms; segments {r['segments_mb_before']:.0f} -> "
                  f"{r['segments_mb_after']:.0f} MB", flush=True)
            for line in r["tidied"]:
                print("    " + line)


if __name__ == "__main__":
    main()
