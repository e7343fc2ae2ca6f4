"""The command line: --version, help texts that end with examples, `config test` (every
error with line and column; a valid file passes; a missing file fails), `config example`
loads back, docs/CONFIG.md is `config docs`, `serve` refuses bad invocations and a busy
port with a clear message, and the development banner shows listeners, the demo account,
the certificate and its fingerprint, with a password kept across restarts."""

import hashlib
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import unittest

import harness

TIMEOUT = 60  # the sanitizer build starts slowly under load


def run(*args, timeout=TIMEOUT):
    return subprocess.run([harness.BINARY, *args], capture_output=True, text=True,
                          errors="replace", timeout=timeout)


def fingerprint(der):
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def make_certificate(directory):
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost", "-days", "2",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=30)
    return cert, key


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="postino-cli-")
        cls.cert, cls.key = make_certificate(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def assertNoSanitizerReport(self, result):
        self.assertIsNone(harness.sanitizer_report(result.stderr), result.stderr[-3000:])

    # -- version and help -------------------------------------------------------------
    def test_version(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, "postino 0.1.0\n")

    def assert_ends_with_examples(self, text, what):
        lines = text.rstrip("\n").split("\n")
        heads = [i for i, line in enumerate(lines) if re.fullmatch(r"Examples?:", line)]
        self.assertTrue(heads, f"{what}: no Example section:\n{text}")
        example = lines[heads[-1] + 1:]
        self.assertTrue(example, f"{what}: empty Example section")
        for line in example:
            self.assertRegex(line, r"^  (\S.* )?postino ", f"{what}: not an example line")

    def test_every_help_text_ends_with_examples(self):
        for args in (["help"], ["--help"], ["-h"], [],
                     ["help", "serve"], ["serve", "--help"],
                     ["help", "config"], ["config", "--help"],
                     ["help", "config", "test"], ["config", "test", "--help"],
                     ["help", "config", "example"], ["config", "example", "--help"],
                     ["help", "config", "docs"], ["config", "docs", "--help"],
                     ["help", "help"], ["help", "--help"]):
            with self.subTest(args=args):
                r = run(*args)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assert_ends_with_examples(r.stdout, " ".join(args))

    def test_help_for_a_subcommand_names_the_full_command(self):
        for path in (["serve"], ["config"], ["config", "test"], ["config", "docs"]):
            with self.subTest(path=path):
                usage = "Usage: postino " + " ".join(path)
                self.assertIn(usage, run(*path, "--help").stdout)
                # `postino help X` prints the page of `postino X --help`.
                self.assertIn(usage, run("help", *path).stdout)

    def test_help_for_an_unknown_subcommand_fails(self):
        r = run("help", "nosuch")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nosuch", r.stderr)
        r = run("nosuch")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nosuch", r.stderr)

    # -- config test ------------------------------------------------------------------
    def test_config_test_reports_every_error_with_line_and_column(self):
        path = self.write("bad.toml", "\n".join([
            "[server]",                              # 1
            'io_threads = "four"',                   # 2
            "bogus = 1",                             # 3
            "",                                      # 4
            "[smtp]",                                # 5
            "max_line_bytes = 10",                   # 6
            "idle_timeout_seconds = 1.5",            # 7
            "",                                      # 8
            "[nosuch]",                              # 9
            "x = 1",                                 # 10
            "",                                      # 11
            "[limits]",                              # 12
            'trusted_networks = ["10.0.0.0/33"]',    # 13
            "[listen]",                              # 14
            'smtp = "localhost"',                    # 15
            "[log]",                                 # 16
            'level = "loud"',                        # 17
            ""]))
        r = run("config", "test", "--config", path)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        errors = [line for line in r.stderr.splitlines() if line.startswith(path + ":")]
        positions = [tuple(map(int, re.match(re.escape(path) + r":(\d+):(\d+): ", e).groups()))
                     for e in errors if re.match(re.escape(path) + r":\d+:\d+: ", e)]
        # A wrong value is pointed at; an unknown key at its line (the column of the key
        # or of its value).
        self.assertEqual(len(positions), 8, r.stderr)
        self.assertEqual(positions[0], (2, 14))
        self.assertIn(positions[1], [(3, 1), (3, 9)])
        self.assertEqual(positions[2:4], [(6, 18), (7, 24)])
        self.assertIn(positions[4], [(9, 1), (9, 2), (10, 1)])  # the section name
        self.assertEqual(positions[5:], [(13, 20), (15, 8), (17, 9)])
        self.assertIn("server.io_threads: expected an integer", errors[0])
        self.assertIn("unknown key 'server.bogus'", errors[1])
        self.assertIn("smtp.max_line_bytes: must be between 512 and", errors[2])
        self.assertIn("smtp.idle_timeout_seconds", errors[3])
        self.assertIn("unknown section 'nosuch'", errors[4])
        self.assertIn("10.0.0.0/33", errors[5])
        self.assertIn("listen.smtp", errors[6])
        self.assertIn("log.level", errors[7])
        self.assertNoSanitizerReport(r)

    def test_config_test_reports_a_toml_syntax_error_with_its_position(self):
        path = self.write("syntax.toml", "[server]\nhostname = \"mx\"\n[smtp\nmax_errors = 3\n")
        r = run("config", "test", "--config", path)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, "^" + re.escape(path) + r":3:\d+: ")

    def test_config_test_passes_a_valid_file(self):
        path = self.write("good.toml", f'[server]\nhostname = "mx.example.org"\n'
                                       f'data_dir = "{self.dir}/data"\n'
                                       f'[tls]\ncert_file = "{self.cert}"\nkey_file = "{self.key}"\n'
                                       f'[limits]\nmax_connections_per_ip = 5\n')
        r = run("config", "test", "--config", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, f"{path}: ok\n")
        self.assertEqual(r.stderr, "")

    def test_config_test_needs_existing_certificate_files(self):
        path = self.write("nocert.toml", f'[tls]\ncert_file = "{self.dir}/missing.pem"\n'
                                         f'key_file = "{self.key}"\n')
        r = run("config", "test", "--config", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing.pem", r.stderr)
        path = self.write("empty.toml", "")
        r = run("config", "test", "--config", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("tls.cert_file", r.stderr)

    def test_config_test_of_a_missing_file_fails(self):
        path = os.path.join(self.dir, "does-not-exist.toml")
        r = run("config", "test", "--config", path)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(path, r.stderr)
        self.assertNotIn(": ok", r.stdout)

    def test_config_example_loads_back(self):
        r = run("config", "example")
        self.assertEqual(r.returncode, 0)
        example = r.stdout
        self.assertIn('cert_file = ""', example)
        self.assertIn('key_file = ""', example)
        # As printed, only the certificate is missing.
        path = self.write("example.toml", example)
        r = run("config", "test", "--config", path)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len([l for l in r.stderr.splitlines() if l.startswith(path + ":")
                              and not l.startswith(path + ": ")]), 1, r.stderr)
        self.assertIn("tls.cert_file", r.stderr)
        # With real files it is a valid configuration.
        filled = example.replace('cert_file = ""', f'cert_file = "{self.cert}"', 1)
        filled = filled.replace('key_file = ""', f'key_file = "{self.key}"', 1)
        path = self.write("example-filled.toml", filled)
        r = run("config", "test", "--config", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, f"{path}: ok\n")

    def test_config_md_is_the_output_of_config_docs(self):
        r = run("config", "docs")
        self.assertEqual(r.returncode, 0)
        path = os.path.join(harness.SOURCE_DIR, "docs", "CONFIG.md")
        with open(path) as f:
            committed = f.read()
        self.assertTrue(committed == r.stdout,
                        "docs/CONFIG.md is stale: regenerate it with "
                        "`postino config docs > docs/CONFIG.md`")
        # Every key of the example is documented.
        for section, key in re.findall(r"^\[(\w+)\]$|^(\w+) = ", run("config", "example").stdout,
                                       re.M):
            if key:
                self.assertIn(key, r.stdout)

    # -- serve refusals ---------------------------------------------------------------
    def serve_all_off(self, *args):
        off = [f"--listen={p}=off" for p in harness.LISTENERS]
        return run("serve", "--dev", "--data", os.path.join(self.dir, "data"), *off, *args)

    def test_serve_without_config_or_dev_fails(self):
        r = run("serve")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--config", r.stderr)
        self.assertIn("--dev", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_serve_with_a_bad_config_fails_with_positions(self):
        path = self.write("serve-bad.toml", "[smtp]\nmax_errors = 0\n[imap]\nnope = 1\n")
        r = run("serve", "--dev", "--data", os.path.join(self.dir, "data"), "--config", path)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{path}:2:14: smtp.max_errors", r.stderr)
        self.assertRegex(r.stderr, re.escape(path) + r":4:(1|8): unknown key 'imap.nope'")
        self.assertNotIn("Ready.", r.stdout)

    def test_serve_with_a_bad_listen_fails(self):
        for spec in ("smtp=nonsense", "bogus=127.0.0.1:2525", "smtp", "imap=127.0.0.1:99999",
                     "pop3=[::1:110"):
            with self.subTest(spec=spec):
                r = self.serve_all_off("--listen", spec)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn(spec, r.stderr)
                self.assertNotIn("Ready.", r.stdout)

    def test_serve_on_a_port_in_use_fails_clearly(self):
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        try:
            r = self.serve_all_off("--listen", f"imap=127.0.0.1:{port}")
        finally:
            busy.close()
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(f"127.0.0.1:{port}", r.stderr)
        self.assertIn("imap", r.stderr)
        self.assertRegex(r.stderr, r"(?i)address already in use")
        self.assertNotIn("Ready.", r.stdout)
        self.assertNoSanitizerReport(r)


class DevBannerTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postino-banner-")
        self.data = os.path.join(self.dir, "data")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_and_stop(self):
        server = harness.DevServer(data=self.data).start()
        try:
            ctx = ssl.create_default_context(cafile=server.cert_file)
            with socket.create_connection(("127.0.0.1", server.ports["imaps"]), timeout=10) as s:
                with ctx.wrap_socket(s, server_hostname="localhost") as t:
                    served = t.getpeercert(binary_form=True)
        finally:
            code, _ = server.stop()
            server.close()
        self.assertEqual(code, 0, server.stderr()[-3000:])
        self.assertIsNone(harness.sanitizer_report(server.stderr()), server.stderr()[-3000:])
        return server, served

    def test_banner_and_restart(self):
        first, served = self.start_and_stop()
        banner = first.banner
        # Every listener, on 127.0.0.1, with its kind of TLS.
        listeners = re.findall(r"^ {4}(\w+)\s+(\S+):(\d+)\s+(STARTTLS|implicit TLS|no TLS)$",
                               banner, re.M)
        self.assertEqual(sorted(l[0] for l in listeners), sorted(harness.LISTENERS), banner)
        for name, address, port, kind in listeners:
            self.assertEqual(address, "127.0.0.1", name)
            self.assertNotEqual(int(port), 0, name)
            self.assertEqual(kind == "implicit TLS", name in harness.IMPLICIT_TLS, name)
            self.assertEqual(kind == "no TLS", name == "http", name)
        self.assertEqual(len({l[2] for l in listeners}), 9, "two listeners on one port")
        # The demo account and its password.
        m = re.search(r"^  demo account (\S+@\S+)\s+password (\S+)$", banner, re.M)
        self.assertTrue(m, banner)
        self.assertEqual(m.group(1), "demo@example.test")
        password = m.group(2)
        self.assertGreaterEqual(len(password), 12)
        # The certificate's path and fingerprint, matching the file and what is served.
        cert_file = os.path.realpath(os.path.join(self.data, "tls", "cert.pem"))
        m = re.search(r"^  certificate  (\S+)\s+\(self-signed, created now\)$", banner, re.M)
        self.assertTrue(m, banner)
        self.assertEqual(os.path.realpath(m.group(1)), cert_file)
        with open(cert_file) as f:
            der = ssl.PEM_cert_to_DER_cert(f.read())
        m = re.search(r"^  SHA-256      ([0-9A-F:]{95})$", banner, re.M)
        self.assertTrue(m, banner)
        self.assertEqual(m.group(1), fingerprint(der))
        self.assertEqual(fingerprint(served), fingerprint(der))

        # A restart with the same data directory keeps the password and the certificate.
        second, served_again = self.start_and_stop()
        m = re.search(r"^  demo account \S+\s+password (\S+)$", second.banner, re.M)
        self.assertEqual(m.group(1), password)
        self.assertRegex(second.banner, r"(?m)^  certificate  \S+\s+\(self-signed\)$")
        self.assertIn(fingerprint(der), second.banner)
        self.assertEqual(served_again, served)

        # A new data directory gets a new password.
        self.data = os.path.join(self.dir, "other")
        third, _ = self.start_and_stop()
        m = re.search(r"^  demo account \S+\s+password (\S+)$", third.banner, re.M)
        self.assertNotEqual(m.group(1), password)


if __name__ == "__main__":
    harness.main()
