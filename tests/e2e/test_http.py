"""The HTTP listener end to end, over http and https, with curl as the client: /health,
/metrics (checked by Prometheus's promtool, and counting what the mail protocols did),
Thunderbird autoconfig read the way Thunderbird reads it, Outlook autodiscover (POX), the
MTA-STS policy, errors, limits, and the server still serving after hostile requests."""

import hashlib
import imaplib
import json
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import harness

CONFIG = """
[mta_sts]
mode = "enforce"
mx = ["mail.example.test", "*.backup.example.test"]
max_age_seconds = 86400

[http]
max_header_bytes = 2048
max_body_bytes = 4096
"""


def curl(*args, data=None):
    """(status, body) of a curl request; curl fails the test only when it cannot connect."""
    cmd = ["curl", "-sS", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}", *args]
    if data is not None:
        cmd += ["--data-binary", "@-"]
    out = subprocess.run(cmd, input=data.encode() if data is not None else None,
                         capture_output=True, timeout=30)
    body, _, status = out.stdout.decode().rpartition("\n")  # keeps CRLF as sent
    return int(status or 0), body


class HttpTest(harness.ServerTestCase):
    config = CONFIG

    def url(self, path, tls=False):
        if tls:
            return f"https://localhost:{self.server.ports['https']}{path}"
        return f"http://127.0.0.1:{self.server.ports['http']}{path}"

    def test_health_over_http_and_https(self):
        self.assertEqual(curl(self.url("/health")), (200, "ok\r\n"))
        status, body = curl("--cacert", self.server.cert_file, self.url("/health", tls=True))
        self.assertEqual((status, body), (200, "ok\r\n"))
        head = subprocess.run(["curl", "-sS", "-I", self.url("/health")], capture_output=True,
                              text=True, timeout=30).stdout
        self.assertTrue(head.startswith("HTTP/1.1 200 OK"), head)
        self.assertIn("Content-Length: 4", head)
        # ALPN (ALPACA): a browser's offer gets http/1.1; a mail client's is refused.
        for offer, selected in ((["h2", "http/1.1"], "http/1.1"), (["imap"], None)):
            ctx = self.server.client_tls_context()
            ctx.set_alpn_protocols(offer)
            raw = socket.create_connection(("127.0.0.1", self.server.ports["https"]), timeout=10)
            try:
                if selected is None:
                    with self.assertRaisesRegex(ssl.SSLError, "no application protocol"):
                        ctx.wrap_socket(raw, server_hostname="localhost")
                else:
                    with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                        self.assertEqual(tls.selected_alpn_protocol(), selected)
            finally:
                raw.close()

    def test_metrics_pass_promtool_and_count_what_happened(self):
        address, password = self.server.demo_credentials()
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.sendmail("a@remote.test", [address], "Subject: m\r\n\r\nbody\r\n")
            # Over store.inline_body_bytes: its body goes to the log, synced before the commit.
            s.sendmail("a@remote.test", [address],
                       "Subject: big\r\n\r\n" + ("x" * 76 + "\r\n") * 300)
            with self.assertRaises(smtplib.SMTPRecipientsRefused):
                s.sendmail("a@remote.test", ["nobody@example.test"], "Subject: x\r\n\r\n.\r\n")
        with imaplib.IMAP4_SSL("127.0.0.1", self.server.ports["imaps"],
                               ssl_context=self.server.client_tls_context()) as imap:
            with self.assertRaises(imaplib.IMAP4.error):
                imap.login(address, "wrong")
        with imaplib.IMAP4_SSL("127.0.0.1", self.server.ports["imaps"],
                               ssl_context=self.server.client_tls_context()) as imap:
            imap.login(address, password)
            imap.select("INBOX")
            imap.fetch("1", "(FLAGS)")
        status, text = curl(self.url("/metrics"))
        self.assertEqual(status, 200, text)
        check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                               text=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr + text)
        samples = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                samples[name] = float(value)
        self.assertGreaterEqual(samples['postino_smtp_messages_accepted_total{service="smtp"}'], 1)
        self.assertGreaterEqual(
            samples['postino_smtp_errors_total{service="smtp",code="550 5.1.1"}'], 1)
        self.assertGreaterEqual(
            samples['postino_authentications_total{result="ok",reason=""}'], 1)
        self.assertGreaterEqual(
            samples['postino_authentications_total{result="failed",reason="wrong password"}'], 1)
        self.assertGreaterEqual(samples['postino_connections_total{protocol="imaps"}'], 2)
        self.assertGreaterEqual(
            samples['postino_tls_handshakes_total{protocol="imaps",result="ok"}'], 2)
        self.assertGreaterEqual(
            samples['postino_imap_command_duration_seconds_count{command="SELECT"}'], 1)
        self.assertGreaterEqual(
            samples['postino_store_sync_duration_seconds_count{kind="commit"}'], 1)
        for stage in ("prepare", "body_sync", "commit"):
            self.assertGreaterEqual(
                samples[f'postino_store_save_stage_seconds_count{{stage="{stage}"}}'], 1, stage)
        self.assertEqual(samples['postino_store_up'], 1)
        self.assertIn('postino_queue_messages{state="deferred"}', samples)
        self.assertGreater(samples["postino_data_dir_free_bytes"], 0)

    def test_autoconfig_as_thunderbird_reads_it(self):
        address, _ = self.server.demo_credentials()
        for path, host in [(f"/mail/config-v1.1.xml?emailaddress={address.replace('@', '%40')}",
                            None),
                           ("/.well-known/autoconfig/mail/config-v1.1.xml",
                            "autoconfig.example.test")]:
            args = ["-H", f"Host: {host}"] if host else []
            status, body = curl(*args, self.url(path))
            self.assertEqual(status, 200, body)
            root = ET.fromstring(body)
            self.assertEqual(root.tag, "clientConfig")
            self.assertEqual(root.get("version"), "1.1")
            provider = root.find("emailProvider")
            self.assertEqual(provider.get("id"), "example.test")
            self.assertEqual(provider.findtext("domain"), "example.test")
            incoming = [(s.get("type"), int(s.findtext("port")), s.findtext("socketType"))
                        for s in provider.findall("incomingServer")]
            outgoing = [(s.get("type"), int(s.findtext("port")), s.findtext("socketType"))
                        for s in provider.findall("outgoingServer")]
            ports = self.server.ports
            self.assertEqual(incoming, [("imap", ports["imaps"], "SSL"),
                                        ("imap", ports["imap"], "STARTTLS"),
                                        ("pop3", ports["pop3s"], "SSL"),
                                        ("pop3", ports["pop3"], "STARTTLS")])
            self.assertEqual(outgoing, [("smtp", ports["submissions"], "SSL"),
                                        ("smtp", ports["submission"], "STARTTLS")])
            for server in provider.findall("incomingServer") + provider.findall("outgoingServer"):
                self.assertEqual(server.findtext("hostname"), self.server.hostname)
                self.assertEqual(server.findtext("authentication"), "password-cleartext")
                self.assertEqual(server.findtext("username"), "%EMAILADDRESS%")
        status, _ = curl(self.url("/mail/config-v1.1.xml?emailaddress=a%40not-ours.test"))
        self.assertEqual(status, 404)
        status, _ = curl(self.url("/mail/config-v1.1.xml"))  # Host 127.0.0.1: no domain
        self.assertEqual(status, 400)

    def test_autodiscover_pox(self):
        address, _ = self.server.demo_credentials()
        request = (
            '<?xml version="1.0" encoding="utf-8"?>\r\n<Autodiscover xmlns="http://schemas.'
            'microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request>'
            f"<EMailAddress>{address}</EMailAddress><AcceptableResponseSchema>http://schemas."
            "microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
            "</AcceptableResponseSchema></Request></Autodiscover>")
        status, body = curl("-H", "Content-Type: text/xml", self.url(
            "/autodiscover/autodiscover.xml"), data=request)
        self.assertEqual(status, 200, body)
        ns = {"r": "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006",
              "o": "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"}
        root = ET.fromstring(body)
        protocols = root.findall("o:Response/o:Account/o:Protocol", ns)
        got = {p.findtext("o:Type", namespaces=ns): (int(p.findtext("o:Port", namespaces=ns)),
                                                     p.findtext("o:Encryption", namespaces=ns),
                                                     p.findtext("o:LoginName", namespaces=ns))
               for p in protocols}
        ports = self.server.ports
        self.assertEqual(got, {"IMAP": (ports["imaps"], "SSL", address),
                               "POP3": (ports["pop3s"], "SSL", address),
                               "SMTP": (ports["submissions"], "SSL", address)})
        status, _ = curl(self.url("/autodiscover/autodiscover.xml"))  # GET
        self.assertEqual(status, 405)

    def test_mta_sts_policy_over_https(self):
        status, body = curl("--cacert", self.server.cert_file,
                            self.url("/.well-known/mta-sts.txt", tls=True))
        self.assertEqual(status, 200)
        self.assertEqual(body, "version: STSv1\r\nmode: enforce\r\nmx: mail.example.test\r\n"
                               "mx: *.backup.example.test\r\nmax_age: 86400\r\n")
        # `dns records` publishes the id of exactly this policy (one function builds both).
        config = os.path.join(self.server.dir, "records.toml")
        with open(config, "w") as f:
            f.write(CONFIG)
        records = json.loads(subprocess.run(
            [harness.BINARY, "--config", config, "--data", self.server.data, "dns", "records",
             "example.test", "--json"], capture_output=True, text=True, check=True,
            timeout=60).stdout)
        [published] = [r["value"] for r in records if r["name"] == "_mta-sts.example.test."]
        self.assertEqual(published,
                         "v=STSv1; id=" + hashlib.sha256(body.encode()).hexdigest()[:20])

    def test_hostile_requests_get_their_status_and_the_server_keeps_serving(self):
        cases = [
            (b"GARBAGE\r\n\r\n", b"HTTP/1.1 400 "),
            (b"GET / HTTP/1.1\r\nX: " + b"a" * 5000 + b"\r\n\r\n", b"HTTP/1.1 431 "),
            (b"POST /autodiscover/autodiscover.xml HTTP/1.1\r\nContent-Length: 99999\r\n\r\n",
             b"HTTP/1.1 413 "),
            (b"GET /../../etc/passwd HTTP/1.1\r\nConnection: close\r\n\r\n", b"HTTP/1.1 404 "),
            (b"GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
             b"HTTP/1.1 400 "),
        ]
        for request, expected in cases:
            with self.subTest(request=request[:40]):
                with socket.create_connection(("127.0.0.1", self.server.ports["http"]),
                                              timeout=10) as s:
                    s.sendall(request)
                    reply = b""
                    while chunk := s.recv(4096):  # every one of them closes
                        reply += chunk
                    self.assertTrue(reply.startswith(expected), reply[:200])
        self.assertEqual(curl(self.url("/health")), (200, "ok\r\n"))

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        with socket.create_connection(("127.0.0.1", self.server.ports["http"]), timeout=10) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
            reply = b""
            while chunk := s.recv(4096):
                reply += chunk
        self.assertEqual(reply.count(b"HTTP/1.1 200 OK"), 2, reply)


class AdminApiTest(harness.ServerTestCase):
    """The admin JSON API driven with curl: a domain, a user who then logs in over IMAP, a
    quota, an alias; without the token or with a wrong one, 401."""
    listen = ["http", "imaps"]
    token = "k" * 24 + "-admin-token-for-tests"

    @classmethod
    def setUpClass(cls):
        cls.token_dir = tempfile.mkdtemp(prefix="postino-token-")
        path = os.path.join(cls.token_dir, "token")
        with open(path, "w") as f:
            f.write(cls.token + "\n")
        cls.config = f'[http]\nadmin_token_file = "{path}"\n'
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.token_dir, ignore_errors=True)

    def api(self, method, path, body=None, token=None):
        args = ["-X", method, "-H", f"Authorization: Bearer {token or self.token}",
                f"http://127.0.0.1:{self.server.ports['http']}/api{path}"]
        if body is not None:
            args[0:0] = ["-H", "Content-Type: application/json"]
        status, text = curl(*args, data=json.dumps(body) if body is not None else None)
        return status, (json.loads(text) if text.strip() else None)

    def test_provisioning_through_the_api(self):
        self.assertEqual(self.api("POST", "/domains", {"domain": "api.test"})[0], 201)
        self.assertIn("api.test", self.api("GET", "/domains")[1])
        status, body = self.api("POST", "/users", {"address": "eve@api.test", "password": "s3cret"})
        self.assertEqual((status, body), (201, {"address": "eve@api.test"}))
        self.assertEqual(self.api("PUT", "/users/eve%40api.test/quota",
                                  {"bytes": 5000000, "messages": 100})[1]["quota_messages"], 100)
        self.assertEqual(self.api("POST", "/aliases",
                                  {"alias": "info@api.test", "targets": ["eve@api.test"]})[0], 201)
        users = self.api("GET", "/users?domain=api.test")[1]
        self.assertEqual([u["address"] for u in users], ["eve@api.test"])
        with imaplib.IMAP4_SSL("127.0.0.1", self.server.ports["imaps"],
                               ssl_context=self.server.client_tls_context()) as imap:
            imap.login("eve@api.test", "s3cret")
        self.assertEqual(self.api("PUT", "/users/eve@api.test/password", {"password": "n3w"})[0],
                         204)
        with imaplib.IMAP4_SSL("127.0.0.1", self.server.ports["imaps"],
                               ssl_context=self.server.client_tls_context()) as imap:
            imap.login("eve@api.test", "n3w")
        self.assertEqual(self.api("GET", "/queue"), (200, []))
        self.assertEqual(self.api("GET", "/users/nobody@api.test")[0], 404)
        self.assertEqual(self.api("GET", "/domains", token="wrong")[0], 401)
        status, _ = curl(f"http://127.0.0.1:{self.server.ports['http']}/api/domains")
        self.assertEqual(status, 401)


class MetricsFromElsewhereTest(harness.ServerTestCase):
    """/metrics is for limits.trusted_networks: with none trusted, 403."""
    config = "[limits]\ntrusted_networks = []\n"
    listen = ["http"]

    def test_metrics_refused(self):
        status, body = curl(f"http://127.0.0.1:{self.server.ports['http']}/metrics")
        self.assertEqual(status, 403, body)
        status, _ = curl(f"http://127.0.0.1:{self.server.ports['http']}/health")
        self.assertEqual(status, 200)


if __name__ == "__main__":
    harness.main()
