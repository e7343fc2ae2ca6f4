"""Certificate reload on SIGHUP: new connections (implicit TLS and STARTTLS) present the
new certificate, connections opened before keep working, and a broken certificate or a
key that does not match keeps the old certificate in service and logs
event=tls_reload_failed; fixing the files and sending SIGHUP again recovers."""

import hashlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import harness


def make_certificate(directory, name):
    cert = os.path.join(directory, name + "-cert.pem")
    key = os.path.join(directory, name + "-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "2",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=30)
    return cert, key


def der_of(pem_file):
    with open(pem_file) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def sha256(der):
    return hashlib.sha256(der).hexdigest()


def unverified_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class ReloadTest(unittest.TestCase):
    def setUp(self):
        self.server = harness.DevServer(listen=["smtp", "imap", "imaps", "pop3s"]).start()
        self.tmp = tempfile.mkdtemp(prefix="postino-reload-")
        self.clients = []
        self.reloads = 0
        # One served connection: the event loop (and its signal handler) is running. A
        # signal sent earlier is EarlySighupTest's subject.
        self.served_certificate()

    def tearDown(self):
        for c in self.clients:
            c.close()
        code, _ = self.server.stop()
        err = self.server.stderr()
        self.server.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertIsNone(harness.sanitizer_report(err), err[-5000:])
        self.assertEqual(code, 0, err[-3000:])

    # -- helpers ----------------------------------------------------------------------
    def served_certificate(self, protocol="imaps"):
        """The DER certificate a new implicit-TLS connection is given."""
        with socket.create_connection(("127.0.0.1", self.server.ports[protocol]), timeout=10) as s:
            with unverified_context().wrap_socket(s, server_hostname="localhost") as t:
                return t.getpeercert(binary_form=True)

    def starttls_certificate(self):
        c = self.server.connect("smtp")
        self.clients.append(c)
        c.line()
        c.send("STARTTLS\r\n")
        self.assertEqual(c.line(), "220 2.0.0 Ready to start TLS")
        c.sock = unverified_context().wrap_socket(c.sock, server_hostname="localhost")
        c.send("NOOP\r\n")
        self.assertEqual(c.line(), "250 2.0.0 Ok")
        return c.sock.getpeercert(binary_form=True)

    def install(self, cert, key):
        shutil.copyfile(cert, self.server.cert_file)
        shutil.copyfile(key, self.server.key_file)

    def sighup(self, expect_event):
        """Sends SIGHUP and waits for the reload's log line (the n-th one of either kind)."""
        self.reloads += 1
        wanted = self.reloads
        self.server.proc.send_signal(signal.SIGHUP)
        seen = []

        def is_reload(line):
            if "event=tls_reloaded" in line or "event=tls_reload_failed" in line:
                if line not in seen:
                    seen.append(line)
                return len(seen) >= wanted
            return False

        line = self.server.wait_for_log(is_reload, timeout=10)
        self.assertIsNotNone(line, "no reload event logged after SIGHUP")
        self.assertIn(f"event={expect_event}", line)
        return line

    def assert_alive(self, client, command, reply):
        client.send(command)
        self.assertEqual(client.line(), reply)

    # -- tests ------------------------------------------------------------------------
    def test_new_certificate_after_sighup(self):
        old = der_of(self.server.cert_file)
        self.assertEqual(self.served_certificate(), old)
        self.assertEqual(self.starttls_certificate(), old)
        # Connections opened before the reload: one inside TLS, one still plaintext.
        before_tls = self.server.connect("imaps")
        before_plain = self.server.connect("smtp")
        self.clients += [before_tls, before_plain]
        before_tls.line()
        before_plain.line()

        cert, key = make_certificate(self.tmp, "new")
        new = der_of(cert)
        self.assertNotEqual(sha256(new), sha256(old))
        self.install(cert, key)
        line = self.sighup("tls_reloaded")
        self.assertIn("level=info", line)

        for protocol in ("imaps", "pop3s"):
            self.assertEqual(sha256(self.served_certificate(protocol)), sha256(new), protocol)
        self.assertEqual(sha256(self.starttls_certificate()), sha256(new))
        # The new certificate verifies with itself as the trust anchor.
        ctx = ssl.create_default_context(cafile=cert)
        with socket.create_connection(("127.0.0.1", self.server.ports["imaps"]), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                self.assertEqual(t.recv(100)[:5], b"* OK ")

        # The old connections keep working; the plaintext one upgrades to the new certificate.
        self.assert_alive(before_tls, "a NOOP\r\n", "a OK NOOP completed")
        self.assertEqual(before_tls.sock.getpeercert(binary_form=True), old)
        self.assert_alive(before_plain, "STARTTLS\r\n", "220 2.0.0 Ready to start TLS")
        before_plain.sock = unverified_context().wrap_socket(before_plain.sock,
                                                             server_hostname="localhost")
        self.assertEqual(sha256(before_plain.sock.getpeercert(binary_form=True)), sha256(new))
        self.assert_alive(before_plain, "NOOP\r\n", "250 2.0.0 Ok")

    def test_broken_certificate_keeps_the_old_one(self):
        old = der_of(self.server.cert_file)
        before = self.server.connect("imaps")
        self.clients.append(before)
        before.line()
        with open(self.server.cert_file, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
        line = self.sighup("tls_reload_failed")
        self.assertIn("level=error", line)
        self.assertEqual(self.served_certificate(), old)
        self.assertEqual(self.starttls_certificate(), old)
        self.assert_alive(before, "a NOOP\r\n", "a OK NOOP completed")

        # An empty file and a missing file fail the same way.
        open(self.server.cert_file, "w").close()
        self.sighup("tls_reload_failed")
        self.assertEqual(self.served_certificate("pop3s"), old)
        os.remove(self.server.cert_file)
        self.sighup("tls_reload_failed")
        self.assertEqual(self.served_certificate(), old)

        # Fixing the files and reloading again works.
        cert, key = make_certificate(self.tmp, "fixed")
        self.install(cert, key)
        self.sighup("tls_reloaded")
        self.assertEqual(self.served_certificate(), der_of(cert))

    def test_key_that_does_not_match_keeps_the_old_certificate(self):
        old = der_of(self.server.cert_file)
        cert, _ = make_certificate(self.tmp, "other")
        shutil.copyfile(cert, self.server.cert_file)  # the key file is left as it was
        line = self.sighup("tls_reload_failed")
        self.assertIn("level=error", line)
        self.assertEqual(self.served_certificate(), old)
        # A broken key with a good certificate is refused too.
        cert, key = make_certificate(self.tmp, "third")
        shutil.copyfile(cert, self.server.cert_file)
        with open(self.server.key_file, "w") as f:
            f.write("garbage\n")
        self.sighup("tls_reload_failed")
        self.assertEqual(self.served_certificate(), old)
        self.assertEqual(self.starttls_certificate(), old)


class EarlySighupTest(unittest.TestCase):
    def test_sighup_right_after_ready_does_not_kill_the_server(self):
        # A reload sent as soon as the server said "Ready." (a deploy script renewing the
        # certificate) must be handled, not end the process (SIGHUP's default action).
        for _ in range(3):
            server = harness.DevServer(listen=["imaps"]).start()
            try:
                server.proc.send_signal(signal.SIGHUP)
                line = server.wait_for_log(
                    lambda l: "event=tls_reload" in l or server.proc.poll() is not None,
                    timeout=5)
                time.sleep(0.1)
                alive = server.proc.poll() is None
                self.assertTrue(alive, f"SIGHUP just after 'Ready.' ended the server "
                                       f"(exit {server.proc.returncode})")
                self.assertIn("event=tls_reloaded", line or "", "no reload event logged")
                with socket.create_connection(("127.0.0.1", server.ports["imaps"]),
                                              timeout=10) as s:
                    with server.client_tls_context().wrap_socket(
                            s, server_hostname="localhost") as t:
                        self.assertEqual(t.recv(100)[:5], b"* OK ")
            finally:
                code, _ = server.stop()
                server.close()
            self.assertEqual(code, 0)
            self.assertIsNone(harness.sanitizer_report(server.stderr()), server.stderr())


if __name__ == "__main__":
    harness.main()
