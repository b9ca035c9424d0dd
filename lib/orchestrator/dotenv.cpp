// dotenv parsing and ${VAR} expansion.
#include <devx/error.hpp>

#include <cctype>

#include "orchestrator/environment.hpp"

namespace devx::orchestrator {
namespace {

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

[[noreturn]] void syntax_error(std::string_view origin, int line, const std::string& what) {
  throw Error(ErrorCode::config_invalid,
              std::string(origin) + ":" + std::to_string(line) + ": " + what,
              "dotenv lines look like KEY=value, export KEY=\"value\" or # comment");
}

}  // namespace

std::string expand_variables(std::string_view text, const Lookup& lookup) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (c != '$' || i + 1 >= text.size()) {
      out += c;
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::string_view name;
    std::size_t end = i;
    if (text[i + 1] == '{') {
      const auto close = text.find('}', i + 2);
      if (close == std::string_view::npos) {
        out += c;
        continue;
      }
      name = text.substr(i + 2, close - i - 2);
      end = close;
    } else if (is_name_start(text[i + 1])) {
      std::size_t j = i + 1;
      while (j < text.size() && is_name_char(text[j])) ++j;
      name = text.substr(i + 1, j - i - 1);
      end = j - 1;
    } else {
      out += c;
      continue;
    }
    if (lookup) {
      if (auto value = lookup(name)) out += *value;
    }
    i = end;
  }
  return out;
}

EnvMap parse_dotenv(std::string_view text, std::string_view origin, const Lookup& outer) {
  EnvMap result;
  const Lookup lookup = [&](std::string_view name) -> std::optional<std::string> {
    if (auto it = result.find(std::string(name)); it != result.end()) return it->second;
    if (outer) return outer(name);
    return std::nullopt;
  };
  std::size_t pos = 0;
  int line_no = 0;
  auto skip_blanks = [&](std::size_t p) {
    while (p < text.size() && (text[p] == ' ' || text[p] == '\t')) ++p;
    return p;
  };
  while (pos < text.size()) {
    ++line_no;
    std::size_t p = skip_blanks(pos);
    const auto eol = text.find('\n', p);
    const std::size_t line_end = eol == std::string_view::npos ? text.size() : eol;
    auto next_line = [&] { pos = line_end == text.size() ? text.size() : line_end + 1; };
    if (p >= line_end || text[p] == '#' || text[p] == '\r') {
      next_line();
      continue;
    }
    if (text.substr(p, 7) == "export " || text.substr(p, 7) == "export\t") p = skip_blanks(p + 7);
    const std::size_t key_start = p;
    while (p < line_end && is_name_char(text[p])) ++p;
    // Dotted keys (used by some tools) are accepted as written.
    while (p < line_end && (is_name_char(text[p]) || text[p] == '.' || text[p] == '-')) ++p;
    const std::string key(text.substr(key_start, p - key_start));
    if (key.empty() || !is_name_start(key.front()))
      syntax_error(origin, line_no, "expected a variable name");
    p = skip_blanks(p);
    if (p >= line_end || (text[p] != '=' && text[p] != ':')) {
      syntax_error(origin, line_no, "expected '=' after " + key);
    }
    p = skip_blanks(p + 1);
    std::string value;
    if (p < text.size() && (text[p] == '"' || text[p] == '\'')) {
      const char quote = text[p];
      const int start_line = line_no;
      std::size_t q = p + 1;
      std::string raw;
      bool closed = false;
      for (; q < text.size(); ++q) {
        const char c = text[q];
        if (c == '\n') ++line_no;
        if (quote == '"' && c == '\\' && q + 1 < text.size()) {
          const char e = text[++q];
          switch (e) {
            case 'n':
              raw += '\n';
              break;
            case 't':
              raw += '\t';
              break;
            case 'r':
              raw += '\r';
              break;
            case '$':
              raw += "\\$";
              break;  // kept escaped for expand_variables
            default:
              raw += e;
          }
          continue;
        }
        if (c == quote) {
          closed = true;
          break;
        }
        raw += c;
      }
      if (!closed) syntax_error(origin, start_line, "unterminated quoted value of " + key);
      value = quote == '"' ? expand_variables(raw, lookup) : raw;
      // After the closing quote only blanks or a comment may follow.
      std::size_t r = skip_blanks(q + 1);
      const auto end = text.find('\n', r);
      const std::size_t rest_end = end == std::string_view::npos ? text.size() : end;
      if (r < rest_end && text[r] != '#' && text[r] != '\r') {
        syntax_error(origin, line_no, "unexpected text after the quoted value of " + key);
      }
      pos = rest_end == text.size() ? text.size() : rest_end + 1;
    } else {
      std::string_view raw = text.substr(p, line_end - p);
      // " #" starts a comment in an unquoted value; "a#b" does not.
      for (std::size_t i = 1; i < raw.size(); ++i) {
        if (raw[i] == '#' && (raw[i - 1] == ' ' || raw[i - 1] == '\t')) {
          raw = raw.substr(0, i);
          break;
        }
      }
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\r')) {
        raw.remove_suffix(1);
      }
      value = expand_variables(raw, lookup);
      next_line();
    }
    result[key] = std::move(value);
  }
  return result;
}

std::string env_name(std::string_view node) {
  std::string out;
  out.reserve(node.size());
  for (const char c : node) {
    out += is_name_char(c) ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : '_';
  }
  return out;
}

}  // namespace devx::orchestrator
