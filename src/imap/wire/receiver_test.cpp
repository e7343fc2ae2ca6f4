// Tests for the IMAP receiver: every split point, literals, limits and resync
// (STYLE.md example 3; RELIABILITY L06, L07).
#include "imap/wire/receiver.hpp"

#include <gtest/gtest.h>

#include <ostream>

namespace postino::imap::wire {
namespace {

using Kind = Receiver::Step::Kind;

struct Event {
  Kind kind;
  std::string summary;
  bool operator==(const Event&) const = default;
  friend std::ostream& operator<<(std::ostream& os, const Event& e) {
    return os << static_cast<int>(e.kind) << ":" << e.summary;
  }
};

std::string summarize(const std::vector<Token>& tokens) {
  std::string out;
  for (const auto& t : tokens) {
    if (!out.empty()) out += " ";
    switch (t.type) {
      case Token::Type::atom:
        out += t.value;
        break;
      case Token::Type::quoted:
        out += "q:" + t.value;
        break;
      case Token::Type::literal:
        out += "l:" + t.value;
        break;
      case Token::Type::list:
        out += "(" + summarize(t.children) + ")";
        break;
    }
  }
  return out;
}

std::vector<Event> run(std::string_view input, std::size_t chunk, ReceiverLimits limits = {}) {
  Receiver r(limits);
  std::vector<Event> events;
  std::string buffer;
  for (std::size_t pos = 0; pos < input.size(); pos += chunk) {
    buffer.append(input.substr(pos, chunk));
    for (;;) {
      auto step = r.next(buffer);
      buffer.erase(0, step.consumed);
      switch (step.kind) {
        case Kind::need_more:
          break;
        case Kind::continuation:
          events.push_back({Kind::continuation, "+"});
          break;
        case Kind::command:
          events.push_back({Kind::command, step.command.tag + " " + step.command.name +
                                               (step.command.arguments.empty() ? "" : " ") +
                                               summarize(step.command.arguments)});
          break;
        case Kind::error:
        case Kind::fatal:
          events.push_back({step.kind, step.tag + " " + step.text});
          break;
      }
      if (step.kind == Kind::fatal) return events;
      if (step.kind == Kind::need_more && (step.consumed == 0 || buffer.empty())) break;
    }
  }
  return events;
}

void expect_at_every_split(std::string_view input, const std::vector<Event>& expected,
                           ReceiverLimits limits = {}) {
  for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
    EXPECT_EQ(run(input, chunk, limits), expected) << "chunk " << chunk;
  }
}

TEST(ImapReceiver, AtomsStringsListsAndSectionSpecs) {
  expect_at_every_split(
      "a1 uid fetch 1:*,7 (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>) \"q \\\"x\\\\\"\r\n",
      {{Kind::command,
        "a1 UID fetch 1:*,7 (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>) q:q \"x\\"}});
  expect_at_every_split(
      "b STORE 1 +FLAGS (\\Seen $Label)\r\nc LIST \"\" %\r\n",
      {{Kind::command, "b STORE 1 +FLAGS (\\Seen $Label)"}, {Kind::command, "c LIST q: %"}});
}

TEST(ImapReceiver, SynchronisingAndNonSynchronisingLiterals) {
  expect_at_every_split("a LOGIN {4}\r\nuser {6+}\r\nsec et\r\n",
                        {{Kind::continuation, "+"}, {Kind::command, "a LOGIN l:user l:sec et"}});
  expect_at_every_split("a APPEND INBOX {0}\r\n\r\n",
                        {{Kind::continuation, "+"}, {Kind::command, "a APPEND INBOX l:"}});
  // A literal may hold CRLF, NUL and "{5}" without confusing the receiver.
  const std::string binary("x\r\n{5}\r\n\0y", 10);
  expect_at_every_split("a X {10+}\r\n" + binary + " end\r\n",
                        {{Kind::command, "a X l:" + binary + " end"}});
}

TEST(ImapReceiver, OversizedLiteralsAreRefusedBeforeAnyContinuation) {
  ReceiverLimits limits;
  limits.max_literal_bytes = 8192;
  for (const char* size : {"8193", "4294967295", "4294967296", "18446744073709551616"}) {
    const std::string input = std::string("a LOGIN {") + size + "}\r\nb NOOP\r\n";
    EXPECT_EQ(run(input, input.size(), limits),
              (std::vector<Event>{{Kind::error, "a NO [TOOBIG] Literal too big"},
                                  {Kind::command, "b NOOP"}}))
        << size;
  }
  // A non-synchronising literal that is too big cannot be skipped: the stream is lost.
  EXPECT_EQ(run("a APPEND INBOX {9000+}\r\nxxxx", 64, limits),
            (std::vector<Event>{{Kind::fatal, "a [TOOBIG] Literal too big"}}));
  EXPECT_EQ(run("a LOGIN {-1}\r\n", 64),
            (std::vector<Event>{{Kind::error, "a BAD Invalid literal"}}));
}

TEST(ImapReceiver, BadInputIsRefusedAndTheStreamResyncs) {
  expect_at_every_split(
      std::string("a LOGIN \"a\\\\\0b\" x\r\nb NOOP\r\n", 27),
      {{Kind::error, "a BAD Invalid character in quoted string"}, {Kind::command, "b NOOP"}});
  expect_at_every_split("+x NOOP\r\n NOOP\r\nc\r\nd NO(OP\r\ne NOOP x)\r\n",
                        {{Kind::error, "* BAD Invalid tag"},
                         {Kind::error, "* BAD Missing tag"},
                         {Kind::error, "c BAD Missing command"},
                         {Kind::error, "d BAD Invalid command name"},
                         {Kind::error, "e BAD Unexpected )"}});
  expect_at_every_split("a X \"unterminated\r\nb X (open\r\nc X \"bad\\q\"\r\n",
                        {{Kind::error, "a BAD Missing closing quote"},
                         {Kind::error, "b BAD Missing )"},
                         {Kind::error, "c BAD Invalid escape in quoted string"}});
}

TEST(ImapReceiver, NestingTokenAndLineLimits) {
  // RELIABILITY L07: 100,000 "(" gives BAD quickly with bounded memory.
  const std::string deep = "a LOGIN " + std::string(100000, '(') + "\r\nb NOOP\r\n";
  EXPECT_EQ(run(deep, deep.size()),
            (std::vector<Event>{{Kind::error, "* BAD Command line too long"},
                                {Kind::command, "b NOOP"}}));
  ReceiverLimits limits;
  EXPECT_EQ(run("a X " + std::string(40, '(') + "\r\n", 1 << 20, limits),
            (std::vector<Event>{{Kind::error, "a BAD Lists nested too deep"}}));
  std::string many = "a FETCH ";
  for (int i = 0; i < 10001; ++i) many += "1 ";
  EXPECT_EQ(run(many + "\r\n", 1 << 20),
            (std::vector<Event>{{Kind::error, "a BAD Too many arguments"}}));
  limits.max_line_bytes = 100;
  EXPECT_EQ(run("a X {3}\r\nabc" + std::string(120, 'y') + "\r\nb NOOP\r\n", 7, limits),
            (std::vector<Event>{{Kind::continuation, "+"},
                                {Kind::error, "a BAD Command line too long"},
                                {Kind::command, "b NOOP"}}));
}

}  // namespace
}  // namespace postino::imap::wire
