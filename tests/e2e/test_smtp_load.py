"""Many SMTP sessions at once with Postfix's smtp-source: every message that got its 250
is in the INBOX, and the store is consistent afterwards (fsck)."""

import json
import subprocess

import harness


class SmtpLoadTest(harness.ServerTestCase):
    listen = ["smtp"]

    def test_smtp_source_500_messages_over_20_sessions(self):
        out = subprocess.run(["/usr/sbin/smtp-source", "-c", "-m", "500", "-s", "20", "-l", "4000",
                              "-f", "load@remote.test", "-t", "demo@example.test",
                              f"127.0.0.1:{self.server.ports['smtp']}"],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout[-500:] + out.stderr)
        users = subprocess.run([harness.BINARY, "--data", self.server.data, "user", "list", "--json"],
                               capture_output=True, text=True, timeout=60, check=True)
        demo = [u for u in json.loads(users.stdout) if u["address"] == "demo@example.test"][0]
        self.assertEqual(demo["used_messages"], 500)
        fsck = subprocess.run([harness.BINARY, "--data", self.server.data, "fsck"],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(fsck.returncode, 0, fsck.stdout + fsck.stderr)
        self.assertIn("ok", fsck.stdout)


if __name__ == "__main__":
    harness.main()
