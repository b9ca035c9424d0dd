// The fake cloudflared's quick-tunnel mode as other tests rely on it (webhook catch --expose):
// the real stderr order — the ToS link to www.cloudflare.com first, then the box with the
// trycloudflare.com URL — and an edge that reaches the local target.
#include <gmock/gmock.h>

#include <regex>

#include "tunnel_fixture.hpp"

namespace devx {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using test::slurp;
using test::wait_until;
using ::testing::HasSubstr;

class FakeCloudflared : public test::TunnelWorld {};

TEST_F(FakeCloudflared, QuickTunnelPrintsTheTermsLinkBeforeTheBoxAndProxiesTheTarget) {
  const int port = start_origin("quick origin");
  auto ctx = context(false, {{"FAKE_CLOUDFLARED_STATE", (dir_ / "cfd").string()}});
  std::vector<std::string> lines;
  std::mutex mutex;
  CommandSpec spec;
  spec.argv = {"cloudflared", "tunnel", "--url", "http://localhost:" + std::to_string(port),
               "--no-autoupdate"};
  spec.output = OutputMode::stream;
  spec.on_line = [&](std::string_view line, bool) {
    std::lock_guard lock(mutex);
    lines.emplace_back(line);
  };
  auto child = ctx->commands().spawn(spec);
  ASSERT_TRUE(wait_until([&] { return fs::exists(dir_ / "cfd/quick.jsonl"); }));
  const auto record = json::parse(slurp(dir_ / "cfd/quick.jsonl")).as_object();
  const std::string url(record.at("url").as_string());
  const std::regex box_url(R"(\|\s+(https://[a-z0-9-]+\.trycloudflare\.com)\s+\|)");
  // The pipe may deliver the lines a little after the record was written.
  EXPECT_TRUE(wait_until([&] {
    std::lock_guard lock(mutex);
    return std::any_of(lines.begin(), lines.end(),
                       [&](const auto& l) { return l.find(url) != std::string::npos; });
  }));
  std::size_t terms_at = 0, box_at = 0;
  {
    std::lock_guard lock(mutex);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::smatch m;
      if (lines[i].find("https://www.cloudflare.com/website-terms/") != std::string::npos)
        terms_at = i + 1;
      if (std::regex_search(lines[i], m, box_url)) {
        box_at = i + 1;
        EXPECT_EQ(m[1].str(), url);
      }
    }
  }
  EXPECT_GT(terms_at, 0u);
  EXPECT_GT(box_at, terms_at);
  HttpRequest request;
  request.url = "http://" + std::string(record.at("edge").as_string()) + "/";
  EXPECT_THAT(ctx->http().send(request).body, HasSubstr("quick origin"));
  child->terminate(std::chrono::seconds(5));
}

}  // namespace
}  // namespace devx
