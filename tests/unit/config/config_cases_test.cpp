// Data-driven configuration tests: every folder under tests/data/config/ is a case with a
// devx.yaml (and whatever it includes), an optional `profile` file, and `expected.txt`: the
// diagnostics, one per line, as "path:line:col: severity: message [hint: …]" with paths relative to
// the case folder, or "ok" alone. A case may add `expected.json`: the resolved project with the
// case folder written as $CASE. Run with DEVX_UPDATE_GOLDEN=1 to rewrite the expectations.
#include <devx/config.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

const fs::path kCases = fs::path(DEVX_TEST_DATA_DIR) / "config";

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string render(const devx::LoadResult& result, const fs::path& dir) {
  std::string out;
  for (const devx::Diagnostic& d : result.diagnostics) {
    devx::Diagnostic relative = d;
    relative.location.file = fs::path(d.location.file).lexically_relative(dir).string();
    out += relative.to_string();
    if (!d.hint.empty()) out += " [hint: " + d.hint + "]";
    out += "\n";
  }
  if (result.diagnostics.empty()) out = "ok\n";
  replace_all(out, dir.string(), "$CASE");
  return out;
}

// One JSON value per line is enough to read a diff; the library emits compact JSON.
std::string pretty(const std::string& json) {
  std::string out;
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      out += c;
      if (c == '\\') out += json[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        out += c;
        break;
      case '{':
      case '[':
        out += c;
        out += '\n' + std::string(static_cast<std::size_t>(++depth) * 2, ' ');
        break;
      case '}':
      case ']':
        out += '\n' + std::string(static_cast<std::size_t>(--depth) * 2, ' ') + c;
        break;
      case ',':
        out += ",\n" + std::string(static_cast<std::size_t>(depth) * 2, ' ');
        break;
      case ':':
        out += ": ";
        break;
      default:
        out += c;
    }
  }
  return out + "\n";
}

class ConfigCase : public ::testing::TestWithParam<std::string> {};

TEST_P(ConfigCase, MatchesExpectations) {
  const fs::path dir = kCases / GetParam();
  devx::LoadOptions options;
  options.user = "alice";
  if (fs::exists(dir / "profile")) options.profile = trim(read(dir / "profile"));
  const devx::LoadResult result = devx::load_project(dir / "devx.yaml", options);
  const std::string diagnostics = render(result, dir);
  const bool update = std::getenv("DEVX_UPDATE_GOLDEN") != nullptr;
  if (update) std::ofstream(dir / "expected.txt") << diagnostics;
  EXPECT_EQ(diagnostics, read(dir / "expected.txt"));

  if (fs::exists(dir / "expected.json")) {
    ASSERT_TRUE(result.project) << diagnostics;
    std::string json = pretty(devx::project_to_json(*result.project));
    replace_all(json, dir.string(), "$CASE");
    if (update) std::ofstream(dir / "expected.json") << json;
    EXPECT_EQ(json, read(dir / "expected.json"));
  }
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kCases))
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(Data, ConfigCase, ::testing::ValuesIn(case_names()),
                         [](const auto& test_info) { return test_info.param; });

}  // namespace
