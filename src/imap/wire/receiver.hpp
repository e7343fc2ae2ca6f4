// The IMAP command receiver (RFC 3501 §2.2, §4, §9; RFC 7888 literals): a pure,
// incremental parser that turns bytes into commands made of tokens. It asks for a
// continuation before a synchronising literal, refuses an oversized literal before any
// byte of it is read, bounds nesting and token counts (RELIABILITY L06, L07), and never
// writes: the session answers what it returns.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/line_splitter.hpp"

namespace postino::imap::wire {

// RFC 3501 §9: ATOM-CHAR is any CHAR except atom-specials.
bool is_atom_char(unsigned char c);

struct Token {
  enum class Type {
    atom,     // includes flags (\Seen), sequence sets (1:*), section specs (BODY[...]<0.10>)
    quoted,   // "…" with escapes resolved
    literal,  // {N} or {N+}: raw bytes; ~{N} (literal8, RFC 3516) too
    list,     // ( … )
  };
  Type type = Type::atom;
  bool is_literal8 = false;  // ~{N}: may hold NUL
  std::string value;
  std::vector<Token> children;  // for lists

  bool is_string() const { return type == Type::quoted || type == Type::literal; }
  // atom or string: an astring (RFC 3501 §9)
  bool is_astring() const { return type != Type::list; }
};

struct Command {
  std::string tag;
  std::string name;  // upper-cased
  std::vector<Token> arguments;
};

struct ReceiverLimits {
  std::size_t max_line_bytes = 65536;     // all text of a command outside literals
  std::size_t max_literal_bytes = 65536;  // one literal (APPEND has its own limit later)
  std::size_t max_depth = 32;             // nested lists
  std::size_t max_tokens = 10000;         // tokens in one command
};

class Receiver {
 public:
  explicit Receiver(ReceiverLimits limits) : limits_(limits), splitter_(limits.max_line_bytes) {}
  void set_limits(ReceiverLimits limits);

  struct Step {
    enum class Kind {
      need_more,     // consumed what it could; waiting for bytes
      continuation,  // a synchronising literal is announced: send "+ …" and go on
      command,       // `command` is complete
      error,         // answer `tag BAD/NO text` (tag may be "*"); the stream is in sync again
      fatal,         // answer `* BYE text` and close: the stream cannot be re-synchronised
    };
    Kind kind = Kind::need_more;
    std::size_t consumed = 0;
    Command command;
    std::string tag;  // for error: the tag if one was read, else "*"
    std::string text;  // for error/fatal: the reply text, e.g. "BAD Invalid tag" or "NO [TOOBIG] …"
  };

  // Looks at unread `input`; the caller erases `consumed` bytes, then calls again while
  // the step is not need_more with nothing consumed.
  Step next(std::string_view input);
  // A raw line (a SASL response to a continuation), bypassing command parsing. Only
  // between commands.
  base::LineStep next_line(std::string_view input) { return splitter_.next(input); }

 private:
  Step finish_command();
  void reset();

  ReceiverLimits limits_;
  base::LineSplitter splitter_;
  std::string text_;                   // the command's text so far, literals left out
  std::vector<std::string> literals_;  // their bytes, in order
  std::uint64_t literal_remaining_ = 0;
  bool in_literal_ = false;
};

// RFC 3501 §9 tag: 1*<any ASTRING-CHAR except "+">.
bool is_tag(std::string_view text);

}  // namespace postino::imap::wire
