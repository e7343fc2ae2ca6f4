// pop3_load: retrieves every message of one or more maildrops over POP3, for any POP3
// server on plain TCP (Postino with pop3.allow_plaintext_loopback, Dovecot with
// disable_plaintext_auth = no). Not part of the server: it links nothing of Postino.
//
// Why not Python: a client in Python costs more per RETR than either server spends on it
// (measured: 100 to 500 microseconds of server CPU per 5 KB RETR, and Python's threads
// share one interpreter lock), so the figure was the client's. This one reads each reply
// into one buffer and looks for its end, and reports its own CPU time beside the result.
//
// One connection per user given, each on its own thread: connect, greeting, USER, PASS;
// once every connection has logged in the clock starts; each retrieves messages 1 to
// --messages (RETR, --window at a time: 1 is one at a time, more sends that many before
// reading their replies, as a client does when the server advertises PIPELINING), then
// QUIT; the clock stops when the last has its QUIT answered. A -ERR, a disconnect or a
// reply that does not end within --timeout seconds is an error (exit status 1).
//
//   pop3_load --port 110 --password pw --messages 50 --window 1 user1 user2 …
//
// Output, on stdout, one JSON object: seconds, messages, bytes (of the replies' bodies),
// errors, and the client's own CPU seconds (getrusage).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

struct Options {
  int port = 110;
  std::string password;
  int messages = 50;
  int window = 1;
  int timeout_seconds = 60;
  std::vector<std::string> users;
};

class Connection {
 public:
  Connection(int port, int timeout_seconds) : timeout_ms_(timeout_seconds * 1000) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    try {
      if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        throw std::runtime_error("connect: " + std::string(std::strerror(errno)));
      }
      int one = 1;
      ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      status();  // the greeting
    } catch (...) {
      ::close(fd_);  // the destructor does not run for an object never constructed
      throw;
    }
  }
  ~Connection() { ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send: " + std::string(std::strerror(errno)));
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // The status line; throws unless it is +OK.
  void status() {
    const auto at = find("\r\n");
    const std::string_view line(buffer_.data() + pos_, at - pos_);
    if (line.substr(0, 3) != "+OK") throw std::runtime_error("server said: " + std::string(line));
    pos_ = at + 2;
  }

  // A multi-line reply's body: its size as sent (dot-stuffed), up to the terminating line.
  std::size_t body() {
    while (buffer_.size() - pos_ < 3) fill();
    if (std::string_view(buffer_.data() + pos_, 3) == ".\r\n") {  // an empty body
      pos_ += 3;
      return 0;
    }
    const auto at = find("\r\n.\r\n");
    const auto size = at + 2 - pos_;
    pos_ = at + 5;
    return size;
  }

 private:
  // Where `marker` is, from the unread bytes on, reading more until it comes.
  std::size_t find(std::string_view marker) {
    std::size_t skip = 0;  // unread bytes known not to begin the marker
    for (;;) {
      const auto at = buffer_.find(marker, pos_ + skip);
      if (at != std::string::npos) return at;
      const auto unread = buffer_.size() - pos_;
      skip = unread >= marker.size() ? unread - marker.size() + 1 : 0;
      fill();  // may move the unread bytes to the front: pos_ + skip stays right
    }
  }

  void fill() {
    if (pos_ > 0 && pos_ >= buffer_.size() / 2) {  // what was read goes, now and then
      buffer_.erase(0, pos_);
      pos_ = 0;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms_) != 1) throw std::runtime_error("timed out");
    char chunk[65536];
    const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) throw std::runtime_error("closed");
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }

  int fd_ = -1;
  int timeout_ms_;
  std::string buffer_;
  std::size_t pos_ = 0;  // where the unread bytes of buffer_ begin
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(std::string(a) + " needs a value");
      return argv[++i];
    };
    if (a == "--port") {
      o.port = std::stoi(value());
    } else if (a == "--password") {
      o.password = value();
    } else if (a == "--messages") {
      o.messages = std::stoi(value());
    } else if (a == "--window") {
      o.window = std::max(1, std::stoi(value()));
    } else if (a == "--timeout") {
      o.timeout_seconds = std::stoi(value());
    } else if (a.rfind("--", 0) == 0) {
      throw std::runtime_error("unknown option " + std::string(a));
    } else {
      o.users.emplace_back(a);
    }
  }
  if (o.users.empty()) throw std::runtime_error("no users given");
  return o;
}

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pop3_load: %s\n", e.what());
    return 2;
  }
  std::atomic<std::size_t> messages{0}, bytes{0}, errors{0};
  std::atomic<bool> logged_in_ok{true};
  std::barrier start(static_cast<std::ptrdiff_t>(o.users.size() + 1));
  std::vector<std::thread> threads;
  for (const auto& user : o.users) {
    threads.emplace_back([&, user] {
      std::unique_ptr<Connection> c;
      try {
        c = std::make_unique<Connection>(o.port, o.timeout_seconds);
        c->send("USER " + user + "\r\n");
        c->status();
        c->send("PASS " + o.password + "\r\n");
        c->status();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "pop3_load: %s: login: %s\n", user.c_str(), e.what());
        logged_in_ok = false;
        ++errors;
        start.arrive_and_drop();
        return;
      }
      start.arrive_and_wait();
      try {
        for (int first = 1; first <= o.messages; first += o.window) {
          const int last = std::min(o.messages, first + o.window - 1);
          std::string commands;
          for (int i = first; i <= last; ++i) commands += "RETR " + std::to_string(i) + "\r\n";
          c->send(commands);
          for (int i = first; i <= last; ++i) {
            c->status();
            bytes += c->body();
            ++messages;
          }
        }
        c->send("QUIT\r\n");
        c->status();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "pop3_load: %s: %s\n", user.c_str(), e.what());
        ++errors;
      }
    });
  }
  start.arrive_and_wait();
  const auto began = std::chrono::steady_clock::now();
  const double cpu_before = cpu_seconds();
  for (auto& t : threads) t.join();
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - began;
  std::printf(
      "{\"seconds\": %.6f, \"messages\": %zu, \"bytes\": %zu, \"errors\": %zu, "
      "\"client_cpu_seconds\": %.3f}\n",
      took.count(), messages.load(), bytes.load(), errors.load(), cpu_seconds() - cpu_before);
  return errors > 0 || !logged_in_ok ? 1 : 0;
}
