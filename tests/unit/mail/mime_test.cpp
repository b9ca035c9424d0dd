// The parsed view of caught messages: header decoding, transfer encodings, multipart bodies.
#include "mail/mime.hpp"

#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include "core/json.hpp"

namespace devx::mail {
namespace {

TEST(MailMime, EncodedWordsAreDecodedAndAdjacentOnesJoined) {
  EXPECT_EQ(decode_header_value("=?utf-8?B?R3LDvMOfZQ==?= from Bob"), "Grüße from Bob");
  EXPECT_EQ(decode_header_value("=?iso-8859-1?Q?caf=E9_cr=E8me?="), "café crème");
  EXPECT_EQ(decode_header_value("=?utf-8?q?a?= =?utf-8?q?b?="), "ab");
  EXPECT_EQ(decode_header_value("plain = text ?= here"), "plain = text ?= here");
  EXPECT_EQ(decode_header_value("\"=?UTF-8?B?w6k=?=\" <e@example.com>"), "\"é\" <e@example.com>");
}

TEST(MailMime, HeadersAreUnfoldedInOrder) {
  std::size_t body = 0;
  const auto fields = parse_header_block(
      "Subject: a long\r\n  folded subject\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\nbody\r\n", body);
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0].second, "a long folded subject");
  EXPECT_EQ(fields[2], (std::pair<std::string, std::string>{"X-Dup", "2"}));
  EXPECT_EQ(
      body,
      std::string("Subject: a long\r\n  folded subject\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n").size());
}

TEST(MailMime, TransferEncodingsAreUndone) {
  EXPECT_EQ(decode_transfer_encoding("caf=C3=A9 soft=\r\nbreak=3D", "quoted-printable"),
            "café softbreak=");
  EXPECT_EQ(decode_transfer_encoding("aGVs\r\nbG8=\r\n", "base64"), "hello");
  EXPECT_EQ(decode_transfer_encoding("as is", "8bit"), "as is");
}

TEST(MailMime, NestedMultipartGivesTextHtmlAndAttachments) {
  const std::string message =
      "From: A <a@example.com>\r\nTo: b@example.com\r\nSubject: =?utf-8?Q?Hi_=E2=9C=93?=\r\n"
      "Message-ID: <1@example.com>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
      "preamble\r\n--outer\r\n"
      "Content-Type: multipart/alternative; boundary=inner\r\n\r\n"
      "--inner\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\nHello =E2=9C=93\r\n"
      "--inner\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello</p>\r\n--inner--\r\n"
      "--outer\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\n"
      "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--outer--\r\nepilogue\r\n";
  const auto doc = parse_message(message);
  EXPECT_EQ(core::string_field(doc.at("headers").as_object(), "subject"), "Hi ✓");
  EXPECT_EQ(core::string_field(doc.at("headers").as_object(), "message_id"), "<1@example.com>");
  EXPECT_EQ(core::string_field(doc, "text"), "Hello ✓");
  EXPECT_EQ(core::string_field(doc, "html"), "<p>Hello</p>");
  const auto& parts = doc.at("parts").as_array();
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(core::string_field(parts[2].as_object(), "filename"), "résumé.pdf");
  EXPECT_EQ(core::string_field(parts[2].as_object(), "disposition"), "attachment");
  EXPECT_EQ(core::int_field(parts[2].as_object(), "size"), 4);
}

TEST(MailMime, APlainMessageIsItsOwnTextAndLatin1IsConverted) {
  const auto doc = parse_message(
      "Subject: x\r\nContent-Type: text/plain; charset=ISO-8859-1\r\n\r\nna\xefve\r\n");
  EXPECT_EQ(core::string_field(doc, "text"), "naïve\r\n");
  EXPECT_FALSE(doc.contains("html"));
  const auto bare = parse_message("no headers at all");
  EXPECT_TRUE(bare.at("parts").is_array());
}

// Found by fuzz/fuzz_mail.cpp: the part list kept the Content-Type, charset and disposition bytes
// as sent, so a message whose header had bytes that are not UTF-8 made the stored document
// invalid JSON (it did not read back, and the message vanished from the catcher's list).
TEST(MailMime, PartFieldsAreValidUtf8WhateverTheHeaderBytes) {
  const auto doc = parse_message(
      "Content-Type: text/\xff; charset=\xe9\r\nContent-Disposition: inline\xb2\r\n\r\nbody\r\n");
  const auto text = core::to_json_string(doc);
  EXPECT_NO_THROW(static_cast<void>(boost::json::parse(text)));
  const auto& part = doc.at("parts").as_array().at(0).as_object();
  EXPECT_EQ(core::string_field(part, "content_type"), "text/\uFFFD");
  EXPECT_EQ(core::string_field(part, "charset"), "\uFFFD");
  EXPECT_EQ(core::string_field(part, "disposition"), "inline\uFFFD");
}

}  // namespace
}  // namespace devx::mail
