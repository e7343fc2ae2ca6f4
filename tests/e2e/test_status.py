"""`postino status` against a running server and after it stopped: every listener
answering, the self-signed certificate a warning, store, disk and queue ok, DNS lookups
that fail reported as failing (exit 1), and the listeners failing once the server is gone."""

import os
import subprocess

import harness
from outbound_support import OutboundCase, free_port


class StatusTest(OutboundCase):
    def write_config(self, server):
        path = os.path.join(server.dir, "status.toml")
        listen = "\n".join(f'{p} = ["127.0.0.1:{port}"]' for p, port in server.ports.items())
        with open(path, "w") as f:
            f.write(f'[server]\ndata_dir = "{server.data}"\n\n[tls]\n'
                    f'cert_file = "{server.cert_file}"\nkey_file = "{server.key_file}"\n\n'
                    f'[listen]\n{listen}\n' +
                    "".join(f'{p} = []\n' for p in harness.LISTENERS if p not in server.ports))
        return path

    def status(self, config, *args):
        return subprocess.run([harness.BINARY, "--config", config, "status", *args],
                              capture_output=True, text=True, timeout=120)

    def test_status_of_a_running_and_a_stopped_server(self):
        server = self.start()
        config = self.write_config(server)
        out = self.status(config, "--skip-dns")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        for protocol, port in server.ports.items():
            self.assertIn(f"ok       listener    {protocol} 127.0.0.1:{port} answers", out.stdout)
        self.assertRegex(out.stdout, r"warning  certificate self-signed, expires in 36\d days\n"
                                     r" +fix: clients warn about it")
        self.assertRegex(out.stdout, r"ok       store       .*: 1 domain\(s\), 1 account\(s\)")
        self.assertRegex(out.stdout, r"ok       disk        \d+ MiB free")
        self.assertRegex(out.stdout, r"ok       queue       0 message\(s\), 0 deferred, 0 held")
        self.assertTrue(out.stdout.endswith("1 warning(s)\n"), out.stdout)

        dead = free_port()  # nothing answers DNS there
        out = self.status(config, "--dns", f"127.0.0.1:{dead}")
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertRegex(out.stdout, r"failing  dns         example\.test: \d+ lookup\(s\) failed")

        # A certificate about to expire is a warning with the renewal to do.
        soon = os.path.join(server.dir, "soon")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "5", "-subj", "/CN=x",
                        "-keyout", soon + ".key", "-out", soon + ".pem"],
                       check=True, capture_output=True)
        with open(config) as f:
            text = f.read().replace(server.cert_file, soon + ".pem")
        with open(config, "w") as f:
            f.write(text)
        out = self.status(config, "--skip-dns")
        self.assertRegex(out.stdout, r"warning  certificate expires in [45] days\n +fix: renew it")

        server.stop()
        out = self.status(config, "--skip-dns")
        self.assertEqual(out.returncode, 1)
        self.assertRegex(out.stdout, r"failing  listener    imaps 127\.0\.0\.1:\d+ does not answer\n"
                                     r" +fix: is the server running\?")
        self.assertIn(f"{len(server.ports)} failing, 1 warning(s)", out.stdout)


if __name__ == "__main__":
    harness.main()
