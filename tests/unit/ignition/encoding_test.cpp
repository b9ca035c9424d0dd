// Data-URL encodings chosen as Butane chooses them, the Go-compatible JSON writer, and the codecs.
#include "vm/ignition/encoding.hpp"
#include "test_support.hpp"
#include "vm/ignition/go_json.hpp"

#include <gtest/gtest.h>

namespace devx {
namespace {

namespace json = boost::json;
using namespace devx::ignition;

TEST(IgnitionEncoding, PathEscapeKeepsWhatGoKeeps) {
  EXPECT_EQ(path_escape("az-AZ_09.~$&+:=@"), "az-AZ_09.~$&+:=@");
  EXPECT_EQ(path_escape("a b/c;d,e?f#g%h\n!*'()"),
            "a%20b%2Fc%3Bd%2Ce%3Ff%23g%25h%0A%21%2A%27%28%29");
  EXPECT_EQ(path_escape("\xc3\xa9"), "%C3%A9");
  EXPECT_EQ(percent_unescape(path_escape(std::string("\0\x01\xff z", 5))),
            std::string("\0\x01\xff z", 5));
  EXPECT_FALSE(percent_unescape("%4"));
  EXPECT_FALSE(percent_unescape("%zz"));
}

TEST(IgnitionEncoding, Base64RoundTripsAndRejectsNonCanonical) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  EXPECT_FALSE(base64_decode("Zm9vY"));
  EXPECT_FALSE(base64_decode("Zm=vYg=="));
  EXPECT_FALSE(base64_decode("Zm9v!g=="));
}

TEST(IgnitionEncoding, ShortTextIsPercentEscaped) {
  const DataUrl url = make_data_url("fs.inotify.max_user_watches=524288\n", false);
  EXPECT_EQ(url.source, "data:,fs.inotify.max_user_watches=524288%0A");
  EXPECT_EQ(url.compression, "");
}

TEST(IgnitionEncoding, BinaryIsBase64WhenShorter) {
  const DataUrl url = make_data_url(std::string("\x01\x02\x03\x04\x05\x06", 6), false);
  EXPECT_EQ(url.source, "data:;base64,AQIDBAUG");
  EXPECT_EQ(url.compression, "");
}

TEST(IgnitionEncoding, CompressibleTextIsGzipped) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "the same line again and again\n";
  const DataUrl url = make_data_url(text, false);
  EXPECT_EQ(url.compression, "gzip");
  ASSERT_EQ(url.source.rfind("data:;base64,", 0), 0u);
  const std::optional<std::string> gz = decode_data_url(url.source);
  ASSERT_TRUE(gz);
  EXPECT_EQ(gzip_decompress(*gz, 1 << 20), text);
}

TEST(IgnitionEncoding, GzipMustWinByMoreThanTheCompressionField) {
  // The gzip form is only chosen when len(gz) + len("gzip") < len(best so far).
  for (std::size_t n = 1; n < 200; ++n) {
    const std::string text(n, 'a');
    const DataUrl url = make_data_url(text, false);
    const std::string plain = "," + path_escape(text);
    const std::string gz = ";base64," + base64_encode(gzip_compress(text));
    if (gz.size() + 4 < plain.size())
      EXPECT_EQ(url.compression, "gzip") << n;
    else
      EXPECT_EQ(url.source, "data:" + plain) << n;
  }
}

TEST(IgnitionEncoding, DeclaredCompressionIsNotCompressedAgain) {
  std::string text(400, 'z');
  const DataUrl url = make_data_url(text, true);
  EXPECT_FALSE(url.compression.has_value());
  EXPECT_EQ(decode_data_url(url.source), text);
}

TEST(IgnitionEncoding, DecodeDataUrlForms) {
  EXPECT_EQ(decode_data_url("data:,a%20b"), "a b");
  EXPECT_EQ(decode_data_url("data:;base64,aGk="), "hi");
  EXPECT_EQ(decode_data_url("data:text/plain;charset=utf-8;base64,aGk="), "hi");
  EXPECT_EQ(decode_data_url("DATA:,x"), "x");
  EXPECT_FALSE(decode_data_url("data:no-comma"));
  EXPECT_FALSE(decode_data_url("https://x/,"));
  EXPECT_FALSE(decode_data_url("data:;base64,!!"));
}

TEST(IgnitionEncoding, GzipDecompressBoundsAndRejectsGarbage) {
  const std::string big(100000, 'x');
  EXPECT_THROW(gzip_decompress(gzip_compress(big), 1000), Error);
  EXPECT_THROW(gzip_decompress("not gzip", 1000), Error);
  const std::string gz = gzip_compress("hello");
  EXPECT_THROW(gzip_decompress(gz.substr(0, gz.size() - 4), 1000), Error);
}

TEST(GoJson, EscapesLikeEncodingJson) {
  const json::value value =
      json::string("<a href=\"x\">&amp;</a>\x01\x1f\t\n\r\\ \xe2\x80\xa8\xe2\x80\xa9 \x7f");
  EXPECT_EQ(go_marshal(value, false),
            R"("\u003ca href=\"x\"\u003e\u0026amp;\u003c/a\u003e\u0001\u001f\t\n\r\\ \u2028\u2029 )"
            "\x7f\"");
}

TEST(GoJson, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(go_marshal(json::string("a\xff"
                                    "b\xc3"),
                       false),
            R"("a\ufffdb\ufffd")");
  EXPECT_EQ(go_marshal(json::string("\xed\xa0\x80"), false),
            R"("\ufffd\ufffd\ufffd")");                                         // surrogate
  EXPECT_EQ(go_marshal(json::string("\xc0\xaf"), false), R"("\ufffd\ufffd")");  // overlong
  EXPECT_EQ(go_marshal(json::string("\xf0\x9f\x98\x80 \xc3\xa9"), false),
            "\"\xf0\x9f\x98\x80 \xc3\xa9\"");
}

TEST(GoJson, IndentMatchesMarshalIndent) {
  json::object inner{{"b", json::array{1, true}}, {"a", json::object{}}};
  const json::value value = json::object{{"z", "s"}, {"inner", inner}, {"e", json::array{}}};
  EXPECT_EQ(go_marshal(value, true),
            "{\n  \"z\": \"s\",\n  \"inner\": {\n    \"b\": [\n      1,\n      true\n    ],\n"
            "    \"a\": {}\n  },\n  \"e\": []\n}");
  EXPECT_EQ(go_marshal(value, false), R"({"z":"s","inner":{"b":[1,true],"a":{}},"e":[]})");
}

}  // namespace
}  // namespace devx
