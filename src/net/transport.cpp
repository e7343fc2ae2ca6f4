// Deadline-bounded reads and writes over TCP or TLS; see transport.hpp.
#include "net/transport.hpp"

#include <array>
#include <utility>

namespace postino::net {
namespace {

using namespace asio::experimental::awaitable_operators;
using boost::system::error_code;
constexpr auto token = asio::as_tuple(asio::use_awaitable);

}  // namespace

Transport::Transport(tcp::socket socket)
    : plain_(std::move(socket)),
      read_timer_(plain_.get_executor()),
      io_timer_(plain_.get_executor()) {}

tcp::socket& Transport::socket() {
  return tls_ ? tls_->next_layer() : plain_;
}

void Transport::stop() {
  stopped_ = true;
  read_timer_.cancel();
}

void Transport::wake() {
  woken_ = true;
  read_timer_.cancel();
}

asio::awaitable<Transport::Status> Transport::read_some(std::string& input, Duration timeout) {
  if (stopped_) co_return Status::stopped;
  if (std::exchange(woken_, false)) co_return Status::woken;
  std::array<char, 16384> buffer;
  read_timer_.expires_after(timeout);
  auto result = tls_ ? co_await (tls_->async_read_some(asio::buffer(buffer), token) ||
                                 read_timer_.async_wait(token))
                     : co_await (plain_.async_read_some(asio::buffer(buffer), token) ||
                                 read_timer_.async_wait(token));
  if (result.index() == 1) {
    auto [ec] = std::get<1>(result);
    if (ec != asio::error::operation_aborted) co_return Status::timed_out;
    if (stopped_) co_return Status::stopped;
    woken_ = false;
    co_return Status::woken;
  }
  auto [ec, n] = std::get<0>(result);
  if (ec) co_return Status::closed;
  input.append(buffer.data(), n);
  co_return Status::ok;
}

asio::awaitable<Transport::Status> Transport::write(std::string_view bytes, Duration timeout) {
  if (bytes.empty()) co_return Status::ok;
  io_timer_.expires_after(timeout);
  auto buffer = asio::buffer(bytes.data(), bytes.size());
  auto result =
      tls_ ? co_await (asio::async_write(*tls_, buffer, token) || io_timer_.async_wait(token))
           : co_await (asio::async_write(plain_, buffer, token) || io_timer_.async_wait(token));
  if (result.index() == 1) co_return Status::timed_out;
  auto [ec, n] = std::get<0>(result);
  co_return ec ? Status::closed : Status::ok;
}

asio::awaitable<Transport::Status> Transport::handshake(std::shared_ptr<asio::ssl::context> context,
                                                        Duration timeout) {
  co_return co_await start_tls(context, asio::ssl::stream_base::server, {}, timeout);
}

asio::awaitable<Transport::Status> Transport::client_handshake(
    const std::shared_ptr<asio::ssl::context>& context, const std::string& server_name,
    Duration timeout) {
  co_return co_await start_tls(context, asio::ssl::stream_base::client, server_name, timeout);
}

asio::awaitable<Transport::Status> Transport::start_tls(
    const std::shared_ptr<asio::ssl::context>& context, asio::ssl::stream_base::handshake_type role,
    std::string_view server_name, Duration timeout) {
  if (tls_ || !context) co_return Status::closed;
  context_ = context;
  tls_.emplace(std::move(plain_), *context_);
  if (!server_name.empty()) {
    SSL_set_tlsext_host_name(tls_->native_handle(), std::string(server_name).c_str());
  }
  io_timer_.expires_after(timeout);
  auto result = co_await (tls_->async_handshake(role, token) || io_timer_.async_wait(token));
  if (result.index() == 1) co_return Status::timed_out;
  auto [ec] = std::get<0>(result);
  co_return ec ? Status::closed : Status::ok;
}

asio::awaitable<void> Transport::close(Duration timeout) {
  if (tls_ && socket().is_open()) {
    io_timer_.expires_after(timeout);
    co_await (tls_->async_shutdown(token) || io_timer_.async_wait(token));
  }
  error_code ignored;
  socket().shutdown(tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
}

TlsInfo Transport::tls_info() const {
  if (!tls_) return {};
  SSL* ssl = const_cast<asio::ssl::stream<tcp::socket>&>(*tls_).native_handle();
  return {SSL_get_version(ssl), SSL_get_cipher_name(ssl)};
}

}  // namespace postino::net
