// See dns_lookup.hpp.
#include "app/dns_lookup.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <poll.h>

#include <algorithm>

namespace postino::app {
namespace {

struct Pending {
  bool done = false;
  int status = ARES_SUCCESS;
  std::vector<unsigned char> answer;
};

void on_answer(void* arg, int status, int, unsigned char* abuf, int alen) {
  auto* p = static_cast<Pending*>(arg);
  p->done = true;
  p->status = status;
  if (abuf && alen > 0) p->answer.assign(abuf, abuf + alen);
}

std::string dotted(const char* host) {
  std::string h = host ? host : "";
  if (h.empty() || h.back() != '.') h += '.';
  return h;
}

void parse(const std::string& type, const std::vector<unsigned char>& a, DnsAnswer& out) {
  const auto* buf = a.data();
  const int len = static_cast<int>(a.size());
  if (type == "TXT") {
    ares_txt_ext* txt = nullptr;
    if (ares_parse_txt_reply_ext(buf, len, &txt) != ARES_SUCCESS) return;
    for (auto* t = txt; t; t = t->next) {
      const std::string piece(reinterpret_cast<const char*>(t->txt), t->length);
      if (t->record_start || out.values.empty()) {
        out.values.push_back(piece);
      } else {
        out.values.back() += piece;
      }
    }
    ares_free_data(txt);
  } else if (type == "MX") {
    ares_mx_reply* mx = nullptr;
    if (ares_parse_mx_reply(buf, len, &mx) != ARES_SUCCESS) return;
    for (auto* m = mx; m; m = m->next) {
      out.values.push_back(std::to_string(m->priority) + " " + dotted(m->host));
    }
    ares_free_data(mx);
  } else if (type == "SRV") {
    ares_srv_reply* srv = nullptr;
    if (ares_parse_srv_reply(buf, len, &srv) != ARES_SUCCESS) return;
    for (auto* s = srv; s; s = s->next) {
      out.values.push_back(std::to_string(s->priority) + " " + std::to_string(s->weight) + " " +
                           std::to_string(s->port) + " " + dotted(s->host));
    }
    ares_free_data(srv);
  } else if (type == "A" || type == "AAAA") {
    hostent* host = nullptr;
    const int status = type == "A" ? ares_parse_a_reply(buf, len, &host, nullptr, nullptr)
                                   : ares_parse_aaaa_reply(buf, len, &host, nullptr, nullptr);
    if (status != ARES_SUCCESS || !host) return;
    char text[INET6_ADDRSTRLEN];
    for (char** addr = host->h_addr_list; addr && *addr; ++addr) {
      if (inet_ntop(host->h_addrtype, *addr, text, sizeof text)) out.values.push_back(text);
    }
    ares_free_hostent(host);
  }
}

}  // namespace

DnsLookup::DnsLookup(const std::string& servers, std::chrono::milliseconds timeout) {
  ares_library_init(ARES_LIB_INIT_ALL);
  ares_options o{};
  o.timeout = static_cast<int>(timeout.count());
  o.tries = 2;
  ares_channel channel = nullptr;
  if (int status = ares_init_options(&channel, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
      status != ARES_SUCCESS) {
    error_ = std::string("cannot start the DNS resolver: ") + ares_strerror(status);
    return;
  }
  channel_ = channel;
  if (!servers.empty()) {
    if (int status = ares_set_servers_ports_csv(channel, servers.c_str()); status != ARES_SUCCESS) {
      error_ = "bad DNS server list '" + servers + "': " + ares_strerror(status);
    }
  }
}

DnsLookup::~DnsLookup() {
  if (channel_) ares_destroy(static_cast<ares_channel>(channel_));
}

DnsAnswer DnsLookup::query(const std::string& name, const std::string& type) {
  DnsAnswer out;
  if (!channel_ || !error_.empty()) {
    out.kind = DnsAnswer::Kind::failed;
    out.error = error_;
    return out;
  }
  const int rrtype = type == "TXT"    ? ns_t_txt
                     : type == "MX"   ? ns_t_mx
                     : type == "SRV"  ? ns_t_srv
                     : type == "AAAA" ? ns_t_aaaa
                                      : ns_t_a;
  auto channel = static_cast<ares_channel>(channel_);
  Pending pending;
  ares_query(channel, name.c_str(), ns_c_in, rrtype, &on_answer, &pending);
  while (!pending.done) {
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    const int bits = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM);
    std::vector<pollfd> fds;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short events = 0;
      if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
      if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
      if (events) fds.push_back({socks[i], events, 0});
    }
    timeval tv{1, 0};
    const timeval* left = ares_timeout(channel, nullptr, &tv);
    const int ms = static_cast<int>(left->tv_sec * 1000 + left->tv_usec / 1000);
    ::poll(fds.data(), fds.size(), ms);
    if (fds.empty()) {
      ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      continue;
    }
    for (const auto& p : fds) {
      ares_process_fd(channel, (p.revents & (POLLIN | POLLERR | POLLHUP)) ? p.fd : ARES_SOCKET_BAD,
                      (p.revents & POLLOUT) ? p.fd : ARES_SOCKET_BAD);
    }
    if (std::none_of(fds.begin(), fds.end(), [](const pollfd& p) { return p.revents != 0; })) {
      ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
    }
  }
  if (pending.status == ARES_ENOTFOUND || pending.status == ARES_ENODATA) {
    out.kind = DnsAnswer::Kind::none;
    return out;
  }
  if (pending.status != ARES_SUCCESS) {
    out.kind = DnsAnswer::Kind::failed;
    out.error = ares_strerror(pending.status);
    return out;
  }
  parse(type, pending.answer, out);
  out.kind = out.values.empty() ? DnsAnswer::Kind::none : DnsAnswer::Kind::records;
  return out;
}

}  // namespace postino::app
