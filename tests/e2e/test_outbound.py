"""Outbound mail end to end (RFC 5321, RFC 3464, RFC 6376): a second postino, Postfix's
smtp-sink as a faulty peer and hand-written SMTP servers, all on 127.0.0.0/8. Replays
RELIABILITY S03 (no smuggling outbound), C03 (kill -9 during a remote DATA), F04 and F07
(peers that fail in every way), F08 (the clock) and K05 (a hundred messages, each once);
delivery reports, DKIM, the relay host and the queue commands. DNS routing:
test_outbound_routing.py."""

import os
import re
import shutil
import signal
import sqlite3
import tempfile
import time

import harness
from outbound_support import (WAIT, OutboundCase, RecordingServer, Sink, demo_credentials,
                              postino, queue_ids, report_fields, reports, stored, submit,
                              wait_until)


class TwoInstancesTest(OutboundCase):
    def test_relay_to_another_postino_arrives_byte_for_byte(self):
        b = self.start(listen=["smtp"])
        self.add_bob(b)
        a = self.start(listen=["submission"],
                       extra_args=["--route", f"B.test=127.0.0.1:{b.ports['smtp']}"])
        user, _ = demo_credentials(a)
        body = (b"From: Demo <" + user.encode() + b">\r\nTo: bob@b.test\r\n"
                b"Subject: across\r\n\r\n.leading dot\r\nlast line\r\n")
        submit(a, ["bob@b.test"], body)
        got = wait_until(lambda: stored(b, "bob@b.test"), what="delivery to b")[0]
        # B's Return-Path and Received, A's Received, then the message as submitted.
        self.assertTrue(got.startswith(b"Return-Path: <" + user.encode() + b">\r\nReceived: "),
                        got[:300])
        self.assertTrue(got.endswith(body), got[-300:])
        trace = got[: len(got) - len(body)].decode()
        self.assertEqual(trace.count("Received: "), 2, trace)
        self.assertRegex(trace, r"with ESMTPS")  # STARTTLS between the two
        wait_until(lambda: queue_ids(a) == [], what="an empty queue")
        self.assertIsNotNone(a.wait_for_log(lambda l: "event=delivery" in l and
                                            "to=<bob@b.test>" in l and "status=sent" in l))


class RelayHostTest(OutboundCase):
    def test_every_domain_through_the_relay_host_with_auth_over_starttls(self):
        b = self.start(listen=["submission"])
        self.add_bob(b)
        # B's demo account is the same address as A's: B lets it send as itself.
        relay_user, relay_password = demo_credentials(b)
        secret = os.path.join(b.dir, "relay-password")
        with open(secret, "w") as f:
            f.write(relay_password + "\n")
        config = f"""
[outbound]
relay_host = "127.0.0.1:{b.ports['submission']}"
relay_user = "{relay_user}"
relay_password_file = "{secret}"
"""
        a = self.start(config=config, listen=["submission"])
        user, _ = demo_credentials(a)
        submit(a, ["bob@b.test"], b"Subject: via the smarthost\r\n\r\nrelayed\r\n")
        got = wait_until(lambda: stored(b, "bob@b.test"), what="delivery through the relay")[0]
        self.assertRegex(got.decode(), r"with ESMTPSA")  # authenticated, over TLS
        self.assertTrue(got.endswith(b"Subject: via the smarthost\r\n\r\nrelayed\r\n"))
        wait_until(lambda: queue_ids(a) == [], what="an empty queue")


class DkimTest(OutboundCase):
    def test_relayed_mail_is_signed_and_verifies_with_dkimpy(self):
        import dkim
        b = self.start(listen=["smtp"])
        self.add_bob(b)
        data = tempfile.mkdtemp(prefix="postino-dkim-")
        self.addCleanup(shutil.rmtree, data, True)
        gen = postino(harness.DevServer(data=os.path.join(data, "d")), "dkim", "generate",
                      "example.test", "--selector", "e2e")
        self.assertEqual(gen.returncode, 0, gen.stderr)
        records = {}
        for line in gen.stdout.splitlines():
            m = re.match(r'^(\S+)\. IN TXT (.*)$', line)
            if m:
                records[m.group(1)] = "".join(re.findall(r'"([^"]*)"', m.group(2)))
        self.assertEqual(sorted(records), ["e2e-ed25519._domainkey.example.test",
                                           "e2e._domainkey.example.test"])
        a = self.start(listen=["submission"], data=os.path.join(data, "d"),
                       extra_args=["--route", f"b.test=127.0.0.1:{b.ports['smtp']}"])
        user, _ = demo_credentials(a)
        body = (b"From: Demo <" + user.encode() + b">\r\nTo: bob@b.test\r\n"
                b"Subject:   folded\r\n  subject  line\r\n\r\nsigned   body  \r\n\r\n\r\n")
        submit(a, ["bob@b.test"], body)
        got = wait_until(lambda: stored(b, "bob@b.test"), what="delivery to b")[0]
        self.assertEqual(got.count(b"DKIM-Signature:"), 2)

        def dns(name, timeout=5):
            return records.get(name.decode().rstrip("."), "").encode()
        d = dkim.DKIM(got)
        sigs = [i for i, (name, _) in enumerate(d.headers) if name.lower() == b"dkim-signature"]
        algorithms = []
        for i in range(len(sigs)):
            self.assertTrue(d.verify(idx=i, dnsfunc=dns), f"signature {i} does not verify")
            algorithms.append(re.search(rb"a=([\w-]+)", d.headers[sigs[i]][1]).group(1))
        self.assertEqual(sorted(algorithms), [b"ed25519-sha256", b"rsa-sha256"])
        # A changed body breaks them.
        try:
            forged_ok = dkim.DKIM(got.replace(b"signed", b"forged")).verify(dnsfunc=dns)
        except dkim.ValidationError:
            forged_ok = False
        self.assertFalse(forged_ok)


class SmugglingTest(OutboundCase):
    """RELIABILITY S03: what we send is clean CRLF, dot-stuffed, one message."""

    def test_bare_cr_and_lf_never_leave_and_no_message_is_smuggled(self):
        import smtplib
        peer = RecordingServer()
        self.addCleanup(peer.close)
        a = self.start(listen=["submission"],
                       extra_args=["--route", f"peer.test=127.0.0.1:{peer.port}"])
        user, password = demo_credentials(a)
        body = (b"Subject: smuggle\r\n\r\nA\r\n.\r\r\nMAIL FROM:<evil@x.test>\r\n"
                b"RCPT TO:<victim@peer.test>\r\nDATA\r\nZ\n.\nB\r.\rC\r\n..dotted\r\nD\r\n")
        with smtplib.SMTP("127.0.0.1", a.ports["submission"], timeout=10) as s:
            s.starttls(context=a.client_tls_context())
            s.login(user, password)
            self.assertEqual(s.docmd(f"MAIL FROM:<{user}>")[0], 250)
            self.assertEqual(s.docmd("RCPT TO:<x@peer.test>")[0], 250)
            self.assertEqual(s.docmd("DATA")[0], 354)
            s.send(body + b"\r\n.\r\n")  # raw: smtplib's sendmail would repair the line ends
            code, _ = s.getreply()
        if code != 250:
            self.skipTest("the submission server refused the message; nothing was relayed")
        wait_until(lambda: peer.accepted, what="the relayed message")
        time.sleep(0.5)
        self.assertEqual(len(peer.accepted), 1)
        data = peer.accepted[0]
        for i, c in enumerate(data):
            if c == 13:
                self.assertEqual(data[i + 1], 10, data)
            if c == 10:
                self.assertEqual(data[i - 1], 13, data)
        self.assertEqual(data.count(b"\r\n.\r\n"), 1, data)
        for line in data[:-3].split(b"\r\n"):
            if line.startswith(b"."):
                self.assertTrue(line.startswith(b".."), data)
        rcpts = [c for c in peer.commands if c.upper().startswith(b"RCPT")]
        self.assertEqual(rcpts, [b"RCPT TO:<x@peer.test>\r\n"])


class HostilePeerTest(OutboundCase):
    """RELIABILITY F07: replies that are not SMTP cannot corrupt the queue or a report."""

    def test_control_characters_and_endless_replies(self):
        dirty = RecordingServer(rcpt_reply=b"550 5.1.1 bad\x00user\rSubject: injected\r\n")
        endless = RecordingServer(greeting=b"220-x\r\n" * 1000)
        self.addCleanup(dirty.close)
        self.addCleanup(endless.close)
        a = self.start(config="[queue]\npoll_interval_ms = 100\n", listen=["submission"],
                       extra_args=["--route", f"dirty.test=127.0.0.1:{dirty.port}",
                                   "--route", f"endless.test=127.0.0.1:{endless.port}"])
        submit(a, ["x@dirty.test", "y@endless.test"], b"Subject: hostile\r\n\r\nh\r\n")
        raw, msg = wait_until(lambda: reports(a), what="the bounce")[0]
        fields = report_fields(msg)
        self.assertEqual(len(fields), 1)
        self.assertEqual(fields[0]["Diagnostic-Code"], "smtp; 550 5.1.1 bad?user?Subject: injected")
        self.assertNotIn(b"\x00", raw)
        ids = queue_ids(a)
        self.assertEqual(len(ids), 1)
        out = postino(a, "queue", "show", ids[0])
        self.assertIn("y@endless.test  pending", out.stdout)
        self.assertIn("broken reply", out.stdout)


class FaultyPeerTest(OutboundCase):
    """smtp-sink failing at each step; each outcome checked."""

    CONFIG = """
[queue]
min_backoff_seconds = 1
max_backoff_seconds = 1
poll_interval_ms = 100
[outbound]
command_timeout_seconds = 2
"""

    @classmethod
    def setUpClass(cls):
        cls.sinks = {
            "tempfail.test": Sink(["-r", "RCPT"]),
            "permfail.test": Sink(["-f", "."]),
            "busy.test": Sink(["-Q", "MAIL"]),
            "drop.test": Sink(["-q", "RCPT"]),
            "slow.test": Sink(["-w", "5"]),
            "ok.test": Sink(),
        }

    @classmethod
    def tearDownClass(cls):
        for sink in cls.sinks.values():
            sink.close()

    def setUp(self):
        routes = ["--route", "far.test=192.0.2.1:25"]  # TEST-NET-1: never reached in --dev
        for domain, sink in self.sinks.items():
            routes += ["--route", f"{domain}=127.0.0.1:{sink.port}"]
        self.a = self.start(config=self.CONFIG, listen=["submission"], extra_args=routes)

    def entry(self, qid):
        out = postino(self.a, "queue", "show", qid, "--json")
        if out.returncode != 0:
            return None
        import json
        return json.loads(out.stdout)

    def only_entry(self):
        ids = wait_until(lambda: queue_ids(self.a), what="a queue entry")
        self.assertEqual(len(ids), 1)
        return ids[0]

    def deferred_with(self, qid, pattern, attempts=1):
        def check():
            e = self.entry(qid)
            if not e or e["attempts"] < attempts:
                return None
            reply = e["recipients"][0]["last_reply"]
            return reply if re.search(pattern, reply) else None
        return wait_until(check, what=f"a deferral matching {pattern}")

    def test_tempfail_at_rcpt_is_retried(self):
        submit(self.a, ["x@tempfail.test"], b"Subject: t\r\n\r\nt\r\n")
        qid = self.only_entry()
        self.deferred_with(qid, r"^4\d\d ", attempts=2)  # tried again after the backoff
        self.assertEqual(reports(self.a), [])

    def test_permanent_failure_at_data_bounces_with_a_report(self):
        body = b"Subject: doomed\r\nMessage-ID: <doomed@e2e>\r\n\r\nbody\r\n"
        submit(self.a, ["x@permfail.test"], body)
        raw, msg = wait_until(lambda: reports(self.a), what="a bounce")[0]
        self.assertTrue(raw.startswith(b"Return-Path: <>\r\n"), raw[:100])
        self.assertEqual(msg.get_param("report-type"), "delivery-status")
        fields = report_fields(msg)
        self.assertEqual(fields[0]["Final-Recipient"], "rfc822; x@permfail.test")
        self.assertEqual(fields[0]["Action"], "failed")
        self.assertRegex(fields[0]["Status"], r"^5\.\d+\.\d+$")
        self.assertIn("smtp; 5", fields[0]["Diagnostic-Code"])
        self.assertIn(b"Message-ID: <doomed@e2e>", raw)  # the original comes back
        wait_until(lambda: queue_ids(self.a) == [], what="an empty queue")

    def test_dev_mode_relays_only_to_loopback(self):
        submit(self.a, ["x@far.test"], b"Subject: far\r\n\r\nf\r\n")
        self.deferred_with(self.only_entry(), r"^451 4\.7\.0 .*loopback")
        self.assertIsNone(self.a.wait_for_log(lambda l: "192.0.2.1" in l and "connect" in l, 0.5))

    def test_421_at_mail_defers(self):
        submit(self.a, ["x@busy.test"], b"Subject: busy\r\n\r\nb\r\n")
        self.deferred_with(self.only_entry(), r"^421 ")

    def test_dropped_connection_defers(self):
        submit(self.a, ["x@drop.test"], b"Subject: drop\r\n\r\nd\r\n")
        self.deferred_with(self.only_entry(), r"closed the connection")

    def test_slow_server_times_out_and_defers(self):
        submit(self.a, ["x@slow.test"], b"Subject: slow\r\n\r\ns\r\n")
        self.deferred_with(self.only_entry(), r"did not answer in time")

    def test_one_message_for_good_and_failing_domains(self):
        submit(self.a, ["x@ok.test", "y@permfail.test", "z@tempfail.test"],
               b"Subject: mixed\r\n\r\nm\r\n")
        qid = self.only_entry()
        def settled():
            e = self.entry(qid)
            return e and [r["state"] for r in e["recipients"]] == ["delivered", "failed", "pending"]
        wait_until(settled, what="per-recipient results")
        raw, msg = wait_until(lambda: reports(self.a), what="the bounce")[0]
        self.assertEqual([f["Final-Recipient"] for f in report_fields(msg)],
                         ["rfc822; y@permfail.test"])
        self.assertTrue(any(b"Subject: mixed" in m for m in self.sinks["ok.test"].messages()))

    def test_a_hundred_messages_each_delivered_once(self):
        import smtplib
        user, password = demo_credentials(self.a)
        with smtplib.SMTP("127.0.0.1", self.a.ports["submission"], timeout=10) as s:
            s.starttls(context=self.a.client_tls_context())
            s.login(user, password)
            for i in range(100):
                s.sendmail(user, ["bulk@ok.test"], f"Subject: bulk {i}\r\n\r\nb\r\n".encode())
        def subjects():
            found = []
            for m in self.sinks["ok.test"].messages():
                found += re.findall(rb"Subject: bulk (\d+)\r?\n", m)
            return found
        wait_until(lambda: len(subjects()) >= 100, what="a hundred deliveries")
        wait_until(lambda: queue_ids(self.a) == [], what="an empty queue")
        got = subjects()
        self.assertEqual(sorted(int(n) for n in got), list(range(100)))

    def test_queue_commands_on_a_running_server(self):
        submit(self.a, ["x@tempfail.test"], b"Subject: admin\r\n\r\na\r\n")
        qid = self.only_entry()
        self.deferred_with(qid, r"^4\d\d ")
        self.assertEqual(postino(self.a, "queue", "hold", qid).returncode, 0)
        attempts = self.entry(qid)["attempts"]
        self.assertTrue(self.entry(qid)["held"])
        time.sleep(2.5)  # two backoffs: a held message is not tried
        self.assertEqual(self.entry(qid)["attempts"], attempts)
        self.assertEqual(postino(self.a, "queue", "release", qid).returncode, 0)
        self.deferred_with(qid, r"^4\d\d ", attempts=attempts + 1)
        self.assertEqual(postino(self.a, "queue", "flush").returncode, 0)
        out = postino(self.a, "queue", "bounce", qid)
        self.assertEqual(out.returncode, 0, out.stderr)
        raw, msg = wait_until(lambda: reports(self.a), what="the administrator's bounce")[0]
        self.assertIn("administrator", report_fields(msg)[0]["Diagnostic-Code"])
        wait_until(lambda: queue_ids(self.a) == [], what="an empty queue")
        # delete: gone without a report.
        submit(self.a, ["x@tempfail.test"], b"Subject: admin 2\r\n\r\na\r\n")
        qid = self.only_entry()
        self.assertEqual(postino(self.a, "queue", "delete", qid).returncode, 0)
        self.assertEqual(queue_ids(self.a), [])
        self.assertNotEqual(postino(self.a, "queue", "show", qid).returncode, 0)
        time.sleep(1)
        self.assertEqual(len(reports(self.a)), 1)


class LifetimeTest(OutboundCase):
    def test_delay_warning_then_expiry_report(self):
        sink = Sink(["-r", "RCPT"])
        self.addCleanup(sink.close)
        config = """
[queue]
min_backoff_seconds = 1
max_backoff_seconds = 1
poll_interval_ms = 100
delay_warning_seconds = 1
lifetime_seconds = 4
"""
        a = self.start(config=config, listen=["submission"],
                       extra_args=["--route", f"late.test=127.0.0.1:{sink.port}"])
        submit(a, ["x@late.test"], b"Subject: patience\r\n\r\nwait\r\n",
               rcpt_options=["NOTIFY=DELAY,FAILURE", "ORCPT=rfc822;x@late.test"])
        got = wait_until(lambda: len(reports(a)) >= 2 and reports(a), what="two reports")
        (_, delayed), (_, failed) = got[0], got[1]
        self.assertEqual(delayed["Subject"], "Delayed Mail (still being retried)")
        d = report_fields(delayed)[0]
        self.assertEqual(d["Action"], "delayed")
        self.assertIn("Will-Retry-Until", d)
        self.assertEqual(d["Original-Recipient"], "rfc822; x@late.test")
        f = report_fields(failed)[0]
        self.assertEqual(f["Action"], "failed")
        self.assertRegex(f["Status"], r"^4\.\d+\.\d+$")  # the last temporary reason, as Postfix
        self.assertEqual(len(reports(a)), 2)  # one warning only
        wait_until(lambda: queue_ids(a) == [], what="an empty queue")


class ClockTest(OutboundCase):
    def test_a_next_try_far_ahead_is_brought_in(self):
        """RELIABILITY F08: after the clock went back, no message sleeps for a year."""
        sink = Sink(["-r", "RCPT"])
        self.addCleanup(sink.close)
        config = "[queue]\nmin_backoff_seconds = 1\nmax_backoff_seconds = 2\npoll_interval_ms = 100\n"
        route = ["--route", f"later.test=127.0.0.1:{sink.port}"]
        a = self.start(config=config, listen=["submission"], extra_args=route)
        submit(a, ["x@later.test"], b"Subject: clock\r\n\r\nc\r\n")
        ids = wait_until(lambda: queue_ids(a), what="a queue entry")
        a.stop()
        db = sqlite3.connect(os.path.join(a.data, "store.db"))
        db.execute("UPDATE queue SET next_attempt = unixepoch() + 365 * 86400")
        db.commit()
        attempts = db.execute("SELECT attempts FROM queue").fetchone()[0]
        db.close()
        again = self.start(config=config, listen=["submission"], extra_args=route, data=a.data)
        self.assertIsNotNone(again.wait_for_log(lambda l: "queue_clamped" in l))
        def tried_again():
            out = postino(again, "queue", "show", ids[0], "--json")
            import json
            return out.returncode == 0 and json.loads(out.stdout)["attempts"] > attempts
        wait_until(tried_again, what="another try")


class KillDuringDataTest(OutboundCase):
    def test_kill_9_during_remote_data_then_delivered_after_restart(self):
        peer = RecordingServer(stall=True)
        self.addCleanup(peer.close)
        route = ["--route", f"stall.test=127.0.0.1:{peer.port}"]
        a = self.start(config="[queue]\npoll_interval_ms = 100\n", listen=["submission"],
                       extra_args=route)
        body = b"Subject: survive\r\n\r\nkill -9 while the peer holds the message\r\n"
        submit(a, ["x@stall.test"], body, rcpt_options=["NOTIFY=SUCCESS"])
        self.assertTrue(peer.got_first_body.wait(WAIT))
        a.stop(signal.SIGKILL)
        again = self.start(config="[queue]\npoll_interval_ms = 100\n", listen=["submission"],
                           extra_args=route, data=a.data)
        wait_until(lambda: peer.accepted, what="the delivery after the restart")
        self.assertIn(b"kill -9 while the peer holds the message", peer.accepted[0])
        self.assertEqual(peer.sessions, 2)
        wait_until(lambda: queue_ids(again) == [], what="an empty queue")
        # The peer offers no DSN: the sender who asked for success hears "relayed".
        _, msg = wait_until(lambda: reports(again), what="the relayed report")[0]
        self.assertEqual(report_fields(msg)[0]["Action"], "relayed")


if __name__ == "__main__":
    harness.main()
