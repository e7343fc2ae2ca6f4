// Tests for endpoint and network parsing.
#include "config/endpoint.hpp"

#include <gtest/gtest.h>

namespace postino::config {
namespace {

TEST(Endpoint, ParsesIpv4AndBracketedIpv6) {
  auto e = parse_endpoint("127.0.0.1:2525");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->address, "127.0.0.1");
  EXPECT_EQ(e->port, 2525);
  e = parse_endpoint("[::1]:993");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->address, "::1");
  EXPECT_EQ(e->str(), "[::1]:993");
  EXPECT_EQ(parse_endpoint("0.0.0.0:0")->port, 0);
}

TEST(Endpoint, RejectsMalformed) {
  for (auto bad : {"", ":25", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:2x",
                   "::1:25", "[::1:25", "localhost:25", "[127.0.0.1]:25", "1.2.3:25"}) {
    EXPECT_FALSE(parse_endpoint(bad)) << bad;
  }
}

TEST(Route, ParsesDomainHostAndPort) {
  auto r = parse_route("Example.NET=mx.example.net:2526");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->domain, "example.net");
  EXPECT_EQ(r->host, "mx.example.net");
  EXPECT_EQ(r->port, 2526);
  r = parse_route("v6.test=[::1]:25");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->host, "::1");
  EXPECT_EQ(r->port, 25);
  EXPECT_FALSE(parse_route("example.net"));
  EXPECT_FALSE(parse_route("=127.0.0.1:25"));
  EXPECT_FALSE(parse_route("example.net=127.0.0.1"));
  EXPECT_FALSE(parse_route("example.net=127.0.0.1:0"));
  EXPECT_FALSE(parse_route("exa mple.net=127.0.0.1:25"));
  EXPECT_FALSE(parse_route("example.net=host/x:25"));
}

TEST(Network, ContainsAddressesInsideThePrefixOnly) {
  auto lo = parse_network("127.0.0.0/8");
  ASSERT_TRUE(lo);
  EXPECT_TRUE(lo->contains("127.1.2.3"));
  EXPECT_TRUE(lo->contains("::ffff:127.0.0.1"));
  EXPECT_FALSE(lo->contains("128.0.0.1"));
  EXPECT_FALSE(lo->contains("::1"));
  auto odd = parse_network("10.128.0.0/9");
  EXPECT_TRUE(odd->contains("10.200.0.1"));
  EXPECT_FALSE(odd->contains("10.127.0.1"));
  auto v6 = parse_network("::1");
  EXPECT_TRUE(v6->contains("::1"));
  EXPECT_FALSE(v6->contains("::2"));
  EXPECT_FALSE(parse_network("10.0.0.0/33"));
  EXPECT_FALSE(parse_network("nonsense/8"));
}

TEST(Protocol, NamesRoundTrip) {
  for (auto p : all_protocols) EXPECT_EQ(parse_protocol(to_string(p)), p);
  EXPECT_FALSE(parse_protocol("gopher"));
  EXPECT_EQ(parse_protocol("http"), Protocol::http);
  EXPECT_TRUE(is_implicit_tls(Protocol::imaps));
  EXPECT_TRUE(is_implicit_tls(Protocol::https));
  EXPECT_FALSE(is_implicit_tls(Protocol::http));
  EXPECT_FALSE(is_implicit_tls(Protocol::submission));
}

}  // namespace
}  // namespace postino::config
