// Deadline-bounded reads and writes over TCP or TLS; see transport.hpp.
#include "net/transport.hpp"

#include "net/tls_context.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <array>
#include <utility>

namespace postino::net {
namespace {

using namespace asio::experimental::awaitable_operators;
using boost::system::error_code;
constexpr auto token = asio::as_tuple(asio::use_awaitable);

// Reads land here and are appended to the session's input at once, before anything can
// suspend: one buffer per event-loop thread serves every connection on it.
char* read_buffer() {
  thread_local std::array<char, 16384> buffer;
  return buffer.data();
}
constexpr std::size_t read_buffer_size = 16384;

}  // namespace

Transport::Transport(tcp::socket socket)
    : plain_(std::move(socket)),
      read_timer_(plain_.get_executor()),
      io_timer_(plain_.get_executor()) {
  error_code ignored;
  plain_.non_blocking(true, ignored);
  // Each response is written whole, sometimes in two writes (a command's reply after its
  // work): with Nagle's algorithm the second waited for the client's delayed ACK (40 ms).
  plain_.set_option(tcp::no_delay(true), ignored);
}

void Transport::acknowledge_now() {
  // Not sticky: the kernel goes back to delayed ACKs by itself, so it is set per read.
  // Setting it with an ACK pending sends that ACK (tcp_sock_set_quickack).
  const int one = 1;
  ::setsockopt(plain_.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

void Transport::stop() {
  stopped_ = true;
  read_timer_.cancel();
}

void Transport::wake() {
  woken_ = true;
  read_timer_.cancel();
}

asio::awaitable<Transport::Status> Transport::wait(bool for_write, asio::steady_timer& timer) {
  const auto what = for_write ? tcp::socket::wait_write : tcp::socket::wait_read;
  auto result = co_await (plain_.async_wait(what, token) || timer.async_wait(token));
  if (result.index() == 1) {
    auto [ec] = std::get<1>(result);
    if (ec != asio::error::operation_aborted) co_return Status::timed_out;
    if (&timer == &read_timer_) {
      if (stopped_) co_return Status::stopped;
      if (std::exchange(woken_, false)) co_return Status::woken;
    }
    co_return Status::closed;
  }
  auto [ec] = std::get<0>(result);
  co_return ec ? Status::closed : Status::ok;
}

Transport::Want Transport::want(int result) const {
  switch (SSL_get_error(ssl_.get(), result)) {
    case SSL_ERROR_WANT_READ:
      return Want::read;
    case SSL_ERROR_WANT_WRITE:
      return Want::write;
    default:
      ERR_clear_error();  // the connection's error must not show up on another one
      return Want::done;
  }
}

bool Transport::start_compression() {
  auto d = std::make_unique<Deflate>();
  if (!d->is_ready()) return false;
  deflate_ = std::move(d);
  return true;
}

asio::awaitable<Transport::Status> Transport::read_some(std::string& input, Duration timeout) {
  if (!deflate_) co_return co_await read_raw(input, timeout);
  for (;;) {
    // What was read before is inflated a buffer's worth at a time (deflate.hpp).
    if (deflate_->has_pending()) {
      const auto before = input.size();
      if (deflate_->inflate(input, read_buffer_size) == Deflate::Result::error)
        co_return Status::closed;
      if (input.size() > before) co_return Status::ok;
    }
    std::string compressed;
    if (auto status = co_await read_raw(compressed, timeout); status != Status::ok)
      co_return status;
    deflate_->feed(compressed);
  }
}

asio::awaitable<Transport::Status> Transport::read_raw(std::string& input, Duration timeout) {
  if (stopped_) co_return Status::stopped;
  if (std::exchange(woken_, false)) co_return Status::woken;
  read_timer_.expires_after(timeout);
  for (;;) {
    bool for_write = false;
    if (ssl_) {
      ERR_clear_error();
      const int n = SSL_read(ssl_.get(), read_buffer(), static_cast<int>(read_buffer_size));
      if (n > 0) {
        input.append(read_buffer(), static_cast<std::size_t>(n));
        co_return Status::ok;
      }
      const auto w = want(n);
      if (w == Want::done) co_return Status::closed;
      for_write = w == Want::write;
    } else {
      error_code ec;
      const auto n = plain_.read_some(asio::buffer(read_buffer(), read_buffer_size), ec);
      if (!ec) {
        input.append(read_buffer(), n);
        co_return Status::ok;
      }
      if (ec != asio::error::would_block && ec != asio::error::try_again) co_return Status::closed;
    }
    if (auto status = co_await wait(for_write, read_timer_); status != Status::ok) co_return status;
  }
}

asio::awaitable<Transport::Status> Transport::write(std::string_view bytes, Duration timeout) {
  if (!deflate_ || bytes.empty()) co_return co_await write_raw(bytes, timeout);
  std::string compressed;
  if (!deflate_->compress(bytes, compressed)) co_return Status::closed;
  co_return co_await write_raw(compressed, timeout);
}

asio::awaitable<Transport::Status> Transport::write_raw(std::string_view bytes, Duration timeout) {
  io_timer_.expires_after(timeout);
  while (!bytes.empty()) {
    bool for_write = true;
    if (ssl_) {
      ERR_clear_error();
      const int n = SSL_write(ssl_.get(), bytes.data(),
                              static_cast<int>(std::min<std::size_t>(bytes.size(), 1 << 30)));
      if (n > 0) {
        bytes.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      const auto w = want(n);
      if (w == Want::done) co_return Status::closed;
      for_write = w == Want::write;
    } else {
      error_code ec;
      const auto n = plain_.write_some(asio::buffer(bytes.data(), bytes.size()), ec);
      if (!ec) {
        bytes.remove_prefix(n);
        continue;
      }
      if (ec != asio::error::would_block && ec != asio::error::try_again) co_return Status::closed;
    }
    if (auto status = co_await wait(for_write, io_timer_); status != Status::ok) co_return status;
  }
  co_return Status::ok;
}

asio::awaitable<Transport::Status> Transport::handshake(std::shared_ptr<asio::ssl::context> context,
                                                        Duration timeout,
                                                        const std::string* protocol) {
  co_return co_await start_tls(context, true, {}, timeout, protocol);
}

asio::awaitable<Transport::Status> Transport::client_handshake(
    const std::shared_ptr<asio::ssl::context>& context, const std::string& server_name,
    Duration timeout) {
  co_return co_await start_tls(context, false, server_name, timeout);
}

asio::awaitable<Transport::Status> Transport::start_tls(
    const std::shared_ptr<asio::ssl::context>& context, bool is_server,
    std::string_view server_name, Duration timeout, const std::string* protocol) {
  if (ssl_ || !context) co_return Status::closed;
  context_ = context;
  ssl_.reset(SSL_new(context_->native_handle()));
  if (!ssl_ || SSL_set_fd(ssl_.get(), plain_.native_handle()) != 1) co_return Status::closed;
  // Writes retried after WANT_WRITE pass the same bytes; partial writes go on from there.
  SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (is_server) {
    SSL_set_accept_state(ssl_.get());
    if (protocol) expect_application_protocol(ssl_.get(), *protocol);
  } else {
    SSL_set_connect_state(ssl_.get());
    if (!server_name.empty()) {
      SSL_set_tlsext_host_name(ssl_.get(), std::string(server_name).c_str());
    }
  }
  io_timer_.expires_after(timeout);
  for (;;) {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_.get());
    if (r == 1) co_return Status::ok;
    const auto w = want(r);
    if (w == Want::done) co_return Status::closed;
    if (auto status = co_await wait(w == Want::write, io_timer_); status != Status::ok)
      co_return status;
  }
}

asio::awaitable<void> Transport::close(Duration timeout) {
  if (ssl_ && plain_.is_open()) {
    // close_notify, without waiting for the peer's (RFC 8446 §6.1 allows it).
    io_timer_.expires_after(timeout);
    for (;;) {
      ERR_clear_error();
      const int r = SSL_shutdown(ssl_.get());
      if (r >= 0) break;
      const auto w = want(r);
      if (w == Want::done) break;
      if (co_await wait(w == Want::write, io_timer_) != Status::ok) break;
    }
  }
  error_code ignored;
  plain_.shutdown(tcp::socket::shutdown_both, ignored);
  plain_.close(ignored);
}

TlsInfo Transport::tls_info() const {
  if (!ssl_) return {};
  return {SSL_get_version(ssl_.get()), SSL_get_cipher_name(ssl_.get())};
}

}  // namespace postino::net
