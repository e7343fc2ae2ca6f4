// Tests for the COMPRESS=DEFLATE streams, against zlib as the peer.
#include "net/deflate.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

namespace postino::net {
namespace {

// The peer: raw DEFLATE with zlib's defaults (a 32 KB window).
std::string peer_compress(std::string_view text) {
  z_stream s{};
  EXPECT_EQ(deflateInit2(&s, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(compressBound(static_cast<uLong>(text.size())) + 64, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  s.avail_in = static_cast<uInt>(text.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&s, Z_SYNC_FLUSH), Z_OK);
  out.resize(out.size() - s.avail_out);
  deflateEnd(&s);
  return out;
}

std::string peer_inflate(z_stream& s, std::string_view compressed) {
  std::string out(1 << 20, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  s.avail_in = static_cast<uInt>(compressed.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&s, Z_SYNC_FLUSH), Z_OK);
  out.resize(out.size() - s.avail_out);
  return out;
}

TEST(Deflate, WhatItCompressesThePeerReadsAtOnceWriteByWrite) {
  Deflate d;
  ASSERT_TRUE(d.is_ready());
  z_stream peer{};
  ASSERT_EQ(inflateInit2(&peer, -15), Z_OK);
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "* " + std::to_string(i) + " FETCH (FLAGS (\\Seen))\r\n";
  for (std::string_view reply : {std::string_view("a OK DEFLATE active\r\n"), std::string_view(big),
                                 std::string_view("b OK done\r\n")}) {
    std::string wire;
    ASSERT_TRUE(d.compress(reply, wire));
    EXPECT_LT(wire.size(), reply.size() + 16);
    EXPECT_EQ(peer_inflate(peer, wire), reply);  // flushed: nothing held back
  }
  inflateEnd(&peer);
}

TEST(Deflate, InflatesInBoundedStepsWhateverTheRatio) {
  Deflate d;
  const std::string bomb(10 << 20, 'a');  // 10 MB of one byte: about 10 KB compressed
  const auto compressed = peer_compress(bomb);
  EXPECT_LT(compressed.size(), 20000u);
  d.feed(compressed);
  std::string text;
  std::size_t steps = 0;
  while (d.has_pending()) {
    std::string piece;
    ASSERT_EQ(d.inflate(piece, 65536), Deflate::Result::ok);
    ASSERT_LE(piece.size(), 65536u);
    text += piece;
    ASSERT_LT(++steps, 1000u);
  }
  EXPECT_EQ(text, bomb);
}

TEST(Deflate, AnySplitOfTheInputGivesTheSameText) {
  const std::string text = "a LOGIN user pass\r\nb SELECT INBOX\r\nc FETCH 1:* (FLAGS)\r\n";
  const auto compressed = peer_compress(text);
  Deflate d;
  std::string out;
  for (const char c : compressed) {
    d.feed(std::string_view(&c, 1));
    while (d.has_pending()) ASSERT_EQ(d.inflate(out, 7), Deflate::Result::ok);
    ASSERT_EQ(d.inflate(out, 7), Deflate::Result::ok);
  }
  EXPECT_EQ(out, text);
}

TEST(Deflate, DataThatIsNotDeflateIsAnError) {
  Deflate d;
  d.feed("a LOGIN user pass\r\n");  // the client forgot it asked for compression
  std::string out;
  EXPECT_EQ(d.inflate(out, 65536), Deflate::Result::error);
}

}  // namespace
}  // namespace postino::net
