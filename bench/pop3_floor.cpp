// pop3_floor: the least a POP3 server can do, to measure what the machine itself allows
// (bench/pop3_bench.py runs bench/pop3_load against it beside Postino and Dovecot). Not a
// server: it checks no password and holds no messages. Every RETR is answered with the
// same message of --size bytes, built once; USER and PASS with +OK; QUIT closes. Each
// connection has a thread reading with blocking calls, and the answers to all the commands
// one read brings are sent in one call: no store, no dot-stuffing, no event loop. What a
// client measures against it is the kernel's loopback and the wake-ups of the two threads
// on each round trip, which every server pays as well.
//
//   pop3_floor --size 5300    prints the port it listens on (127.0.0.1), then serves until
//                             killed

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace {

// A message of `size` bytes in lines of 78 characters and CRLF, none beginning with a dot.
std::string retr_reply(std::size_t size) {
  std::string body;
  while (body.size() < size) {
    const auto line = std::min<std::size_t>(78, size - body.size());
    if (line < 2) {
      body.append(size - body.size(), 'x');
      break;
    }
    body.append(line - 2, 'x');
    body += "\r\n";
  }
  if (body.size() < 2 || body.substr(body.size() - 2) != "\r\n") body += "\r\n";
  return "+OK " + std::to_string(body.size()) + " octets\r\n" + body + ".\r\n";
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void serve(int fd, const std::string& reply) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::string input, output;
  bool open = send_all(fd, "+OK floor\r\n");
  char chunk[65536];
  while (open) {
    const auto n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    input.append(chunk, static_cast<std::size_t>(n));
    std::size_t at = 0;
    for (std::size_t end; (end = input.find("\r\n", at)) != std::string::npos; at = end + 2) {
      const std::string_view line(input.data() + at, end - at);
      if (line.substr(0, 4) == "RETR") {
        output += reply;
      } else if (line.substr(0, 4) == "QUIT") {
        output += "+OK\r\n";
        open = false;
        break;
      } else if (line.substr(0, 4) == "USER" || line.substr(0, 4) == "PASS") {
        output += "+OK\r\n";
      } else {
        output += "-ERR not here\r\n";
      }
    }
    input.erase(0, at);
    if (!output.empty() && !send_all(fd, output)) break;
    output.clear();
  }
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t size = 5000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--size") == 0) size = std::strtoul(argv[i + 1], nullptr, 10);
  }
  const std::string reply = retr_reply(size);
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 128) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    std::perror("pop3_floor: listen");
    return 1;
  }
  std::printf("%d\n", ntohs(addr.sin_port));
  std::fflush(stdout);
  for (;;) {
    const int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) continue;
    std::thread(serve, fd, std::cref(reply)).detach();
  }
}
