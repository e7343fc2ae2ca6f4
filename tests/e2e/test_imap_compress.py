"""IMAP COMPRESS=DEFLATE (RFC 4978) on a running server: a client that compresses
(Python's zlib, raw DEFLATE) logs in over TLS, turns compression on and works through it
(APPEND and FETCH of a large message, SEARCH, another session's change seen at NOOP);
a decompression bomb (a 64 MB line that compresses to about 64 KB) meets the same line
limit as an uncompressed one and the server's memory stays flat; bytes that are not
DEFLATE end only that connection."""

import socket
import zlib

import harness




class Client:
    """An IMAP client over TLS that can switch to COMPRESS=DEFLATE."""

    def __init__(self, server):
        sock = socket.create_connection(("127.0.0.1", server.ports["imaps"]), timeout=20)
        self.sock = server.client_tls_context().wrap_socket(sock, server_hostname="localhost")
        self.out = self.inflate = None
        self.raw = b""
        self.text = b""
        self.tag = 0
        self.line()  # greeting

    def compress(self):
        self.out = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.inflate = zlib.decompressobj(-15)
        # Anything read after the OK is compressed.
        self.text, self.raw = b"", self.text

    def send(self, data):
        if self.out:
            data = self.out.compress(data) + self.out.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        if self.inflate:
            self.text += self.inflate.decompress(self.raw + chunk)
            self.raw = b""
        else:
            self.text += chunk

    def line(self):
        if self.inflate and self.raw:
            self.text += self.inflate.decompress(self.raw)
            self.raw = b""
        while b"\r\n" not in self.text:
            self._fill()
        line, self.text = self.text.split(b"\r\n", 1)
        return line

    def exactly(self, n):
        while len(self.text) < n:
            self._fill()
        data, self.text = self.text[:n], self.text[n:]
        return data

    def command(self, text, literal=None):
        """(untagged lines, tagged line); a literal is sent after the continuation."""
        self.tag += 1
        tag = b"c%d" % self.tag
        if literal is None:
            self.send(tag + b" " + text + b"\r\n")
        else:
            self.send(tag + b" " + text + b" {%d}\r\n" % len(literal))
            assert self.line().startswith(b"+"), "no continuation"
            self.send(literal + b"\r\n")
        untagged = []
        while True:
            line = self.line()
            if line.startswith(tag + b" "):
                return untagged, line
            if line.endswith(b"}"):  # a literal follows: keep it with its line
                size = int(line[line.rindex(b"{") + 1:-1])
                line += b"\r\n" + self.exactly(size) + self.line()
            untagged.append(line)


class CompressTest(harness.ServerTestCase):
    listen = ["imaps", "smtp"]

    def login(self):
        c = Client(self.server)
        self.addCleanup(c.sock.close)
        user, password = self.server.demo_credentials()
        _, ok = c.command(f'LOGIN "{user}" "{password}"'.encode())
        self.assertTrue(ok.endswith(b"Logged in"), ok)
        self.assertIn(b"COMPRESS=DEFLATE", ok)
        return c

    def test_a_compressed_session_works_through_every_command(self):
        c = self.login()
        _, ok = c.command(b"COMPRESS DEFLATE")
        self.assertEqual(ok, b"c2 OK DEFLATE active")
        c.compress()
        c.command(b"CREATE Zip")
        big = b"Subject: big\r\n\r\n" + b"".join(
            b"line %06d of a long message, compressible\r\n" % i for i in range(5000))
        _, ok = c.command(b"APPEND Zip", big)
        self.assertIn(b"OK [APPENDUID", ok)
        untagged, ok = c.command(b"SELECT Zip")
        self.assertIn(b"* 1 EXISTS", untagged)
        untagged, ok = c.command(b"FETCH 1 BODY.PEEK[]")
        self.assertTrue(ok.endswith(b"OK FETCH completed"), ok)
        self.assertEqual(untagged[0].split(b"\r\n", 1)[1][:len(big)], big)
        untagged, _ = c.command(b"SEARCH BODY \"line 004999\"")
        self.assertEqual(untagged, [b"* SEARCH 1"])
        _, ok = c.command(b"COMPRESS DEFLATE")
        self.assertIn(b"NO [COMPRESSIONACTIVE]", ok)
        # Another session's change reaches this one through the compressed stream.
        other = self.login()
        other.command(b"APPEND Zip", b"Subject: two\r\n\r\nx\r\n")
        untagged, _ = c.command(b"NOOP")
        self.assertEqual(untagged, [b"* 2 EXISTS"])
        _, ok = c.command(b"LOGOUT")
        self.assertIn(b"OK", ok)
        logs = "\n".join(self.server.log_lines())
        self.assertIn("event=compress", logs)

    def test_a_decompression_bomb_meets_the_line_limit_and_memory_stays_flat(self):
        c = self.login()
        c.command(b"COMPRESS DEFLATE")
        c.compress()
        before = harness.rss_kib(self.server.proc.pid)
        # 64 MB of one byte, then CRLF: one line far over imap.max_line_bytes.
        block = b"a" * (1 << 20)
        c.send(b"c9 NOOP ")
        for _ in range(64):
            c.send(block)
        c.send(b"\r\n")
        # The tag went with the discarded line: an untagged BAD, as without compression.
        self.assertEqual(c.line(), b"* BAD Command line too long")
        after = harness.rss_kib(self.server.proc.pid)
        self.assertLess(after - before, 32 * 1024, (before, after))
        _, ok = c.command(b"NOOP")
        self.assertTrue(ok.endswith(b"OK NOOP completed"), ok)

    def test_bytes_that_are_not_deflate_end_only_that_connection(self):
        c = self.login()
        c.command(b"COMPRESS DEFLATE")
        c.sock.sendall(b"c3 NOOP\r\n")  # not compressed
        c.sock.settimeout(10)
        data = b""
        try:
            while True:
                chunk = c.sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionError, OSError):
            pass
        self.assertNotIn(b"c3 OK", zlib.decompressobj(-15).decompress(data) if data else b"")
        fresh = self.login()
        _, ok = fresh.command(b"NOOP")
        self.assertTrue(ok.endswith(b"OK NOOP completed"), ok)


if __name__ == "__main__":
    harness.main()
