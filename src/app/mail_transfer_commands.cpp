// `postino import maildir|mbox PATH --user ADDRESS [--mailbox NAME]` and
// `postino export maildir|mbox PATH --user ADDRESS [--mailbox NAME]`: moving mailboxes in
// from another server (Dovecot's Maildir, mbox files) and out again, flags and dates kept.
// Messages are appended one after the other in their original order, so UIDs follow it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/mail_files.hpp"
#include "app/store_commands.hpp"
#include "app/store_options.hpp"

namespace postino::app {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Transfer {
  std::string kind;  // "maildir" or "mbox"
  std::string path;
  std::string user;
  std::string mailbox;  // one mailbox only (export), or the target of PATH's own mail (import)
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// "  1200/5000 messages  850/s" on a terminal, rewritten in place.
class Progress {
 public:
  Progress(std::size_t total, const char* verb) : total_(total), verb_(verb) {}
  void step() {
    ++done_;
    if (!tty_) return;
    const auto now = Clock::now();
    if (now - shown_ < std::chrono::milliseconds(100) && done_ != total_) return;
    shown_ = now;
    std::cerr << "\r  " << verb_ << " " << done_ << "/" << total_ << " messages  " << rate()
              << "/s   " << std::flush;
    if (done_ == total_) std::cerr << "\n";
  }
  long rate() const {
    const double s = std::chrono::duration<double>(Clock::now() - began_).count();
    return s > 0 ? static_cast<long>(static_cast<double>(done_) / s) : 0;
  }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - began_).count(); }

 private:
  std::size_t total_, done_ = 0;
  const char* verb_;
  bool tty_ = isatty(STDERR_FILENO);
  Clock::time_point began_ = Clock::now(), shown_;
};

struct Opened {
  std::unique_ptr<store::Store> store;
  store::Account account;
};

Opened open_account(const StoreLocation& where, const std::string& user) {
  std::string error;
  auto cfg = location_config(where, error);
  if (error.empty()) error = become_server_user(cfg);
  if (!error.empty()) throw std::runtime_error(error);
  auto s = store::open_sqlite_store(store_options(cfg));
  if (!s) throw std::runtime_error("cannot open the store: " + s.error().detail);
  auto account = (*s)->find_account(user);
  if (!account) throw std::runtime_error(user + ": " + account.error().detail);
  return {std::move(*s), *account};
}

// The mailbox, created with its parents when missing.
void ensure_mailbox(store::Store& s, store::AccountId account, const std::string& name) {
  if (s.mailbox(account, name)) return;
  for (std::size_t slash = name.find('/');; slash = name.find('/', slash + 1)) {
    const auto prefix = name.substr(0, slash);
    if (!s.mailbox(account, prefix)) {
      auto r = s.create_mailbox(account, prefix);
      if (!r && r.error().kind != store::ErrorKind::already_exists) {
        throw std::runtime_error("mailbox " + prefix + ": " + r.error().detail);
      }
    }
    if (slash == std::string::npos) break;
  }
}

struct Item {
  std::string mailbox;
  fs::path file;  // maildir
  bool is_new = false;
  store::Flags flags;  // mbox: from the file
  std::string text;    // mbox: the message
  std::optional<store::SystemClock::time_point> date;
};

std::vector<Item> maildir_items(const Transfer& t) {
  std::vector<std::pair<std::string, fs::path>> folders = {
      {t.mailbox.empty() ? "INBOX" : t.mailbox, t.path}};
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(t.path, ec)) {
    if (!entry.is_directory()) continue;
    if (auto name = maildir_folder_name(entry.path().filename().string())) {
      folders.push_back({*name, entry.path()});
    }
  }
  if (ec) throw std::runtime_error("cannot read " + t.path + ": " + ec.message());
  if (!fs::is_directory(fs::path(t.path) / "cur") && !fs::is_directory(fs::path(t.path) / "new")) {
    throw std::runtime_error(t.path + " is not a Maildir (no cur/ or new/)");
  }
  std::vector<Item> items;
  for (const auto& [mailbox, dir] : folders) {
    const auto keywords = parse_dovecot_keywords(read_file(dir / "dovecot-keywords"));
    std::vector<Item> folder;
    for (const char* sub : {"new", "cur"}) {
      for (const auto& entry : fs::directory_iterator(dir / sub, ec)) {
        if (!entry.is_regular_file()) continue;
        Item item{mailbox, entry.path(), std::string(sub) == "new", {}, {}, {}};
        if (!item.is_new) item.flags = maildir_flags(entry.path().filename().string(), keywords);
        folder.push_back(std::move(item));
      }
      ec.clear();
    }
    // File names begin with the delivery time: their order is the mailbox's.
    std::sort(folder.begin(), folder.end(), [](const Item& a, const Item& b) {
      return maildir_delivered_before(a.file.filename().string(), b.file.filename().string());
    });
    items.insert(items.end(), std::make_move_iterator(folder.begin()),
                 std::make_move_iterator(folder.end()));
  }
  return items;
}

int import_mail(const StoreLocation& where, const Transfer& t) {
  auto [store, account] = open_account(where, t.user);
  std::vector<Item> items;
  if (t.kind == "maildir") {
    items = maildir_items(t);
  } else {
    if (!fs::is_regular_file(t.path)) throw std::runtime_error(t.path + " is not a file");
    for (auto& m : split_mbox(read_file(t.path))) {
      items.push_back({t.mailbox.empty() ? "INBOX" : t.mailbox,
                       {},
                       false,
                       std::move(m.flags),
                       std::move(m.text),
                       m.internal_date});
    }
  }
  Progress progress(items.size(), "imported");
  std::size_t imported = 0, failed = 0;
  std::vector<std::string> mailboxes;
  for (auto& item : items) {
    if (std::find(mailboxes.begin(), mailboxes.end(), item.mailbox) == mailboxes.end()) {
      ensure_mailbox(*store, account.id, item.mailbox);
      mailboxes.push_back(item.mailbox);
    }
    store::NewMessage options{item.flags, item.date};
    std::string text = item.text;
    if (!item.file.empty()) {
      text = to_crlf(read_file(item.file));
      std::error_code ec;
      const auto mtime = fs::last_write_time(item.file, ec);
      if (!ec) {
        options.internal_date = std::chrono::time_point_cast<store::SystemClock::duration>(
            std::chrono::file_clock::to_sys(mtime));
      }
    }
    auto saved = store->append(account.id, item.mailbox, text, options);
    if (!saved) {
      ++failed;
      std::cerr << "\npostino import: " << (item.file.empty() ? "message" : item.file.string())
                << ": " << saved.error().detail << "\n";
      if (saved.error().kind == store::ErrorKind::no_space ||
          saved.error().kind == store::ErrorKind::over_quota) {
        break;  // the rest would fail the same way
      }
    } else {
      ++imported;
    }
    progress.step();
  }
  std::cout << "imported " << imported << " messages into " << mailboxes.size()
            << " mailbox(es) of " << account.address << " in "
            << static_cast<long>(progress.seconds() * 1000) / 1000.0 << " s (" << progress.rate()
            << "/s)" << (failed ? "; " + std::to_string(failed) + " failed" : "") << "\n";
  return failed ? 1 : 0;
}

// Not fsynced: an export is a copy of what the store keeps durably.
void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

int export_mail(const StoreLocation& where, const Transfer& t) {
  auto [store, account] = open_account(where, t.user);
  auto listed = store->list_mailboxes(account.id);
  if (!listed) throw std::runtime_error(listed.error().detail);
  std::vector<store::MailboxInfo> boxes;
  for (auto& b : *listed) {
    if (t.mailbox.empty() || b.name == t.mailbox) boxes.push_back(b);
  }
  if (boxes.empty()) throw std::runtime_error("no mailbox " + t.mailbox + " in " + t.user);
  std::size_t total = 0;
  for (const auto& b : boxes) total += static_cast<std::size_t>(b.messages);
  Progress progress(total, "exported");
  std::size_t exported = 0;
  char host[256] = "postino";
  ::gethostname(host, sizeof host - 1);
  fs::create_directories(t.path);
  for (const auto& b : boxes) {
    auto messages = store->messages(account.id, b.id);
    if (!messages) throw std::runtime_error(b.name + ": " + messages.error().detail);
    if (t.kind == "maildir") {
      const fs::path dir = b.name == "INBOX" ? fs::path(t.path)
                                             : fs::path(t.path) / maildir_folder_directory(b.name);
      for (const char* sub : {"cur", "new", "tmp"}) fs::create_directories(dir / sub);
      std::map<std::string, char> keywords;
      for (const auto& m : *messages) {
        auto text = store->read_message(account.id, b.id, m.uid);
        if (!text) throw std::runtime_error(b.name + ": " + text.error().detail);
        const auto lf = to_lf(*text);
        const auto seconds = store::SystemClock::to_time_t(m.internal_date);
        const auto base = std::to_string(seconds) + ".M" + std::to_string(m.uid.value) + "P" +
                          std::to_string(::getpid()) + "." + host +
                          ",S=" + std::to_string(lf.size());
        const auto tmp = dir / "tmp" / base;
        write_file(tmp, lf);
        const timespec times[2] = {{seconds, 0}, {seconds, 0}};
        ::utimensat(AT_FDCWD, tmp.c_str(), times, 0);
        fs::rename(tmp, dir / "cur" / (base + maildir_info(m.flags, keywords)));
        ++exported;
        progress.step();
      }
      if (!keywords.empty()) write_file(dir / "dovecot-keywords", dovecot_keywords_text(keywords));
    } else {
      const auto file = fs::path(t.path) / (b.name + ".mbox");
      fs::create_directories(file.parent_path());
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      for (const auto& m : *messages) {
        auto text = store->read_message(account.id, b.id, m.uid);
        if (!text) throw std::runtime_error(b.name + ": " + text.error().detail);
        out << mbox_entry(*text, m.flags, m.internal_date);
        ++exported;
        progress.step();
      }
      out.close();
      if (!out) throw std::runtime_error("cannot write " + file.string());
    }
  }
  std::cout << "exported " << exported << " messages from " << boxes.size() << " mailbox(es) of "
            << account.address << " to " << t.path << "\n";
  return 0;
}

}  // namespace

void add_transfer_commands(CLI::App& app, StoreLocation& where, std::function<int()>& run) {
  static Transfer t;
  for (const char* verb : {"import", "export"}) {
    const bool is_import = std::string(verb) == "import";
    auto* cmd = app.add_subcommand(
        verb, is_import ? "Import a Maildir (with its Maildir++ folders) or an mbox file into "
                          "an account, flags and dates kept."
                        : "Export an account's mailboxes as Maildir++ or as one mbox file per "
                          "mailbox, flags and dates kept.");
    cmd->add_option("FORMAT", t.kind, "maildir or mbox")
        ->required()
        ->check(CLI::IsMember({"maildir", "mbox"}));
    cmd->add_option("PATH", t.path,
                    is_import ? "The Maildir or the mbox file" : "The directory to write")
        ->required();
    cmd->add_option("--user", t.user, "The account")->required();
    cmd->add_option("--mailbox", t.mailbox,
                    is_import ? "Where PATH's own messages go (default INBOX)"
                              : "Only this mailbox (default: all)");
    cmd->footer(is_import
                    ? "Examples:\n  postino import maildir /var/vmail/example.org/alice/Maildir "
                      "--user alice@example.org\n"
                      "  postino import mbox ~/old.mbox --user alice@example.org --mailbox "
                      "Archive/Old"
                    : "Examples:\n  postino export maildir /tmp/alice --user "
                      "alice@example.org\n"
                      "  postino export mbox /tmp/alice-mbox --user alice@example.org");
    cmd->callback([&run, &where, is_import] {
      run = [&where, is_import] {
        try {
          return is_import ? import_mail(where, t) : export_mail(where, t);
        } catch (const std::exception& e) {
          std::cerr << "postino " << (is_import ? "import" : "export") << ": " << e.what() << "\n";
          return 1;
        }
      };
    });
  }
}

}  // namespace postino::app
