// `postino trace QUEUE-ID`: the life of one message from the server's log (Postfix's
// "grep the queue id" made a command): the lines of the session that accepted it, every
// delivery attempt with its status, the reports it caused (and their own deliveries),
// then where it stands in the queue now.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <set>

#include "app/store_commands.hpp"
#include "app/store_options.hpp"
#include "base/log.hpp"

namespace postino::app {
namespace {

std::vector<std::string> read_lines(std::istream& in) {
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  return lines;
}

// journalctl's view of the service, when there is one.
std::vector<std::string> journal_lines() {
  std::vector<std::string> lines;
  if (::access("/usr/bin/journalctl", X_OK) != 0 && ::access("/bin/journalctl", X_OK) != 0) {
    return lines;
  }
  FILE* p = ::popen("journalctl -u postino -o cat --no-pager 2>/dev/null", "r");
  if (!p) return lines;
  std::string line;
  for (int c; (c = std::fgetc(p)) != EOF;) {
    if (c == '\n') {
      lines.push_back(std::move(line));
      line.clear();
    } else {
      line += static_cast<char>(c);
    }
  }
  ::pclose(p);
  return lines;
}

std::string field(const std::vector<std::pair<std::string, std::string>>& fields,
                  std::string_view key) {
  for (const auto& [k, v] : fields) {
    if (k == key) return v;
  }
  return "";
}

std::string when(store::SystemClock::time_point t) {
  const auto s = store::SystemClock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return text;
}

int trace(const StoreLocation& where, const std::string& id, const std::string& log_file) {
  std::vector<std::string> lines;
  if (!log_file.empty() && log_file != "-") {
    std::ifstream in(log_file);
    if (!in) {
      std::cerr << "postino trace: cannot read " << log_file << "\n";
      return 2;
    }
    lines = read_lines(in);
  } else if (log_file == "-" || !isatty(STDIN_FILENO)) {
    lines = read_lines(std::cin);
  } else {
    lines = journal_lines();
  }
  // The message's ids (its own, and those of the reports it caused), then the sessions
  // that carried them; a report's id shows up after the message's, so one pass in order
  // finds them all.
  std::set<std::string> ids = {id}, sessions;
  std::vector<std::vector<std::pair<std::string, std::string>>> parsed;
  for (const auto& line : lines) {
    parsed.push_back(base::log::parse_fields(line));
    const auto& f = parsed.back();
    if (ids.count(field(f, "queue_id"))) {
      if (auto s = field(f, "session"); !s.empty()) sessions.insert(s);
      if (auto r = field(f, "report_queue_id"); !r.empty()) ids.insert(r);
    }
  }
  std::size_t shown = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& f = parsed[i];
    const auto queue_id = field(f, "queue_id");
    const bool ours = ids.count(queue_id) > 0;
    // The session's other lines (connect, TLS, login, disconnect), not its other messages.
    const bool session = sessions.count(field(f, "session")) > 0 && queue_id.empty();
    if (ours || session) {
      std::cout << lines[i] << "\n";
      ++shown;
    }
  }
  std::string error;
  auto cfg = location_config(where, error);
  if (error.empty()) error = become_server_user(cfg);
  std::optional<store::QueueEntry> entry;
  if (error.empty()) {
    if (auto s = store::open_sqlite_store(store_options(cfg))) {
      if (auto e = (*s)->queue_entry(id)) entry = *e;
    }
  }
  if (entry) {
    std::cout << "in the queue: " << entry->attempts << " attempt(s), "
              << (entry->is_held ? "held" : "next attempt " + when(entry->next_attempt)) << "\n";
    for (std::size_t r = 0; r < entry->recipients.size(); ++r) {
      const int st = entry->statuses[r];
      std::cout << "  " << entry->recipients[r].address << "  "
                << (st == 0   ? "pending"
                    : st == 1 ? "delivered"
                              : "failed")
                << (entry->last_replies[r].empty() ? "" : "  " + entry->last_replies[r]) << "\n";
    }
  } else if (shown > 0) {
    std::cout << "not in the queue (nothing left to deliver)\n";
  }
  if (shown == 0 && !entry) {
    std::cerr << "postino trace: nothing about " << id
              << " in the log (give it with --log FILE or on standard input)\n";
    return 1;
  }
  return 0;
}

}  // namespace

void add_trace_command(CLI::App& app, StoreLocation& where, std::function<int()>& run) {
  static std::string id, log_file;
  auto* cmd = app.add_subcommand(
      "trace", "The life of one message: its log lines by queue id, and its queue entry.");
  cmd->add_option("QUEUE-ID", id, "The queue id (queue_id= in the log, `postino queue list`)")
      ->required();
  cmd->add_option("--log", log_file,
                  "The log to read (- for standard input; default: standard input when it is "
                  "not a terminal, else journalctl -u postino)");
  cmd->footer(
      "Examples:\n  journalctl -u postino -o cat | postino trace S3KX9PQ2M4.1\n"
      "  postino trace S3KX9PQ2M4.1 --log /var/log/postino.log");
  cmd->callback([&run, &where] { run = [&where] { return trace(where, id, log_file); }; });
}

}  // namespace postino::app
