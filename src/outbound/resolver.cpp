// c-ares on the Asio loop; see resolver.hpp. c-ares tells which sockets it wants watched
// (the socket-state callback); each gets an Asio descriptor that waits for readiness and
// hands the socket back to ares_process_fd. One timer runs c-ares's own timeouts.
#include "outbound/resolver.hpp"

#include <ares.h>
#include <arpa/nameser.h>
#include <netinet/in.h>

#include <boost/asio/any_completion_handler.hpp>
#include <cstring>
#include <map>
#include <mutex>

namespace postino::outbound {
namespace {

namespace asio = net::asio;
using boost::system::error_code;

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

bool is_temporary(int status) {
  return status != ARES_SUCCESS && status != ARES_ENODATA && status != ARES_ENOTFOUND;
}

}  // namespace

struct Resolver::Impl {
  // One socket c-ares asked us to watch. Handlers hold it by shared_ptr: c-ares may close
  // the socket while a wait is pending.
  struct Watch {
    explicit Watch(asio::any_io_executor ex, int fd) : descriptor(ex, fd) {}
    asio::posix::stream_descriptor descriptor;
    bool want_read = false, want_write = false;
    bool reading = false, writing = false;
    bool closed = false;
  };

  Impl(asio::any_io_executor ex, const ResolverOptions& options) : executor(ex), timer(ex) {
    init_library();
    ares_options o{};
    o.sock_state_cb = &Impl::on_socket_state;
    o.sock_state_cb_data = this;
    o.timeout = static_cast<int>(options.timeout.count());
    o.tries = options.tries;
    const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    if (int status = ares_init_options(&channel, &o, mask); status != ARES_SUCCESS) {
      channel = nullptr;
      error = std::string("cannot start the DNS resolver: ") + ares_strerror(status);
      return;
    }
    if (!options.servers.empty()) {
      if (int status = ares_set_servers_ports_csv(channel, options.servers.c_str());
          status != ARES_SUCCESS) {
        error = "bad DNS server list '" + options.servers + "': " + ares_strerror(status);
      }
    }
  }

  ~Impl() {
    // Pending lookups complete with ARES_EDESTRUCTION; their handlers are posted to a
    // loop that no longer runs them.
    if (channel) ares_destroy(channel);
    for (auto& [fd, w] : watches) forget(*w);
  }

  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<Impl*>(data);
    auto it = self->watches.find(fd);
    if (!readable && !writable) {
      if (it != self->watches.end()) {
        self->forget(*it->second);
        self->watches.erase(it);
      }
      return;
    }
    if (it == self->watches.end()) {
      it = self->watches.emplace(fd, std::make_shared<Watch>(self->executor, fd)).first;
    }
    auto w = it->second;
    w->want_read = readable != 0;
    w->want_write = writable != 0;
    self->arm(w);
  }

  // The socket belongs to c-ares: the descriptor lets go of it without closing it.
  static void forget(Watch& w) {
    w.closed = true;
    error_code ignored;
    w.descriptor.cancel(ignored);
    w.descriptor.release();
  }

  void arm(const std::shared_ptr<Watch>& w) {
    const int fd = w->descriptor.native_handle();
    if (w->want_read && !w->reading) {
      w->reading = true;
      w->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                               [this, w, fd](const error_code& ec) {
                                 w->reading = false;
                                 if (ec || w->closed) return;
                                 ares_process_fd(channel, fd, ARES_SOCKET_BAD);
                                 after_activity();
                                 if (!w->closed) arm(w);
                               });
    }
    if (w->want_write && !w->writing) {
      w->writing = true;
      w->descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                               [this, w, fd](const error_code& ec) {
                                 w->writing = false;
                                 if (ec || w->closed) return;
                                 ares_process_fd(channel, ARES_SOCKET_BAD, fd);
                                 after_activity();
                                 if (!w->closed) arm(w);
                               });
    }
  }

  // Re-aims the timer at c-ares's next timeout while lookups are pending.
  void after_activity() {
    if (pending == 0) {
      timer.cancel();
      return;
    }
    timeval tv{};
    timeval* next = ares_timeout(channel, nullptr, &tv);
    const auto wait =
        next ? std::chrono::seconds(next->tv_sec) + std::chrono::microseconds(next->tv_usec)
             : std::chrono::microseconds(std::chrono::seconds(1));
    timer.expires_after(wait);
    timer.async_wait([this](const error_code& ec) {
      if (ec) return;
      ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      after_activity();
    });
  }

  // Starts a lookup whose c-ares callback produces a T, and awaits it.
  template <class T, class Start>
  asio::awaitable<T> run(Start start) {
    using Handler = asio::any_completion_handler<void(T)>;
    struct Call {
      Impl* self;
      Handler handler;
      void finish(T value) {
        --self->pending;
        asio::post(self->executor,
                   [h = std::move(handler), v = std::move(value)]() mutable { std::move(h)(v); });
        delete this;
      }
    };
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(T)>(
        [this, start](Handler handler) {
          auto* call = new Call{this, std::move(handler)};
          ++pending;
          start(channel, call);
          after_activity();
        },
        asio::use_awaitable);
  }

  asio::any_io_executor executor;
  asio::steady_timer timer;
  ares_channel channel = nullptr;
  std::string error;
  std::map<int, std::shared_ptr<Watch>> watches;
  std::size_t pending = 0;
};

Resolver::Resolver(asio::any_io_executor executor, const ResolverOptions& options)
    : impl_(std::make_unique<Impl>(executor, options)) {}

Resolver::~Resolver() = default;

const std::string& Resolver::error() const {
  return impl_->error;
}

asio::awaitable<queue::MxAnswer> Resolver::lookup_mx(const std::string& domain) {
  using queue::MxAnswer;
  if (!impl_->channel) co_return MxAnswer{MxAnswer::Kind::temporary, {}};
  co_return co_await impl_->run<MxAnswer>([&domain](ares_channel channel, auto* call) {
    using Call = decltype(call);
    ares_query(
        channel, domain.c_str(), ns_c_in, ns_t_mx,
        [](void* arg, int status, int, unsigned char* buffer, int length) {
          auto* done = static_cast<Call>(arg);
          MxAnswer answer;
          if (status == ARES_ENODATA) {
            answer.kind = MxAnswer::Kind::no_records;
          } else if (status == ARES_ENOTFOUND) {
            answer.kind = MxAnswer::Kind::nxdomain;
          } else if (status != ARES_SUCCESS) {
            answer.kind = MxAnswer::Kind::temporary;
          } else {
            ares_mx_reply* replies = nullptr;
            const int parsed = ares_parse_mx_reply(buffer, length, &replies);
            if (parsed == ARES_ENODATA) {
              answer.kind = MxAnswer::Kind::no_records;
            } else if (parsed != ARES_SUCCESS) {
              answer.kind = MxAnswer::Kind::temporary;
            }
            for (auto* r = replies; r; r = r->next) {
              // The root name of a null MX (RFC 7505) comes back empty.
              std::string host = r->host && *r->host ? r->host : ".";
              answer.records.push_back({r->priority, std::move(host)});
            }
            if (replies) ares_free_data(replies);
          }
          done->finish(std::move(answer));
        },
        call);
  });
}

asio::awaitable<AddressAnswer> Resolver::lookup_addresses(const std::string& host) {
  if (!impl_->channel) co_return AddressAnswer{AddressAnswer::Kind::temporary, {}, impl_->error};
  co_return co_await impl_->run<AddressAnswer>([&host](ares_channel channel, auto* call) {
    using Call = decltype(call);
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    ares_getaddrinfo(
        channel, host.c_str(), nullptr, &hints,
        [](void* arg, int status, int, ares_addrinfo* info) {
          auto* done = static_cast<Call>(arg);
          AddressAnswer answer;
          if (status != ARES_SUCCESS) {
            answer.kind =
                is_temporary(status) ? AddressAnswer::Kind::temporary : AddressAnswer::Kind::none;
            answer.error = ares_strerror(status);
          } else {
            for (auto* node = info ? info->nodes : nullptr; node; node = node->ai_next) {
              if (node->ai_family == AF_INET) {
                const auto* sa = reinterpret_cast<const sockaddr_in*>(node->ai_addr);
                asio::ip::address_v4::bytes_type bytes;
                std::memcpy(bytes.data(), &sa->sin_addr, bytes.size());
                answer.addresses.emplace_back(asio::ip::address_v4(bytes));
              } else if (node->ai_family == AF_INET6) {
                const auto* sa = reinterpret_cast<const sockaddr_in6*>(node->ai_addr);
                asio::ip::address_v6::bytes_type bytes;
                std::memcpy(bytes.data(), &sa->sin6_addr, bytes.size());
                answer.addresses.emplace_back(asio::ip::address_v6(bytes));
              }
            }
            if (answer.addresses.empty()) {
              answer.kind = AddressAnswer::Kind::none;
              answer.error = "no address";
            }
          }
          if (info) ares_freeaddrinfo(info);
          done->finish(std::move(answer));
        },
        call);
  });
}

}  // namespace postino::outbound
