"""Outbound routing through DNS (RFC 5321 §5.1, RFC 7505), with dnsmasq on a loopback
port serving the MX records: backup MX, an MX that never greets, implicit MX, null MX,
NXDOMAIN, a refused lookup, and the bound on addresses tried per attempt (RELIABILITY F05,
F06)."""

import shutil
import tempfile

import harness
from outbound_support import (Dnsmasq, OutboundCase, SilentServer, Sink, free_port, postino, queue_ids,
                              report_fields, reports, submit, wait_until)


class DnsTest(OutboundCase):
    """MX routing through dnsmasq on a loopback port."""

    @classmethod
    def setUpClass(cls):
        cls.port = free_port("127.0.0.3")
        cls.mx2 = Sink(host="127.0.0.3", port=cls.port)
        cls.implicit = Sink(host="127.0.0.4", port=cls.port)
        cls.silent = SilentServer("127.0.0.5", cls.port)
        cls.dir = tempfile.mkdtemp(prefix="postino-dns-")
        cls.dnsmasq = Dnsmasq(cls.dir, [
            "mx-host=two.test,mx1.two.test,10",
            "mx-host=two.test,mx2.two.test,20",
            "host-record=mx1.two.test,127.0.0.2",
            "host-record=mx2.two.test,127.0.0.3",
            "mx-host=nullmx.test,.,0",
            "host-record=nomx.test,127.0.0.4",
            "server=/refused.test/#",
            "mx-host=hang.test,mute.hang.test,10",
            "mx-host=hang.test,mx2.two.test,20",
            "host-record=mute.hang.test,127.0.0.5"])
        cls.dns_port = cls.dnsmasq.port

    @classmethod
    def tearDownClass(cls):
        cls.dnsmasq.close()
        cls.mx2.close()
        cls.implicit.close()
        cls.silent.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def config(self, extra=""):
        return f"""
[queue]
poll_interval_ms = 100
[outbound]
port = {self.port}
dns = "127.0.0.1:{self.dns_port}"
connect_timeout_seconds = 3
command_timeout_seconds = 2
{extra}"""

    def setUp(self):
        self.a = self.start(config=self.config(), listen=["submission"], dns=None)

    def test_max_addresses_bounds_the_servers_tried_in_one_attempt(self):
        # One address per attempt: the first MX is down, the second is not tried now.
        self.a.stop()
        a = self.start(config=self.config("max_addresses = 1"), listen=["submission"],
                       dns=None, data=self.a.data)
        submit(a, ["x@two.test"], b"Subject: bounded\r\n\r\nnot this time\r\n")
        ids = wait_until(lambda: queue_ids(a), what="a queue entry")
        wait_until(lambda: "127.0.0.2" in postino(a, "queue", "show", ids[0]).stdout,
                   what="the first MX's failure recorded")
        self.assertFalse(any(b"not this time" in m for m in self.mx2.messages()))

    def test_first_mx_down_the_backup_mx_takes_it(self):
        submit(self.a, ["x@two.test"], b"Subject: backup\r\n\r\nto the second MX\r\n")
        wait_until(lambda: any(b"to the second MX" in m for m in self.mx2.messages()),
                   what="delivery to the backup MX")
        self.assertIsNotNone(self.a.wait_for_log(
            lambda l: "outbound_connect_failed" in l and "127.0.0.2" in l))
        wait_until(lambda: queue_ids(self.a) == [], what="an empty queue")

    def test_an_mx_that_never_greets_times_out_and_the_next_takes_it(self):
        submit(self.a, ["x@hang.test"], b"Subject: mute\r\n\r\npast the silent MX\r\n")
        wait_until(lambda: any(b"past the silent MX" in m for m in self.mx2.messages()),
                   what="delivery to the second MX")
        self.assertEqual(len(self.silent.held), 1)

    def test_no_mx_uses_the_domain_address(self):
        submit(self.a, ["x@nomx.test"], b"Subject: implicit\r\n\r\nimplicit MX\r\n")
        wait_until(lambda: any(b"implicit MX" in m for m in self.implicit.messages()),
                   what="delivery to the implicit MX")

    def test_null_mx_and_nxdomain_bounce_at_once(self):
        submit(self.a, ["x@nullmx.test", "y@nx.test"], b"Subject: nowhere\r\n\r\nn\r\n")
        _, msg = wait_until(lambda: reports(self.a), what="the bounce")[0]
        fields = {f["Final-Recipient"]: f for f in report_fields(msg)}
        self.assertEqual(fields["rfc822; x@nullmx.test"]["Status"], "5.1.10")
        self.assertEqual(fields["rfc822; y@nx.test"]["Status"], "5.1.2")
        wait_until(lambda: queue_ids(self.a) == [], what="an empty queue")

    def test_dns_failure_defers(self):
        submit(self.a, ["x@refused.test"], b"Subject: later\r\n\r\nl\r\n")
        ids = wait_until(lambda: queue_ids(self.a), what="a queue entry")
        def deferred():
            out = postino(self.a, "queue", "show", ids[0])
            return "4.4.3" in out.stdout
        wait_until(deferred, what="a DNS deferral")
        self.assertEqual(reports(self.a), [])


if __name__ == "__main__":
    harness.main()
