"""Password checks run on a pool of their own (server.login_threads), apart from the store
work of logged-in sessions (server.worker_threads): while a burst of logins keeps every
login thread busy hashing, a session that is already logged in is answered at once. With
one thread each, twenty logins queue for about twenty hashes; the logged-in session's
SELECT and FETCH, which need a worker, must not wait behind them (before the pools were
apart, they did: the slowest of them took about as long as the whole burst)."""

import threading
import time

import harness

CONFIG = """
[server]
worker_threads = 1
login_threads = 1
[auth]
failure_delay_ms = 0
max_failures_per_minute = 0
[imap]
allow_plaintext_loopback = true
max_auth_failures = 100
"""


class LoginPoolTest(harness.ServerTestCase):
    config = CONFIG
    listen = ["imap"]

    def client(self):
        c = self.server.connect("imap")
        c.line()
        return c

    def test_store_work_is_not_queued_behind_password_hashing(self):
        user, password = self.server.demo_credentials()
        logged_in = self.client()
        logged_in.send(f"a LOGIN {user} {password}\r\n")
        self.assertTrue(logged_in.line().startswith("a OK"))

        def login(c, n):
            c.send(f"b{n} LOGIN {user} wrong{n}\r\n")  # a distinct password: a full hash
            c.line()

        # How long one hash takes here (the dev account's hash, under this build).
        c = self.client()
        began = time.monotonic()
        login(c, 0)
        one_hash = time.monotonic() - began
        c.close()

        clients = [self.client() for _ in range(20)]
        threads = [threading.Thread(target=login, args=(c, n)) for n, c in enumerate(clients)]
        began = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(min(0.2, one_hash * 2))  # the burst is queued on the login thread
        slowest = 0.0
        for n in range(5):
            t0 = time.monotonic()
            logged_in.send(f"s{n} SELECT INBOX\r\n")
            logged_in.until(lambda line, n=n: line.startswith(f"s{n} "))
            slowest = max(slowest, time.monotonic() - t0)
        for t in threads:
            t.join(120)
        burst = time.monotonic() - began
        for c in clients:
            c.close()
        logged_in.close()
        print(f"\none hash {one_hash * 1000:.0f} ms, 20 logins {burst * 1000:.0f} ms, "
              f"slowest SELECT meanwhile {slowest * 1000:.0f} ms", flush=True)
        self.assertGreater(burst, 5 * one_hash)  # the logins did queue
        self.assertLess(slowest, burst / 4)


if __name__ == "__main__":
    harness.main()
