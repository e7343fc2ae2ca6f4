// The one place that includes Boost.Asio for the network layer (also its precompiled
// header). Only net/ and, later, protocol server code include this file.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>

namespace postino::net {
namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;
}  // namespace postino::net
