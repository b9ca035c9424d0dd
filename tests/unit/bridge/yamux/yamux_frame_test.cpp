#include <gtest/gtest.h>

#include <vector>

#include "bridge/yamux/frame.hpp"

namespace devx::bridge::yamux {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

TEST(YamuxFrame, EncodesBigEndianHeaderExactly) {
  const auto encoded = encode({.type = FrameType::window_update,
                               .flags = flags::syn | flags::ack,
                               .stream_id = 0x01020304,
                               .length = 0x00FC0000});
  const auto expected = bytes({0, 1, 0, 3, 1, 2, 3, 4, 0, 0xFC, 0, 0});
  EXPECT_EQ(std::vector<std::byte>(encoded.begin(), encoded.end()), expected);
}

TEST(YamuxFrame, EncodesGoAwayAndPing) {
  const auto go_away = encode({.type = FrameType::go_away, .stream_id = 0, .length = 1});
  EXPECT_EQ(std::vector<std::byte>(go_away.begin(), go_away.end()),
            bytes({0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
  const auto ping =
      encode({.type = FrameType::ping, .flags = flags::ack, .stream_id = 0, .length = 0xDEADBEEF});
  EXPECT_EQ(std::vector<std::byte>(ping.begin(), ping.end()),
            bytes({0, 2, 0, 2, 0, 0, 0, 0, 0xDE, 0xAD, 0xBE, 0xEF}));
}

TEST(YamuxFrame, DecodesWhatItEncodes) {
  const FrameHeader header{.type = FrameType::data,
                           .flags = flags::fin | flags::rst,
                           .stream_id = 0xFFFFFFFE,
                           .length = 65536};
  const auto encoded = encode(header);
  const auto decoded = decode(encoded);
  ASSERT_TRUE(std::holds_alternative<FrameHeader>(decoded));
  EXPECT_EQ(std::get<FrameHeader>(decoded), header);
  EXPECT_TRUE(std::get<FrameHeader>(decoded).has(flags::fin));
  EXPECT_FALSE(std::get<FrameHeader>(decoded).has(flags::syn));
}

TEST(YamuxFrame, ShortInputNeedsMoreBytes) {
  const auto partial = bytes({0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0});
  EXPECT_TRUE(std::holds_alternative<std::monostate>(decode(partial)));
}

TEST(YamuxFrame, RejectsUnknownVersionAndType) {
  const auto bad_version = bytes({1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0});
  const auto bad_type = bytes({0, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0});
  ASSERT_TRUE(std::holds_alternative<DecodeError>(decode(bad_version)));
  EXPECT_EQ(std::get<DecodeError>(decode(bad_version)), DecodeError::bad_version);
  ASSERT_TRUE(std::holds_alternative<DecodeError>(decode(bad_type)));
  EXPECT_EQ(std::get<DecodeError>(decode(bad_type)), DecodeError::bad_type);
}

}  // namespace
}  // namespace devx::bridge::yamux
