"""Postfix-style logs and `postino trace`: one queue id from acceptance to every final
status (local delivery, a relay that takes it, a relay that cannot be reached), the
session's own lines with it and not the session's other messages, then the queue entry
as it stands; read from a file or standard input."""

import os
import re
import smtplib
import subprocess

import harness
from outbound_support import OutboundCase, Sink, demo_credentials, free_port, postino


class TraceTest(OutboundCase):
    def test_the_life_of_one_message(self):
        sink = Sink()
        self.addCleanup(sink.close)
        closed = free_port()
        server = self.start(extra_args=["--route", f"remote.test=127.0.0.1:{sink.port}",
                                        "--route", f"nowhere.test=127.0.0.1:{closed}"])
        user, password = demo_credentials(server)
        with smtplib.SMTP("127.0.0.1", server.ports["submission"], timeout=10) as s:
            s.starttls(context=server.client_tls_context())
            s.login(user, password)
            s.mail(user)
            for r in (user, "far@remote.test", "gone@nowhere.test"):
                s.rcpt(r)
            code, reply = s.data(b"Subject: traced\r\n\r\nbody\r\n")
            self.assertEqual(code, 250)
            queue_id = re.search(rb"queued as (\S+)", reply).group(1).decode()
            s.sendmail(user, [user], b"Subject: another in the same session\r\n\r\nx\r\n")
        self.assertIsNotNone(server.wait_for_log(
            lambda l: "event=delivery" in l and "to=<gone@nowhere.test>" in l, timeout=30))
        self.assertIsNotNone(server.wait_for_log(
            lambda l: "to=<far@remote.test>" in l and "status=sent" in l, timeout=30))
        self.assertIsNotNone(server.wait_for_log(lambda l: "event=disconnect" in l and
                                                 "proto=" not in l and "reason=quit" in l))
        log = os.path.join(server.dir, "postino.log")
        with open(log, "w") as f:
            f.write(server.stderr())

        out = postino(server, "trace", queue_id, "--log", log)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        text = out.stdout
        session = re.search(r"session=(\S+) event=accepted", text).group(1)
        self.assertRegex(text, rf"session={session} event=connect proto=submission")
        self.assertRegex(text, rf"event=accepted queue_id={re.escape(queue_id)} from=<{user}> "
                               r"nrcpt=3 size=\d+")
        self.assertRegex(text, rf"event=delivery queue_id={re.escape(queue_id)} to=<{user}> "
                               r"relay=local status=sent delay=\d+\.\d\d dsn=2\.0\.0")
        self.assertRegex(text, r"event=delivery queue_id=\S+ to=<far@remote.test> "
                               r"relay=\S+ status=sent delay=\d+\.\d\d dsn=2\.0\.0 attempt=1")
        self.assertRegex(text, r"to=<gone@nowhere.test> relay=none status=deferred .*dsn=4\.")
        self.assertIn(f"session={session} event=disconnect", text)
        self.assertNotIn("another in the same session", text)
        self.assertEqual(sum("event=accepted" in l for l in lines), 1, text)  # not the second
        self.assertRegex(text, r"in the queue: 1 attempt\(s\), next attempt \d{4}-")
        self.assertRegex(text, r"  gone@nowhere.test  pending")
        self.assertRegex(text, r"  far@remote.test  delivered")

        # From standard input, as `journalctl -o cat | postino trace ID` gives it.
        with open(log) as f:
            piped = subprocess.run([harness.BINARY, "--data", server.data, "trace", queue_id],
                                   stdin=f, capture_output=True, text=True, timeout=60)
        self.assertEqual(piped.stdout, out.stdout)
        # The same deliveries in the metrics (outcomes and attempt durations).
        metrics = subprocess.run(["curl", "-s", f"http://127.0.0.1:{server.ports['http']}/metrics"],
                                 capture_output=True, text=True, timeout=30).stdout
        self.assertRegex(metrics, r'postino_delivery_recipients_total\{outcome="delivered"\} [1-9]')
        self.assertRegex(metrics, r'postino_delivery_recipients_total\{outcome="deferred"\} [1-9]')
        self.assertRegex(metrics, r"postino_delivery_duration_seconds_count [1-9]")
        self.assertRegex(metrics, r'postino_smtp_recipients_accepted_total\{service="submission",'
                                  r'destination="remote"\} [1-9]')
        missing = postino(server, "trace", "S0000000000.9", "--log", log)
        self.assertEqual(missing.returncode, 1)
        self.assertIn("nothing about S0000000000.9", missing.stderr)


if __name__ == "__main__":
    harness.main()
