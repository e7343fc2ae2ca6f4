"""Logs on stderr (not a terminal, so logfmt): every line is `time=… level=… key=value…`;
one connection's connect, tls and disconnect events carry the same session=S… id, and two
connections have different ids; hostile client input never starts a new log line."""

import re
import socket
import time

import harness

TIME_LEVEL = re.compile(r"^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(debug|info|warn|warning|error) ")
SESSION_ID = re.compile(r"^S[0-9A-HJKMNP-TV-Z]{9}$")  # Crockford base32


def parse_logfmt(line):
    """key=value pairs of one logfmt line as a list; raises ValueError if malformed.
    Values are bare (no space, quote, equals sign or control character) or quoted with
    backslash escapes."""
    pairs = []
    i = 0
    n = len(line)
    while i < n:
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*").match(line, i)
        if not m or m.end() >= n or line[m.end()] != "=":
            raise ValueError(f"no key=value at column {i}: {line!r}")
        key = m.group(0)
        i = m.end() + 1
        if i < n and line[i] == '"':
            i += 1
            value = ""
            while True:
                if i >= n:
                    raise ValueError(f"unterminated quoted value: {line!r}")
                ch = line[i]
                if ch == '"':
                    i += 1
                    break
                if ch == "\\":
                    if i + 1 >= n:
                        raise ValueError(f"dangling backslash: {line!r}")
                    if line[i + 1] == "x":
                        value += chr(int(line[i + 2:i + 4], 16))
                        i += 4
                        continue
                    value += line[i + 1]
                    i += 2
                    continue
                if ord(ch) < 0x20 or ord(ch) == 0x7f:
                    raise ValueError(f"raw control character in a value: {line!r}")
                value += ch
                i += 1
        else:
            m = re.compile(r'[^\s"=\\]+').match(line, i)
            if not m:
                raise ValueError(f"empty bare value for {key}: {line!r}")
            value = m.group(0)
            i = m.end()
        pairs.append((key, value))
        if i < n:
            if line[i] != " ":
                raise ValueError(f"expected a space at column {i}: {line!r}")
            i += 1
    return pairs


class LogTestCase(harness.ServerTestCase):
    def events(self):
        """Every stderr line parsed: a list of dicts (checked to be well-formed logfmt)."""
        out = []
        for line in self.server.log_lines():
            line = line.rstrip("\n")
            self.assertRegex(line, TIME_LEVEL)
            out.append(dict(parse_logfmt(line)))
        return out


class LoggingTest(LogTestCase):
    def session_events(self, session):
        return [e for e in self.events() if e.get("session") == session]

    def wait_for_event(self, event, session=None, timeout=5):
        def matches(line):
            return f"event={event}" in line and (session is None or f"session={session} " in line)
        line = self.server.wait_for_log(matches, timeout=timeout)
        self.assertIsNotNone(line, f"no event={event} for session {session}")
        return dict(parse_logfmt(line.rstrip("\n")))

    def new_session_id(self, known, protocol, timeout=5):
        """The session id of the connect event that appeared after the ids in `known`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.events():
                if e.get("event") == "connect" and e.get("proto") == protocol and \
                        e["session"] not in known:
                    return e["session"]
            time.sleep(0.02)
        self.fail(f"no connect event for {protocol}")

    def known_sessions(self):
        return {e["session"] for e in self.events() if "session" in e}

    # -- tests ------------------------------------------------------------------------
    def test_lines_are_logfmt_with_time_and_level(self):
        c = self.server.connect("pop3")
        c.line()
        c.send("QUIT\r\n")
        c.line()
        c.close()
        self.wait_for_event("disconnect")
        events = self.events()
        self.assertTrue(events)
        self.assertEqual(events[0]["level"], "info")
        names = [e["event"] for e in events]
        for expected in ("ready", "listening", "connect", "disconnect"):
            self.assertIn(expected, names)
        ready = next(e for e in events if e["event"] == "ready")
        self.assertEqual(ready["version"], "0.1.0")
        listening = {e["proto"]: e for e in events if e["event"] == "listening"}
        self.assertEqual(sorted(listening), sorted(harness.LISTENERS))
        for proto, e in listening.items():
            self.assertEqual(int(e["port"]), self.server.ports[proto])

    def test_one_connection_has_one_session_id(self):
        known = self.known_sessions()
        c = self.server.connect("imap")
        c.line()
        session = self.new_session_id(known, "imap")
        self.assertRegex(session, SESSION_ID)
        c.send("a STARTTLS\r\n")
        self.assertEqual(c.line(), "a OK Begin TLS negotiation now")
        c.starttls()
        c.send("b LOGOUT\r\n")
        self.assertEqual(c.until(lambda l: l.startswith("b ")), ["* BYE Logging out",
                                                                 "b OK LOGOUT completed"])
        c.close()
        self.wait_for_event("disconnect", session)
        events = self.session_events(session)
        self.assertEqual([e["event"] for e in events], ["connect", "tls", "disconnect"])
        connect, tls, disconnect = events
        self.assertEqual(connect["proto"], "imap")
        self.assertRegex(connect["remote"], r"^127\.0\.0\.1:\d+$")
        self.assertEqual(connect["local"], f"127.0.0.1:{self.server.ports['imap']}")
        self.assertIn(tls["version"], ("TLSv1.2", "TLSv1.3"))
        self.assertTrue(tls.get("cipher"))
        self.assertEqual(disconnect["reason"], "quit")

    def test_implicit_tls_connection_events(self):
        known = self.known_sessions()
        c = self.server.connect("pop3s")
        c.line()
        session = self.new_session_id(known, "pop3s")
        c.close()  # the client goes away without QUIT
        self.wait_for_event("disconnect", session)
        events = self.session_events(session)
        self.assertEqual([e["event"] for e in events], ["connect", "tls", "disconnect"])
        self.assertEqual(events[-1]["reason"], "client_closed")

    def test_two_connections_have_different_ids(self):
        known = self.known_sessions()
        a = self.server.connect("smtp")
        a.line()
        first = self.new_session_id(known, "smtp")
        b = self.server.connect("smtp")
        b.line()
        second = self.new_session_id(known | {first}, "smtp")
        self.assertNotEqual(first, second)
        for c in (a, b):
            c.send("QUIT\r\n")
            c.line()
            c.close()
        for s in (first, second):
            self.wait_for_event("disconnect", s)
            self.assertEqual([e["event"] for e in self.session_events(s)],
                             ["connect", "disconnect"])
        # Every id seen so far is distinct per connection: as many ids as connect events.
        connects = [e["session"] for e in self.events() if e["event"] == "connect"]
        self.assertEqual(len(connects), len(set(connects)))

    def test_failed_handshake_is_logged_under_its_session(self):
        known = self.known_sessions()
        s = socket.create_connection(("127.0.0.1", self.server.ports["imaps"]), timeout=10)
        s.sendall(b"a CAPABILITY\r\n")
        session = self.new_session_id(known, "imaps")
        s.close()
        e = self.wait_for_event("disconnect", session)
        self.assertEqual(e["reason"], "tls_handshake_failed")

    def test_hostile_ehlo_never_makes_a_log_line(self):
        known = self.known_sessions()
        c = self.server.connect("smtp")
        c.line()
        session = self.new_session_id(known, "smtp")
        hostile = [b"EHLO evil\rtime=2000-01-01T00:00:00.000Z level=error event=forged\r\n",
                   b"EHLO evil\x1b[31m\x00\r\n",
                   b"HELO a\"b=c\\d\r\n",
                   b"EHLO " + "\u00e9v\u00efl".encode() + b"\r\n",
                   b"NOOP \rlevel=error event=forged\r\n",
                   b"EHLO ok.example\nlevel=error event=forged\r\n"]
        c.send(b"".join(hostile) + b"QUIT\r\n")
        replies = c.until(lambda l: l.startswith("221 "))
        self.assertEqual(replies[-1], "221 2.0.0 Bye", replies)
        c.close()
        self.wait_for_event("disconnect", session)
        time.sleep(0.2)
        # Every line is still one well-formed logfmt event, none of them forged ...
        events = self.events()
        self.assertFalse([e for e in events if "forged" in e.get("event", "")])
        self.assertFalse([e for e in events if e.get("time", "").startswith("2000")])
        # ... and the hostile session made exactly its connect and disconnect lines.
        self.assertEqual([e["event"] for e in self.session_events(session)],
                         ["connect", "disconnect"])
        for line in self.server.log_lines():
            self.assertNotIn("\x1b", line)
            self.assertEqual(line.count("\n"), 1 if line.endswith("\n") else 0)


class BusyLoggingTest(LogTestCase):
    config = "[limits]\nmax_connections = 1\n"
    listen = ["smtp", "imaps"]

    def test_refused_connection_is_logged_under_its_session(self):
        held = self.server.connect("smtp")
        held.line()
        for protocol in ("smtp", "imaps"):
            c = self.server.connect(protocol)
            self.assertIn("Too many connections".lower(), c.line().lower())
            c.close()
        deadline = time.monotonic() + 5
        while True:
            events = self.events()
            busy = [e for e in events if e["event"] == "too_busy"]
            if len(busy) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        self.assertEqual(len(busy), 2, events)
        for e in busy:
            self.assertIn(e["level"], ("warn", "warning"))
            self.assertEqual(e["limit"], "limits.max_connections")
            # The refused connection's connect event carries the same id.
            connect = [x for x in events if x["event"] == "connect" and
                       x["session"] == e["session"]]
            self.assertEqual(len(connect), 1, e)
        held.close()


class TextFormatTest(harness.ServerTestCase):
    """log.format = "logfmt" is the default off a terminal; an explicit "text" and the
    level are honoured."""
    config = '[log]\nformat = "text"\nlevel = "warn"\n[limits]\nmax_connections = 1\n'
    listen = ["smtp"]

    def test_text_format_and_level(self):
        held = self.server.connect("smtp")
        held.line()
        c = self.server.connect("smtp")
        self.assertTrue(c.line().startswith("421 "))
        c.close()
        held.close()
        line = self.server.wait_for_log(lambda l: "event=too_busy" in l, timeout=5)
        self.assertIsNotNone(line, "the warning was not logged")
        self.assertRegex(line, r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} ")
        time.sleep(0.3)
        # level = warn: no info lines (connect, disconnect, ready) at all.
        for line in self.server.log_lines():
            self.assertNotRegex(line, r"(?i)\binfo\b|event=(connect|disconnect|ready)")
            self.assertFalse(line.startswith("time="), line)


if __name__ == "__main__":
    harness.main()
