"""`postino quickstart` end to end: it writes a production configuration, a certificate,
the first account with a password printed once, the postmaster alias, DKIM keys and a
systemd unit; refuses to overwrite; the server then starts from that configuration and the
account works over IMAPS and SMTP; `dns records` lists what quickstart printed; `dns check`
against dnsmasq on a loopback port says ok for a complete zone and names what is missing or
wrong in a broken one."""

import imaplib
import json
import os
import re
import shutil
import smtplib
import ssl
import stat
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from outbound_support import Dnsmasq


def run(*args, expect=0):
    out = subprocess.run([harness.BINARY, *args], capture_output=True, text=True, timeout=60)
    if expect is not None:
        assert out.returncode == expect, (args, out.returncode, out.stdout, out.stderr)
    return out


def zone(records):
    """dnsmasq configuration lines serving `records` (dicts of `dns records --json`)."""
    lines = []
    for r in records:
        name = r["name"].rstrip(".")
        if r["type"] == "MX":
            pref, host = r["value"].split()
            lines.append(f"mx-host={name},{host.rstrip('.')},{pref}")
        elif r["type"] == "TXT":
            chunks = [r["value"][i:i + 255] for i in range(0, len(r["value"]), 255)]
            lines.append(f"txt-record={name}," + ",".join(f'"{c}"' for c in chunks))
        elif r["type"] == "CNAME":
            lines.append(f"cname={name},{r['value'].rstrip('.')}")
        elif r["type"] == "A":
            lines.append(f"host-record={name},{r['value']}")
        elif r["type"] == "SRV":
            prio, weight, port, host = r["value"].split()
            lines.append(f"srv-host={name},{host.rstrip('.')},{port},{prio},{weight}")
    return lines


class QuickstartTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postino-quickstart-")
        os.chmod(self.dir, 0o755)
        self.etc = os.path.join(self.dir, "etc")
        self.data = os.path.join(self.dir, "data")
        self.units = os.path.join(self.dir, "units")
        self.config = os.path.join(self.etc, "postino.toml")
        self.cleanups = []

    def tearDown(self):
        for c in reversed(self.cleanups):
            c()
        shutil.rmtree(self.dir, ignore_errors=True)

    def quickstart(self, expect=0):
        return run("quickstart", "alice@example.test", "--hostname", "mail.example.test",
                   "--ip", "127.0.0.1", "--config-dir", self.etc, "--data-dir", self.data,
                   "--unit-dir", self.units, "--user", "nobody", expect=expect)

    def serve(self):
        args = [harness.BINARY, "serve", "--config", self.config]
        for p in harness.LISTENERS:
            args += ["--listen", f"{p}=127.0.0.1:0"]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
        reader.start()

        def stop():
            proc.terminate()
            self.assertEqual(proc.wait(timeout=20), 0, "".join(lines)[-3000:])
            reader.join(timeout=5)
            self.assertIsNone(harness.sanitizer_report("".join(lines)), "".join(lines)[-3000:])
        self.cleanups.append(stop)
        deadline = time.monotonic() + 60
        while not any("event=ready" in l for l in list(lines)):
            self.assertIsNone(proc.poll(), "".join(lines))
            self.assertLess(time.monotonic(), deadline, "".join(lines))
            time.sleep(0.05)
        ports = {}
        for line in list(lines):
            m = re.search(r"event=listening proto=(\w+) addr=\S+ port=(\d+)", line)
            if m:
                ports[m.group(1)] = int(m.group(2))
        return ports

    def test_quickstart_then_serve_then_dns(self):
        out = self.quickstart().stdout
        password = re.search(r"^  password\s+(\S+)", out, re.M).group(1)
        self.assertEqual(len(password), 16)
        self.assertIn("Next:\n  1. ", out)
        self.assertIn(f"postino --config {self.config} dns check example.test", out)
        # The files, with their modes.
        self.assertEqual(stat.S_IMODE(os.stat(self.config).st_mode), 0o640)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.etc, "tls")).st_mode), 0o700)
        with open(os.path.join(self.units, "postino.service")) as f:
            unit = f.read()
        self.assertIn(f"ExecStart={os.path.realpath(harness.BINARY)} serve --config {self.config}\n",
                      unit)
        self.assertIn(f"ReadWritePaths={self.data}\n", unit)
        self.assertIn("NoNewPrivileges=yes", unit)
        self.assertEqual(run("config", "test", "--config", self.config).returncode, 0)
        if os.geteuid() == 0:
            self.assertEqual(os.stat(self.data).st_uid, 65534)  # nobody
        # Never overwrites.
        before = os.stat(self.config).st_mtime_ns
        again = self.quickstart(expect=1)
        self.assertIn("exists already; nothing was changed", again.stderr)
        self.assertEqual(os.stat(self.config).st_mtime_ns, before)

        # The records quickstart printed are those `dns records` lists.
        records = json.loads(run("--config", self.config, "dns", "records", "example.test",
                                 "--ip", "127.0.0.1", "--json").stdout)
        for r in records:
            self.assertIn(f"{r['name']} 3600 IN {r['type']} ", out)
        kinds = {(r["name"], r["type"]) for r in records}
        for expected in [("example.test.", "MX"), ("postino._domainkey.example.test.", "TXT"),
                         ("postino-ed25519._domainkey.example.test.", "TXT"),
                         ("_dmarc.example.test.", "TXT"), ("_mta-sts.example.test.", "TXT"),
                         ("_smtp._tls.example.test.", "TXT"), ("_imaps._tcp.example.test.", "SRV"),
                         ("_submissions._tcp.example.test.", "SRV"),
                         ("_pop3s._tcp.example.test.", "SRV"),
                         ("autoconfig.example.test.", "CNAME"), ("mail.example.test.", "A")]:
            self.assertIn(expected, kinds)

        # The server starts from the written configuration; the account works.
        ports = self.serve()
        ctx = ssl.create_default_context(cafile=os.path.join(self.etc, "tls", "cert.pem"))
        ctx.check_hostname = False
        with smtplib.SMTP("127.0.0.1", ports["smtp"], timeout=10) as s:
            s.sendmail("someone@remote.test", ["postmaster@example.test"],
                       "Subject: to the postmaster\r\n\r\nhello\r\n")
        with imaplib.IMAP4_SSL("127.0.0.1", ports["imaps"], ssl_context=ctx) as imap:
            imap.login("alice@example.test", password)
            imap.select("INBOX")
            _, data = imap.fetch("1", "(BODY[HEADER.FIELDS (SUBJECT)])")
            self.assertIn(b"to the postmaster", data[0][1])
        status = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
             f"http://127.0.0.1:{ports['http']}/mail/config-v1.1.xml?emailaddress=alice%40example.test"],
            capture_output=True, text=True, timeout=30).stdout
        self.assertEqual(status, "200")

        # dns check: a complete zone is all ok.
        good = Dnsmasq(self.dir, zone(records), "good")
        self.cleanups.append(good.close)
        ok = run("--config", self.config, "dns", "check", "example.test", "--ip", "127.0.0.1",
                 "--dns", f"127.0.0.1:{good.port}", expect=None)
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        self.assertIn("all records ok", ok.stdout)
        self.assertEqual(len(re.findall(r"^ok ", ok.stdout, re.M)), len(records), ok.stdout)

        # A broken one: DMARC missing, the MX elsewhere, an old DKIM key.
        broken = [r for r in records if r["name"] != "_dmarc.example.test."]
        for r in broken:
            if r["type"] == "MX":
                r["value"] = "10 mx.elsewhere.test."
            if r["name"] == "postino._domainkey.example.test.":
                r["value"] = "v=DKIM1; k=rsa; p=AAAAB3NzaC1yc2E"
        broken.append({"name": "mx.elsewhere.test.", "type": "A", "value": "127.0.0.9"})
        bad = Dnsmasq(self.dir, zone(broken), "bad")
        self.cleanups.append(bad.close)
        out = run("--config", self.config, "dns", "check", "example.test", "--ip", "127.0.0.1",
                  "--dns", f"127.0.0.1:{bad.port}", expect=1).stdout
        self.assertRegex(out, r"(?m)^missing  TXT   _dmarc\.example\.test\.")
        self.assertRegex(out, r"(?m)^wrong    MX    example\.test\.")
        self.assertRegex(out, r"(?m)^wrong    TXT   postino\._domainkey\.example\.test\.")
        self.assertIn("fix: publish: _dmarc.example.test. 3600 IN TXT \"v=DMARC1;", out)
        self.assertIn("3 record(s) to fix", out)

    def test_a_bad_address_changes_nothing(self):
        out = run("quickstart", "not-an-address", "--config-dir", self.etc, "--data-dir",
                  self.data, "--unit-dir", self.units, expect=2)
        self.assertIn("is not an address", out.stderr)
        self.assertFalse(os.path.exists(self.etc))


if __name__ == "__main__":
    harness.main()
