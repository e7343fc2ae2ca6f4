// Structured event logging: one line per event, the session id on every line.
// logfmt (`time=… level=info session=S… event=connect proto=smtp`) when stderr is not a
// terminal, a readable text form when it is.
#pragma once

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postino::base::log {

enum class Level { debug, info, warn, error };
enum class Format { automatic, text, logfmt };

struct Field {
  std::string_view key;
  std::string value;
};

// How lines wait to be written (log_batcher.hpp): at most `buffer_bytes` of them, gathered
// for `gather` once the first wakes the logging thread.
struct Buffering {
  std::size_t buffer_bytes = 1 << 20;
  std::chrono::milliseconds gather{5};
};

// Installs the process-wide logger on stderr. Safe to call again (reconfigures).
void init(Level level, Format format, Buffering buffering = {});

// Parses "debug" | "info" | "warn" | "error"; false when unknown.
bool parse_level(std::string_view text, Level& out);
// Parses "auto" | "text" | "logfmt"; false when unknown.
bool parse_format(std::string_view text, Format& out);

// One event. `session` may be empty for process-wide events.
void event(Level level, std::string_view session, std::string_view name,
           std::initializer_list<Field> fields = {});

inline void info(std::string_view session, std::string_view name,
                 std::initializer_list<Field> fields = {}) {
  event(Level::info, session, name, fields);
}
inline void warn(std::string_view session, std::string_view name,
                 std::initializer_list<Field> fields = {}) {
  event(Level::warn, session, name, fields);
}
inline void error(std::string_view session, std::string_view name,
                  std::initializer_list<Field> fields = {}) {
  event(Level::error, session, name, fields);
}
inline void debug(std::string_view session, std::string_view name,
                  std::initializer_list<Field> fields = {}) {
  event(Level::debug, session, name, fields);
}

// A duration as log lines give it: seconds with two decimals ("0.25").
std::string seconds(double value);

// A value as logfmt writes it: bare when it is a plain token, otherwise double-quoted with
// `"` and `\` escaped and control characters shown as \xNN (so a hostile value can never
// start a new log line).
std::string logfmt_value(std::string_view value);

// The key=value fields of a log line (either format), values unquoted; words that are not
// key=value (the text format's date) are skipped. The inverse of render_fields().
std::vector<std::pair<std::string, std::string>> parse_fields(std::string_view line);

// Renders one event's key=value part (without time and level); exposed for tests.
std::string render_fields(std::string_view session, std::string_view name,
                          std::initializer_list<Field> fields);

}  // namespace postino::base::log
