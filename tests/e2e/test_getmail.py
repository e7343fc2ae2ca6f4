"""getmail6 against Postino over TLS, POP3 (RFC 1939, 8314) and IMAP (RFC 3501): "leave on
server" keeps the messages and never downloads one twice (POP3 UIDL, IMAP UIDs), then
delete mode removes them. getmail refuses to run as root, so it runs as nobody (DESIGN:
tests run as root in CI)."""

import os
import re
import smtplib
import subprocess

import harness

NOBODY = 65534


class GetmailTest(harness.ServerTestCase):
    listen = ["smtp", "pop3s"]
    retriever = "SimplePOP3SSLRetriever"
    port = "pop3s"
    extra = ""

    def getmail(self, delete):
        d = os.path.join(self.server.dir, "getmail")
        os.makedirs(os.path.join(d, "maildir", "new"), exist_ok=True)
        for sub in ("cur", "tmp"):
            os.makedirs(os.path.join(d, "maildir", sub), exist_ok=True)
        user, password = re.search(r"demo account (\S+)\s+password (\S+)", self.server.banner).groups()
        with open(os.path.join(d, "getmailrc"), "w") as f:
            f.write(f"[retriever]\ntype = {self.retriever}\nserver = localhost\n"
                    f"port = {self.server.ports[self.port]}\nusername = {user}\npassword = {password}\n"
                    f"{self.extra}"
                    f"ca_certs = {self.server.cert_file}\n"
                    f"[destination]\ntype = Maildir\npath = {d}/maildir/\n"
                    f"[options]\ndelete = {'true' if delete else 'false'}\nread_all = false\n")
        # The certificate and the server's files must be readable by nobody.
        os.chmod(self.server.dir, 0o755)
        os.chmod(self.server.data, 0o755)
        os.chmod(os.path.dirname(self.server.cert_file), 0o755)
        subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", d], check=True)
        out = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                              "getmail", f"--getmaildir={d}", f"--rcfile={d}/getmailrc"],
                             capture_output=True, text=True, timeout=60, env={"HOME": d, "PATH": os.environ["PATH"]})
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return len(os.listdir(os.path.join(d, "maildir", "new")))

    def messages_on_server(self):
        users = subprocess.run([harness.BINARY, "--data", self.server.data, "user", "list", "--json"],
                               capture_output=True, text=True, timeout=60, check=True).stdout
        import json
        return [u for u in json.loads(users) if u["address"] == "demo@example.test"][0]["used_messages"]

    def test_leave_on_server_then_delete(self):
        user = re.search(r"demo account (\S+)", self.server.banner).group(1)
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            for i in range(2):
                s.sendmail("a@remote.test", [user], f"Subject: getmail {i}\r\n\r\nbody {i}\r\n".encode())
        self.assertEqual(self.getmail(delete=False), 2)
        self.assertEqual(self.messages_on_server(), 2)
        self.assertEqual(self.getmail(delete=False), 2)  # nothing downloaded twice
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.sendmail("a@remote.test", [user], b"Subject: getmail 2\r\n\r\nbody 2\r\n")
        self.assertEqual(self.getmail(delete=True), 3)  # only the new one arrives
        self.assertEqual(self.messages_on_server(), 0)


class GetmailImapTest(GetmailTest):
    listen = ["smtp", "imaps"]
    retriever = "SimpleIMAPSSLRetriever"
    port = "imaps"
    extra = "mailboxes = (\"INBOX\",)\n"


if __name__ == "__main__":
    harness.main()
