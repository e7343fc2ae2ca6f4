// Structured logging on spdlog; see log.hpp.
#include "base/log.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <memory>
#include <mutex>

#include "base/log_batcher.hpp"

namespace postino::base::log {
namespace {

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::debug:
      return spdlog::level::debug;
    case Level::info:
      return spdlog::level::info;
    case Level::warn:
      return spdlog::level::warn;
    case Level::error:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

// Formats on the thread that logs and hands the line to a LogBatcher writing to
// stderr (log_batcher.hpp). base_sink's mutex keeps the formatter's cached time safe.
class BatchedStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit BatchedStderrSink(LogBatcher::Options options)
      : batcher_([](std::string_view text) { LogBatcher::write_fd(STDERR_FILENO, text); },
                 options) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    batcher_.append(std::string_view(line.data(), line.size()));
    // An error is written without the gathering delay, with everything before it.
    if (msg.level >= spdlog::level::err) batcher_.hurry();
  }
  void flush_() override { batcher_.flush(); }

 private:
  LogBatcher batcher_;
};

bool is_plain_char(unsigned char c) {
  return c > 0x20 && c < 0x7f && c != '"' && c != '=' && c != '\\';
}

}  // namespace

void init(Level level, Format format, Buffering buffering) {
  if (format == Format::automatic) format = isatty(STDERR_FILENO) ? Format::text : Format::logfmt;
  // Lines are written in batches by a thread of their own (log_batcher.hpp), in the order
  // they were logged. spdlog's registry drops the logger at exit, and the sink writes
  // what is left as it goes.
  auto logger = std::make_shared<spdlog::logger>(
      "postino", std::make_shared<BatchedStderrSink>(LogBatcher::Options{
                     .gather = buffering.gather, .max_bytes = buffering.buffer_bytes}));
  // The level is written by event() with the names the config uses (warn, not warning).
  if (format == Format::logfmt) {
    logger->set_pattern("time=%Y-%m-%dT%H:%M:%S.%eZ %v", spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %v");
  }
  logger->set_level(to_spdlog(level));
  spdlog::set_default_logger(std::move(logger));
}

bool parse_level(std::string_view text, Level& out) {
  if (text == "debug")
    out = Level::debug;
  else if (text == "info")
    out = Level::info;
  else if (text == "warn")
    out = Level::warn;
  else if (text == "error")
    out = Level::error;
  else
    return false;
  return true;
}

bool parse_format(std::string_view text, Format& out) {
  if (text == "auto")
    out = Format::automatic;
  else if (text == "text")
    out = Format::text;
  else if (text == "logfmt")
    out = Format::logfmt;
  else
    return false;
  return true;
}

std::string seconds(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

std::string logfmt_value(std::string_view value) {
  bool plain = !value.empty();
  for (unsigned char c : value) plain = plain && is_plain_char(c);
  if (plain) return std::string(value);
  std::string out = "\"";
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_fields(std::string_view line) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const auto start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '=') ++i;
    if (i >= line.size() || line[i] != '=') {
      while (i < line.size() && line[i] != ' ') ++i;  // a word that is no field
      continue;
    }
    std::string key(line.substr(start, i - start));
    ++i;
    std::string value;
    if (i < line.size() && line[i] == '"') {
      for (++i; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) {
          ++i;
          if (line[i] == 'x' && i + 2 < line.size() &&
              std::isxdigit(static_cast<unsigned char>(line[i + 1])) &&
              std::isxdigit(static_cast<unsigned char>(line[i + 2]))) {
            value += static_cast<char>(std::stoi(std::string(line.substr(i + 1, 2)), nullptr, 16));
            i += 2;
            continue;
          }
        }
        value += line[i];
      }
      ++i;  // the closing quote
    } else {
      while (i < line.size() && line[i] != ' ') value += line[i++];
    }
    if (!key.empty()) out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

std::string render_fields(std::string_view session, std::string_view name,
                          std::initializer_list<Field> fields) {
  std::string line;
  if (!session.empty()) {
    line += "session=";
    line += logfmt_value(session);
    line.push_back(' ');
  }
  line += "event=";
  line += logfmt_value(name);
  for (const auto& f : fields) {
    line.push_back(' ');
    line += f.key;
    line.push_back('=');
    line += logfmt_value(f.value);
  }
  return line;
}

void event(Level level, std::string_view session, std::string_view name,
           std::initializer_list<Field> fields) {
  auto lvl = to_spdlog(level);
  if (!spdlog::should_log(lvl)) return;
  static constexpr const char* names[] = {"debug", "info", "warn", "error"};
  spdlog::log(lvl, "level={} {}", names[static_cast<int>(level)],
              render_fields(session, name, fields));
}

}  // namespace postino::base::log
