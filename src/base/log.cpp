// Structured logging on spdlog; see log.hpp.
#include "base/log.hpp"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <mutex>

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

bool is_plain_char(unsigned char c) {
  return c > 0x20 && c < 0x7f && c != '"' && c != '=' && c != '\\';
}

}  // namespace

void init(Level level, Format format) {
  if (format == Format::automatic) format = isatty(STDERR_FILENO) ? Format::text : Format::logfmt;
  // Lines are written by a thread of their own: an event loop never waits for stderr (a
  // slow journald or pipe reader would otherwise stall every session on that loop). The
  // queue keeps their order; when it is full, the logging thread is waited for rather
  // than a line dropped. spdlog's registry drains the queue at exit.
  static std::once_flag pool;
  std::call_once(pool, [] { spdlog::init_thread_pool(8192, 1); });
  auto logger = std::make_shared<spdlog::async_logger>(
      "postino", std::make_shared<spdlog::sinks::stderr_sink_mt>(), spdlog::thread_pool(),
      spdlog::async_overflow_policy::block);
  // The level is written by event() with the names the config uses (warn, not warning).
  if (format == Format::logfmt) {
    logger->set_pattern("time=%Y-%m-%dT%H:%M:%S.%eZ %v", spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %v");
  }
  logger->set_level(to_spdlog(level));
  logger->flush_on(spdlog::level::debug);
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
