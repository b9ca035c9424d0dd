#include "bridge/tunnel/protocol.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace devx::bridge::tunnel {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytes_of(std::string_view text) { return Bytes(text.begin(), text.end()); }

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

StreamHeader v4_header() {
  StreamHeader header;
  header.service_port = 8080;
  header.target_port = 3000;
  header.peer.family = 4;
  header.peer.bytes = {10, 1, 2, 3};
  header.peer.port = 51234;
  return header;
}

TEST(TunnelProtocol, PreambleGoldenBytes) {
  const Bytes expected = concat(bytes_of("DEVXBR"), Bytes{0x01, 0x00, 0x03, 'a', 'b', 'c'});
  EXPECT_EQ(encode_preamble("abc"), expected);
}

TEST(TunnelProtocol, PreambleRoundTripsAHexToken) {
  const std::string token(64, 'f');
  const auto encoded = encode_preamble(token);
  ASSERT_EQ(encoded.size(), 9u + 64u);
  const auto decoded = decode_preamble(encoded);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.value.token, token);
  EXPECT_EQ(decoded.size, encoded.size());
}

TEST(TunnelProtocol, PreambleDecodeLeavesTrailingBytes) {
  const auto encoded = concat(encode_preamble("tok"), Bytes{0, 1, 2});
  const auto decoded = decode_preamble(encoded);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.size, encoded.size() - 3);
}

TEST(TunnelProtocol, EveryStrictPrefixOfAPreambleIsIncomplete) {
  const auto encoded = encode_preamble("0123456789abcdef");
  for (std::size_t n = 0; n < encoded.size(); ++n) {
    EXPECT_EQ(decode_preamble(std::span(encoded.data(), n)).error, DecodeError::incomplete) << n;
  }
}

TEST(TunnelProtocol, PreambleRejectsBadMagicAsSoonAsItDiffers) {
  EXPECT_EQ(decode_preamble(bytes_of("G")).error, DecodeError::bad_magic);
  EXPECT_EQ(decode_preamble(bytes_of("DEVXBX")).error, DecodeError::bad_magic);
  // A stray HTTP request or a Yamux frame on the control port is refused, not waited on.
  EXPECT_EQ(decode_preamble(bytes_of("GET / HTTP/1.1\r\n")).error, DecodeError::bad_magic);
  EXPECT_EQ(decode_preamble(Bytes{0, 1, 0, 0}).error, DecodeError::bad_magic);
}

TEST(TunnelProtocol, PreambleReportsAnUnknownVersionBeforeItsLength) {
  const auto encoded = encode_preamble("tok", 2);
  EXPECT_EQ(decode_preamble(std::span(encoded.data(), 7)).error, DecodeError::unsupported_version);
  EXPECT_EQ(decode_preamble(encode_preamble("tok", 0)).error, DecodeError::unsupported_version);
}

TEST(TunnelProtocol, PreambleBoundsTheTokenLength) {
  EXPECT_EQ(decode_preamble(concat(bytes_of("DEVXBR"), Bytes{1, 0, 0})).error,
            DecodeError::bad_length);
  // 0x0201 = 513 > kMaxTokenLength: refused without waiting for 513 bytes.
  EXPECT_EQ(decode_preamble(concat(bytes_of("DEVXBR"), Bytes{1, 0x02, 0x01})).error,
            DecodeError::bad_length);
  EXPECT_THROW(encode_preamble(std::string(kMaxTokenLength + 1, 'x')), std::invalid_argument);
  EXPECT_TRUE(decode_preamble(encode_preamble(std::string(kMaxTokenLength, 'x'))).ok());
}

TEST(TunnelProtocol, ReplyGoldenBytes) {
  EXPECT_EQ(encode_reply({ReplyStatus::ok, ""}), (Bytes{0, 0, 0}));
  EXPECT_EQ(encode_reply({ReplyStatus::bad_token, "no"}), (Bytes{1, 0, 2, 'n', 'o'}));
  EXPECT_EQ(encode_reply({ReplyStatus::unsupported_version, ""}), (Bytes{2, 0, 0}));
}

TEST(TunnelProtocol, ReplyDecodes) {
  const auto decoded = decode_reply(Bytes{1, 0, 3, 'b', 'a', 'd', 0xff});
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.value.status, ReplyStatus::bad_token);
  EXPECT_EQ(decoded.value.message, "bad");
  EXPECT_EQ(decoded.size, 6u);
}

TEST(TunnelProtocol, ReplyRejections) {
  EXPECT_EQ(decode_reply(Bytes{}).error, DecodeError::incomplete);
  EXPECT_EQ(decode_reply(Bytes{0, 0}).error, DecodeError::incomplete);
  EXPECT_EQ(decode_reply(Bytes{0, 0, 2, 'x'}).error, DecodeError::incomplete);
  EXPECT_EQ(decode_reply(Bytes{3}).error, DecodeError::bad_status);
  EXPECT_EQ(decode_reply(Bytes{'H', 'T', 'T'}).error, DecodeError::bad_status);
  EXPECT_EQ(decode_reply(Bytes{0, 0x04, 0x01}).error, DecodeError::bad_length);
}

TEST(TunnelProtocol, StreamHeaderV4GoldenBytes) {
  const Bytes expected{0x01, 0x1f, 0x90, 0x0b, 0xb8, 0x04, 10, 1, 2, 3, 0xc8, 0x22};
  EXPECT_EQ(encode_stream_header(v4_header()), expected);
  const auto decoded = decode_stream_header(expected);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.value, v4_header());
  EXPECT_EQ(decoded.size, 12u);
  EXPECT_EQ(decoded.value.peer.to_string(), "10.1.2.3:51234");
}

TEST(TunnelProtocol, StreamHeaderV6GoldenBytes) {
  auto header = v4_header();
  header.peer.family = 6;
  header.peer.bytes = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  Bytes expected{0x01, 0x1f, 0x90, 0x0b, 0xb8, 0x06};
  expected.insert(expected.end(), header.peer.bytes.begin(), header.peer.bytes.end());
  expected.insert(expected.end(), {0xc8, 0x22});
  ASSERT_EQ(expected.size(), 24u);
  EXPECT_EQ(encode_stream_header(header), expected);
  const auto decoded = decode_stream_header(expected);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.value, header);
  EXPECT_EQ(decoded.value.peer.to_string(), "[fd00::1]:51234");
}

TEST(TunnelProtocol, StreamHeaderStrictPrefixesAreIncomplete) {
  const auto encoded = encode_stream_header(v4_header());
  for (std::size_t n = 0; n < encoded.size(); ++n) {
    EXPECT_EQ(decode_stream_header(std::span(encoded.data(), n)).error, DecodeError::incomplete)
        << n;
  }
}

TEST(TunnelProtocol, StreamHeaderRejections) {
  auto encoded = encode_stream_header(v4_header());
  auto unknown_version = encoded;
  unknown_version[0] = 2;
  EXPECT_EQ(decode_stream_header(unknown_version).error, DecodeError::unsupported_version);
  auto bad_family = encoded;
  bad_family[5] = 5;
  EXPECT_EQ(decode_stream_header(bad_family).error, DecodeError::bad_family);
  auto zero_service_port = encoded;
  zero_service_port[1] = zero_service_port[2] = 0;
  EXPECT_EQ(decode_stream_header(zero_service_port).error, DecodeError::bad_port);
  auto zero_target_port = encoded;
  zero_target_port[3] = zero_target_port[4] = 0;
  EXPECT_EQ(decode_stream_header(zero_target_port).error, DecodeError::bad_port);

  auto header = v4_header();
  header.peer.family = 5;
  EXPECT_THROW(encode_stream_header(header), std::invalid_argument);
  header = v4_header();
  header.service_port = 0;
  EXPECT_THROW(encode_stream_header(header), std::invalid_argument);
}

TEST(TunnelProtocol, TokenComparison) {
  EXPECT_TRUE(token_equals("abcd", "abcd"));
  EXPECT_FALSE(token_equals("abcd", "abce"));
  EXPECT_FALSE(token_equals("abcd", "abc"));
  EXPECT_FALSE(token_equals("abcd", "abcde"));
  EXPECT_FALSE(token_equals("abc", std::string_view("abc\0", 4)));
  // An agent started without a token must not accept an empty one.
  EXPECT_FALSE(token_equals("", ""));
}

}  // namespace
}  // namespace devx::bridge::tunnel
