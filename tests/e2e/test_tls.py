"""TLS on every listener: STARTTLS on SMTP, submission, IMAP and POP3; implicit TLS on
submissions, IMAPS and POP3S (RFC 8314); TLS 1.1 refused; the dev certificate names
localhost and 127.0.0.1 and matches the fingerprint in the banner."""

import imaplib
import poplib
import smtplib
import ssl
import subprocess

import harness


def s_client(args, command, expect, timeout=20):
    """Runs `openssl s_client -quiet` (which verifies the peer), sends `command` once the
    session is up, and returns what the server sent until `expect` appeared."""
    proc = subprocess.Popen(["openssl", "s_client", "-quiet", "-verify_return_error"] + args,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    timer = __import__("threading").Timer(timeout, proc.kill)
    timer.start()
    out = b""
    try:
        # s_client reads standard input only once the TLS session is up.
        proc.stdin.write(command)
        proc.stdin.flush()
        while expect not in out:
            line = proc.stdout.readline()
            if not line:
                break
            out += line
    finally:
        timer.cancel()
        proc.kill()
        proc.wait()
    return out


class TlsTest(harness.ServerTestCase):
    def test_smtp_and_submission_starttls_with_smtplib(self):
        for proto in ("smtp", "submission"):
            with smtplib.SMTP("127.0.0.1", self.server.ports[proto], timeout=10) as s:
                code, _ = s.ehlo("client.test")
                self.assertEqual(code, 250)
                self.assertTrue(s.has_extn("starttls"))
                code, _ = s.starttls(context=self.server.client_tls_context())
                self.assertEqual(code, 220)
                code, _ = s.ehlo("client.test")
                self.assertEqual(code, 250)
                self.assertFalse(s.has_extn("starttls"), "STARTTLS offered again inside TLS")
                self.assertEqual(s.noop()[0], 250)

    def test_submissions_implicit_tls_with_smtplib(self):
        ctx = self.server.client_tls_context()
        with smtplib.SMTP_SSL("localhost", self.server.ports["submissions"], context=ctx,
                              timeout=10) as s:
            self.assertEqual(s.ehlo("client.test")[0], 250)
            self.assertFalse(s.has_extn("starttls"))
            self.assertIn(s.sock.version(), ("TLSv1.2", "TLSv1.3"))

    def test_imap_starttls_and_imaps_with_imaplib(self):
        ctx = self.server.client_tls_context()
        m = imaplib.IMAP4("127.0.0.1", self.server.ports["imap"], timeout=10)
        self.assertIn("STARTTLS", m.capabilities)
        self.assertIn("LOGINDISABLED", m.capabilities)
        m.starttls(ssl_context=ctx)
        self.assertNotIn("STARTTLS", m.capabilities)
        self.assertEqual(m.noop()[0], "OK")
        self.assertEqual(m.logout()[0], "BYE")
        m = imaplib.IMAP4_SSL("localhost", self.server.ports["imaps"], ssl_context=ctx, timeout=10)
        self.assertNotIn("STARTTLS", m.capabilities)
        self.assertEqual(m.noop()[0], "OK")
        m.logout()

    def test_pop3_stls_and_pop3s_with_poplib(self):
        ctx = self.server.client_tls_context()
        p = poplib.POP3("127.0.0.1", self.server.ports["pop3"], timeout=10)
        self.assertIn("STLS", p.capa())
        p.stls(context=ctx)
        self.assertNotIn("STLS", p.capa())
        self.assertTrue(p.noop().startswith(b"+OK"))
        self.assertTrue(p.quit().startswith(b"+OK"))
        p = poplib.POP3_SSL("localhost", self.server.ports["pop3s"], context=ctx, timeout=10)
        self.assertIn("RESP-CODES", p.capa())
        p.quit()

    def test_implicit_tls_with_openssl_s_client(self):
        for proto, command, expect in (("imaps", b"a NOOP\r\n", b"a OK NOOP completed"),
                                       ("pop3s", b"NOOP\r\n", b"+OK"),
                                       ("submissions", b"NOOP\r\n", b"250 2.0.0 Ok")):
            out = s_client(["-verify_hostname", "localhost", "-CAfile", self.server.cert_file,
                            "-connect", f"127.0.0.1:{self.server.ports[proto]}"],
                           command, expect)
            self.assertIn(expect, out, proto)

    def test_starttls_with_openssl_s_client(self):
        for proto, kind, command, expect in (("submission", "smtp", b"NOOP\r\n", b"250 2.0.0 Ok"),
                                             ("imap", "imap", b"z NOOP\r\n", b"z OK"),
                                             ("pop3", "pop3", b"NOOP\r\n", b"+OK")):
            out = s_client(["-CAfile", self.server.cert_file, "-starttls", kind, "-connect",
                            f"127.0.0.1:{self.server.ports[proto]}"], command, expect)
            self.assertIn(expect, out, proto)

    def test_tls_1_1_is_refused_by_the_server(self):
        # The client is told to allow TLS 1.1 at any security level, so a failure can only
        # come from the server's floor: it answers with a protocol_version alert.
        for proto in ("imaps", "pop3s", "submissions"):
            out = subprocess.run(
                ["openssl", "s_client", "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0", "-connect",
                 f"127.0.0.1:{self.server.ports[proto]}"],
                input=b"", capture_output=True, timeout=20)
            self.assertNotEqual(out.returncode, 0)
            self.assertRegex(out.stderr.decode(errors="replace"), r"alert protocol version",
                             proto)
        # A TLS 1.2 client is still served.
        ctx = self.server.client_tls_context()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        client = harness.LineClient(
            ctx.wrap_socket(__import__("socket").create_connection(
                ("127.0.0.1", self.server.ports["imaps"]), timeout=10),
                server_hostname="localhost"), self.server)
        self.assertEqual(client.sock.version(), "TLSv1.2")
        self.assertTrue(client.line().startswith("* OK"))
        client.close()

    def test_certificate_names_and_banner_fingerprint(self):
        for name in ("localhost", "127.0.0.1"):
            ctx = self.server.client_tls_context()
            with smtplib.SMTP_SSL(name, self.server.ports["submissions"], context=ctx,
                                  timeout=10) as s:
                self.assertEqual(s.noop()[0], 250)
        out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in",
                              self.server.cert_file], capture_output=True, text=True, check=True)
        fingerprint = out.stdout.strip().split("=", 1)[1]
        self.assertIn(fingerprint, self.server.banner)
        san = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in",
                              self.server.cert_file], capture_output=True, text=True).stdout
        for name in ("DNS:localhost", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1"):
            self.assertIn(name, san)

    def test_plaintext_to_an_implicit_tls_port_gets_no_protocol_text(self):
        import socket
        s = socket.create_connection(("127.0.0.1", self.server.ports["imaps"]), timeout=10)
        s.sendall(b"a CAPABILITY\r\n")
        data = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        s.close()
        self.assertNotIn(b"CAPABILITY", data)
        self.assertNotIn(b"* OK", data)


class Tls13OnlyTest(harness.ServerTestCase):
    config = '[tls]\nmin_version = "1.3"\n'
    listen = ["imaps"]

    def test_tls_1_2_is_refused_when_the_floor_is_1_3(self):
        import socket
        ctx = self.server.client_tls_context()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        raw = socket.create_connection(("127.0.0.1", self.server.ports["imaps"]), timeout=10)
        with self.assertRaises(ssl.SSLError):
            ctx.wrap_socket(raw, server_hostname="localhost")
        raw.close()
        ok = self.server.client_tls_context().wrap_socket(
            socket.create_connection(("127.0.0.1", self.server.ports["imaps"]), timeout=10),
            server_hostname="localhost")
        self.assertEqual(ok.version(), "TLSv1.3")
        ok.close()


if __name__ == "__main__":
    harness.main()
