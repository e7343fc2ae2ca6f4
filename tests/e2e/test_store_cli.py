"""The store administration commands end to end: domain, user, alias, quota, fsck and
import-passwd against a data directory, their JSON output, their errors, and their use
while `serve --dev` runs on the same store (which creates the demo account)."""

import crypt  # Debian's Python 3.11 still ships it; it calls libxcrypt like postino does
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import warnings

import harness

warnings.filterwarnings("ignore", category=DeprecationWarning)


class StoreCliTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postino-cli-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_cli(self, *args, stdin=None, expect=0):
        out = subprocess.run([harness.BINARY, "--data", self.dir, *args], input=stdin,
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, expect, (args, out.stdout, out.stderr))
        return out

    def test_domains_users_aliases_and_quotas(self):
        self.run_cli("domain", "add", "Example.ORG")
        self.assertEqual(json.loads(self.run_cli("domain", "list", "--json").stdout), ["example.org"])
        self.run_cli("domain", "add", "example.org", expect=1)
        self.run_cli("domain", "add", "bad domain!", expect=1)

        self.run_cli("user", "add", "Alice@example.org", "--password-stdin", stdin="s3cret\n")
        self.run_cli("user", "add", "alice@example.org", "--password-stdin", stdin="x\n", expect=1)
        self.run_cli("user", "add", "bob@nowhere.test", "--password-stdin", stdin="x\n", expect=1)
        # Never prompts when stdin is not a terminal.
        out = self.run_cli("user", "add", "carol@example.org", stdin="", expect=2)
        self.assertIn("--password-stdin", out.stderr)
        self.run_cli("user", "add", "carol@example.org", "--password-stdin", stdin="\n", expect=2)

        users = json.loads(self.run_cli("user", "list", "--json").stdout)
        self.assertEqual([u["address"] for u in users], ["alice@example.org"])

        self.run_cli("alias", "add", "sales@example.org", "alice@example.org", "x@remote.test")
        self.run_cli("alias", "add", "@example.org", "alice@example.org")
        self.run_cli("alias", "add", "alice@example.org", "x@remote.test", expect=1)
        aliases = json.loads(self.run_cli("alias", "list", "--json").stdout)
        self.assertEqual(aliases, [{"alias": "@example.org", "targets": ["alice@example.org"]},
                                   {"alias": "sales@example.org",
                                    "targets": ["alice@example.org", "x@remote.test"]}])
        self.run_cli("alias", "del", "@example.org")
        self.run_cli("alias", "del", "@example.org", expect=1)

        self.run_cli("quota", "set", "alice@example.org", "--bytes", "2M", "--messages", "100")
        q = json.loads(self.run_cli("quota", "get", "alice@example.org", "--json").stdout)
        self.assertEqual((q["quota_bytes"], q["quota_messages"], q["used_messages"]),
                         (2 * 1024 * 1024, 100, 0))
        self.run_cli("quota", "set", "alice@example.org", "--bytes", "lots", expect=2)

        self.run_cli("domain", "del", "example.org", expect=1)  # still has users
        self.assertIn("ok", self.run_cli("fsck").stdout)
        self.run_cli("user", "del", "alice@example.org")
        self.run_cli("alias", "del", "sales@example.org")
        self.run_cli("domain", "del", "example.org")
        self.assertEqual(json.loads(self.run_cli("domain", "list", "--json").stdout), [])

    def test_passwords_are_yescrypt_and_can_be_changed(self):
        self.run_cli("domain", "add", "example.org")
        self.run_cli("user", "add", "alice@example.org", "--password-stdin", stdin="first\n")
        import sqlite3
        db = sqlite3.connect(os.path.join(self.dir, "store.db"))
        (hash1, scram1), = db.execute("SELECT password_hash, scram FROM accounts").fetchall()
        self.assertTrue(hash1.startswith("$y$"))
        self.assertEqual(crypt.crypt("first", hash1), hash1)
        self.assertTrue(scram1.startswith("SCRAM-SHA-256$4096:"))
        self.run_cli("user", "passwd", "alice@example.org", "--password-stdin", stdin="second\n")
        (hash2,), = db.execute("SELECT password_hash FROM accounts").fetchall()
        self.assertEqual(crypt.crypt("second", hash2), hash2)
        self.assertNotEqual(crypt.crypt("first", hash2), hash2)
        self.run_cli("user", "passwd", "nobody@example.org", "--password-stdin", stdin="x\n",
                     expect=1)

    def test_import_dovecot_passwd_file(self):
        self.run_cli("domain", "add", "example.org")
        sha512 = crypt.crypt("pw1", crypt.mksalt(crypt.METHOD_SHA512))
        path = os.path.join(self.dir, "users")
        with open(path, "w") as f:
            f.write(f"carol:{{SHA512-CRYPT}}{sha512}:1000:1000::/home/carol::\n"
                    "# a comment\n"
                    "dave@example.org:{PLAIN}pw2::\n"
                    "no colon here\n")
        out = self.run_cli("user", "import-passwd", path, "--domain", "example.org", expect=1)
        self.assertIn("imported 1 users, skipped 2", out.stdout)
        self.assertIn("unsupported password scheme", out.stderr)
        users = json.loads(self.run_cli("user", "list", "--json").stdout)
        self.assertEqual([u["address"] for u in users], ["carol@example.org"])

    def test_commands_work_while_the_server_runs_and_dev_creates_the_demo_account(self):
        data = os.path.join(self.dir, "data")
        with harness.DevServer(listen=["smtp"], data=data) as server:
            out = self.run_cli_on(data, "user", "list", "--json")
            self.assertEqual([u["address"] for u in json.loads(out)], ["demo@example.test"])
            with open(os.path.join(data, "demo-password")) as f:
                password = f.read().strip()
            self.assertIn(password, server.banner)
            import sqlite3
            db = sqlite3.connect(os.path.join(data, "store.db"))
            (stored,), = db.execute(
                "SELECT password_hash FROM accounts WHERE address = 'demo@example.test'")
            self.assertEqual(crypt.crypt(password, stored), stored)
            db.close()
            self.run_cli_on(data, "user", "add", "second@example.test", "--password-stdin",
                            stdin="pw\n")
            code, _ = server.stop()
            self.assertEqual(code, 0)
        # A restart on the same data keeps both accounts and the same demo password.
        with harness.DevServer(listen=["smtp"], data=data) as again:
            self.assertIn(password, again.banner)
            users = json.loads(self.run_cli_on(data, "user", "list", "--json"))
            self.assertEqual(sorted(u["address"] for u in users),
                             ["demo@example.test", "second@example.test"])

    def run_cli_on(self, data, *args, stdin=None):
        out = subprocess.run([harness.BINARY, "--data", data, *args], input=stdin,
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, (args, out.stderr))
        return out.stdout

    def test_fsck_reports_a_missing_blob(self):
        self.run_cli("domain", "add", "example.org")
        self.run_cli("user", "add", "a@example.org", "--password-stdin", stdin="pw\n")
        # Put a message in through SQLite-level knowledge is not possible from here; a blob
        # row without its file is the damage fsck must name.
        import sqlite3
        db = sqlite3.connect(os.path.join(self.dir, "store.db"))
        db.execute("INSERT INTO blobs (id, size, refs, structure, h_date, h_subject, h_from, "
                   "h_sender, h_reply_to, h_to, h_cc, h_bcc, h_in_reply_to, h_message_id, "
                   "h_references) VALUES (?, 5, 1, x'01', '', '', '', '', '', '', '', '', '', "
                   "'', '')", ("ab" * 32,))
        db.execute("INSERT INTO messages (mailbox_id, uid, modseq, flags, internal_date, size, "
                   "blob_id) SELECT id, 1, 1, 0, 0, 5, ? FROM mailboxes WHERE name = 'INBOX'",
                   ("ab" * 32,))
        db.execute("UPDATE mailboxes SET uid_next = 2, highest_modseq = 2 WHERE name = 'INBOX'")
        db.commit()
        db.close()
        out = self.run_cli("fsck", expect=1)
        self.assertIn("missing", out.stdout)
        out = self.run_cli("fsck", "--repair")
        self.assertIn("repaired: removed message UID 1 in INBOX", out.stdout)
        self.assertIn("ok", self.run_cli("fsck").stdout)


if __name__ == "__main__":
    harness.main()
