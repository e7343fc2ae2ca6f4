// See sendmail.hpp.
#include "app/sendmail.hpp"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <random>
#include <set>

#include "app/store_commands.hpp"
#include "app/store_options.hpp"
#include "base/ascii.hpp"
#include "config/load.hpp"
#include "mime/address.hpp"
#include "mime/header.hpp"
#include "smtp/trace.hpp"

namespace postino::app {
namespace {

// sysexits(3)
constexpr int ex_usage = 64, ex_dataerr = 65, ex_nouser = 67, ex_software = 70, ex_tempfail = 75,
              ex_config = 78;

bool is_header_line(const std::string& line) {
  if (line.empty()) return false;
  if (line[0] == ' ' || line[0] == '\t') return true;  // a continuation
  const auto colon = line.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  for (std::size_t i = 0; i < colon; ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c <= ' ' || c >= 127) return false;
  }
  return true;
}

std::string random_token() {
  static constexpr char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::random_device device;
  std::string out;
  for (int i = 0; i < 20; ++i) out += alphabet[device() % 36];
  return out;
}

std::string display_name(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    if (c != '\r' && c != '\n') out += c;
  }
  return out + "\"";
}

}  // namespace

SendmailArgs parse_sendmail_args(const std::vector<std::string>& args) {
  SendmailArgs out;
  std::size_t i = 0;
  // An option's value: joined ("-fme@x") or the next argument ("-f me@x").
  auto value = [&](const std::string& a, std::string& into) {
    if (a.size() > 2) {
      into = a.substr(2);
      return true;
    }
    if (i + 1 >= args.size()) {
      out.error = "option " + a + " needs a value";
      return false;
    }
    into = args[++i];
    return true;
  };
  for (; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;
    std::string ignored;
    if (a == "-t") {
      out.extract_recipients = true;
    } else if (a == "-i" || a == "-oi") {
      out.ignore_dots = true;
    } else if (a.starts_with("-f") || a.starts_with("-r")) {
      if (!value(a, out.sender)) return out;
    } else if (a.starts_with("-F")) {
      if (!value(a, out.full_name)) return out;
    } else if (a.starts_with("-C")) {
      if (!value(a, out.config_file)) return out;
    } else if (a.starts_with("-N") || a.starts_with("-R") || a.starts_with("-V") ||
               a.starts_with("-X") || a.starts_with("-L") || a.starts_with("-O")) {
      if (!value(a, ignored)) return out;  // DSN, logging and option values: not used
    } else if (a == "-bm" || a.starts_with("-o") || a == "-v" || a == "-U" || a == "-n" ||
               a == "-m" || a == "-em" || a == "-ep" || a == "-eq") {
      // Delivery mode, queue options, verbosity: the store decides; accepted as Postfix does.
    } else if (a.starts_with("-b")) {
      out.error = "mode " + a + " is not supported (only -bm, deliver a message)";
      return out;
    } else {
      out.error = "unknown option " + a;
      return out;
    }
  }
  for (; i < args.size(); ++i) {
    // "a@x, b@y" in one argument, as some scripts pass them.
    std::string item;
    for (char c : args[i] + ",") {
      if (c == ',') {
        const auto first = item.find_first_not_of(' ');
        if (first != std::string::npos) {
          out.recipients.push_back(item.substr(first, item.find_last_not_of(' ') - first + 1));
        }
        item.clear();
      } else {
        item += c;
      }
    }
  }
  return out;
}

PreparedMessage prepare_message(const std::string& input, const SendmailArgs& args,
                                const std::string& from, const std::string& host,
                                const std::string& date, const std::string& unique) {
  PreparedMessage out;
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < input.size()) {
    auto end = input.find('\n', pos);
    if (end == std::string::npos) end = input.size();
    std::string line = input.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    pos = end + 1;
    if (!args.ignore_dots && line == ".") break;
    lines.push_back(std::move(line));
  }
  std::size_t body_start = 0;
  while (body_start < lines.size() && is_header_line(lines[body_start])) ++body_start;
  std::string header, body;
  for (std::size_t k = 0; k < body_start; ++k) header += lines[k] + "\r\n";
  // The body starts after the empty line; without one, a blank line is put before it.
  std::size_t k = body_start;
  if (k < lines.size() && lines[k].empty()) ++k;
  for (; k < lines.size(); ++k) body += lines[k] + "\r\n";

  const auto fields = mime::parse_header(header);
  std::string added;
  if (!mime::find_field(fields, "From")) {
    added += "From: " +
             (args.full_name.empty() ? from : display_name(args.full_name) + " <" + from + ">") +
             "\r\n";
  }
  if (!mime::find_field(fields, "Date")) added += "Date: " + date + "\r\n";
  if (!mime::find_field(fields, "Message-ID")) {
    added += "Message-ID: <" + unique + "@" + host + ">\r\n";
  }
  out.recipients = args.recipients;
  if (args.extract_recipients) {
    for (const auto& f : fields) {
      const auto name = base::to_lower(f.name);
      if (name != "to" && name != "cc" && name != "bcc") continue;
      for (const auto& a : mime::parse_address_list(mime::unfold(f.value))) {
        if (!a.mailbox.empty() && !a.host.empty())
          out.recipients.push_back(a.mailbox + "@" + a.host);
      }
    }
  }
  out.text = smtp::remove_header_fields(added + header + "\r\n" + body, {"Bcc"});
  return out;
}

int sendmail_main(const std::vector<std::string>& argv) {
  auto args = parse_sendmail_args(argv);
  if (!args.error.empty()) {
    std::cerr << "sendmail: " << args.error << "\n";
    return ex_usage;
  }
  if (args.config_file.empty()) {
    const char* env = std::getenv("POSTINO_CONFIG");
    args.config_file = env && *env ? env : "/etc/postino/postino.toml";
  }
  config::Config cfg;
  if (auto errors = config::apply_file(cfg, args.config_file); !errors.empty()) {
    std::cerr << "sendmail: " << errors.front().str() << " (give the configuration with -C FILE "
              << "or POSTINO_CONFIG)\n";
    return ex_config;
  }
  // Who runs it, before becoming server.user.
  const passwd* pw = ::getpwuid(::getuid());
  const std::string login = pw ? pw->pw_name : "uid" + std::to_string(::getuid());
  const auto uid = ::getuid();
  if (auto err = become_server_user(cfg); !err.empty()) {
    std::cerr << "sendmail: " << err << "\n";
    return ex_tempfail;
  }
  const std::string input{std::istreambuf_iterator<char>(std::cin),
                          std::istreambuf_iterator<char>()};
  if (static_cast<std::int64_t>(input.size()) > cfg.smtp.max_message_bytes) {
    std::cerr << "sendmail: the message is larger than smtp.max_message_bytes ("
              << cfg.smtp.max_message_bytes << ")\n";
    return ex_dataerr;
  }
  auto opened = store::open_sqlite_store(store_options(cfg));
  if (!opened) {
    std::cerr << "sendmail: cannot open the store in " << cfg.server.data_dir << ": "
              << opened.error().detail << " (run it as root or as server.user)\n";
    return ex_tempfail;
  }
  auto& store = **opened;
  const auto hostname = cfg.effective_hostname();
  // A bare name ("root", as cron writes) belongs to the first domain served here.
  auto domains = store.list_domains();
  const std::string home = domains && !domains->empty() ? domains->front() : hostname;
  auto qualify = [&home](std::string a) {
    return a.find('@') == std::string::npos ? a + "@" + home : a;
  };
  std::string sender = args.sender.empty() ? login + "@" + home : args.sender;
  if (sender == "<>") sender.clear();
  if (!sender.empty()) sender = qualify(sender);

  const auto now = std::chrono::system_clock::now();
  auto message = prepare_message(input, args, sender.empty() ? "MAILER-DAEMON@" + home : sender,
                                 hostname, smtp::rfc5322_date(now), random_token());
  if (message.recipients.empty()) {
    std::cerr << "sendmail: no recipients (name them, or use -t to read To, Cc and Bcc)\n";
    return ex_usage;
  }
  store::Acceptance acceptance;
  store::NewQueueEntry remote;
  remote.sender = sender;
  std::set<std::string> seen;
  for (const auto& r : message.recipients) {
    const auto address = qualify(r);
    const auto at = address.rfind('@');
    const auto domain = base::to_lower(address.substr(at + 1));
    auto local = store.is_local_domain(domain);
    if (!local) {
      std::cerr << "sendmail: " << local.error().detail << "\n";
      return ex_tempfail;
    }
    std::vector<std::string> remotes;
    if (*local) {
      auto resolved = store.resolve(address);
      if (!resolved) {
        std::cerr << "sendmail: " << address << ": no such user here\n";
        return resolved.error().kind == store::ErrorKind::temporary ? ex_tempfail : ex_nouser;
      }
      for (const auto& a : resolved->local_accounts) {
        if (!seen.insert("local:" + a).second) continue;
        auto account = store.find_account(a);
        if (!account) {
          std::cerr << "sendmail: " << a << ": " << account.error().detail << "\n";
          return ex_tempfail;
        }
        acceptance.local_accounts.push_back(account->id);
      }
      remotes = resolved->remote;
    } else {
      remotes = {address};
    }
    for (const auto& a : remotes) {
      if (seen.insert("remote:" + a).second) remote.recipients.push_back({a, "", 0});
    }
  }
  const std::string received = "Received: by " + hostname + " (Postino sendmail, from userid " +
                               std::to_string(uid) + ");\r\n\t" + smtp::rfc5322_date(now) + "\r\n";
  acceptance.local_message = "Return-Path: <" + sender + ">\r\n" + received + message.text;
  if (!remote.recipients.empty()) {
    acceptance.remote = std::move(remote);
    acceptance.remote_message = received + message.text;
  }
  auto accepted = store.accept(acceptance);
  if (!accepted) {
    std::cerr << "sendmail: the message was not accepted: " << accepted.error().detail << "\n";
    const auto kind = accepted.error().kind;
    return kind == store::ErrorKind::invalid || kind == store::ErrorKind::too_big ? ex_dataerr
           : kind == store::ErrorKind::corrupt                                    ? ex_software
                                                                                  : ex_tempfail;
  }
  return 0;
}

}  // namespace postino::app
