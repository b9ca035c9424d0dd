#pragma once
// Just enough RFC 5322 / MIME to show a caught message: the header fields (unfolded, RFC 2047
// words decoded), and the text and HTML bodies of simple and nested multipart messages with their
// transfer encodings undone and their charset turned into UTF-8.
#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace devx::mail {

using HeaderFields = std::vector<std::pair<std::string, std::string>>;

// The header block of `message` (up to the first empty line), unfolded, values as sent.
// `body_offset` receives where the body starts (message.size() when there is none).
HeaderFields parse_header_block(std::string_view message, std::size_t& body_offset);

// RFC 2047 encoded words ("=?utf-8?B?…?=", "=?iso-8859-1?Q?…?=") decoded into UTF-8; the rest
// of the value kept (invalid bytes as U+FFFD).
std::string decode_header_value(std::string_view value);

// "quoted-printable" and "base64" decoded; other encodings returned as they are.
std::string decode_transfer_encoding(std::string_view body, std::string_view encoding);

// The parsed view of a message: {"headers":{"subject","from","to","cc","date","message_id"},
// "header_list":[[name,value]…],"text"?,"html"?,"parts":[{"content_type","charset",
// "disposition","filename","size"}]}.
boost::json::object parse_message(std::string_view message);

}  // namespace devx::mail
