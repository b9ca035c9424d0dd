// read_ignition: decoding what the compiler writes (round trip) and refusing what a replay cannot
// do.
#include "vm/ignition/ignition_reader.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

namespace devx {
namespace {

using ignition::read_ignition;
using testing_ignition::corpus_dir;
using testing_ignition::error_of;
using testing_ignition::read_text;

TEST(IgnitionReader, RoundTripsEveryEncodingTheCompilerWrites) {
  std::string compressible;
  for (int i = 0; i < 40; ++i)
    compressible += "line " + std::to_string(i % 3) + " of a config file\n";
  std::string document =
      "variant: fcos\nversion: 1.5.0\n"
      "passwd:\n  users:\n    - name: core\n      ssh_authorized_keys: [ssh-ed25519 AAAA k1, "
      "ssh-rsa BBBB k2]\n"
      "    - name: other\n      ssh_authorized_keys: [ssh-ed25519 CCCC k3]\n"
      "storage:\n"
      "  directories:\n    - path: /d\n      mode: 0700\n      user: {name: core}\n"
      "  links:\n    - path: /l\n      target: /d\n    - path: /h\n      target: /f1\n      hard: "
      "true\n"
      "  files:\n"
      "    - path: /f1\n      mode: 0600\n      overwrite: true\n      user: {id: 1000}\n      "
      "group: {name: wheel}\n"
      "      contents:\n        inline: \"plain text = ok\\n\"\n"
      "    - path: /f2\n      contents:\n        inline: |\n";
  for (std::size_t start = 0; start < compressible.size();) {
    const std::size_t end = compressible.find('\n', start);
    document += "          " + compressible.substr(start, end - start) + "\n";
    start = end + 1;
  }
  document +=
      "    - path: /f3\n      contents:\n        inline: \"\\0\\x01\\x02\\xff\\xfe\"\n"
      "    - path: /f4\n      append:\n        - inline: \"more\\n\"\n"
      "    - path: /f5\n      contents:\n        inline: \"base\\n\"\n      append:\n        - "
      "inline: \"tail\\n\"\n"
      "systemd:\n  units:\n"
      "    - name: a.service\n      enabled: true\n      contents: "
      "\"[Service]\\nExecStart=/bin/true\\n[Install]\\nWantedBy=x.target\\n\"\n"
      "      dropins:\n        - name: 10.conf\n          contents: \"[Service]\\nNice=5\\n\"\n"
      "    - name: b.service\n      mask: true\n";
  const ButaneOutput output = compile_butane(document);
  ASSERT_NE(output.ignition.find("\"compression\": \"gzip\""), std::string::npos);
  ASSERT_NE(output.ignition.find("data:;base64,"), std::string::npos);

  const ignition::IgnitionConfig config = read_ignition(output.ignition);
  EXPECT_EQ(config.version, "3.4.0");
  EXPECT_EQ(config.ssh_keys_core,
            (std::vector<std::string>{"ssh-ed25519 AAAA k1", "ssh-rsa BBBB k2"}));
  ASSERT_EQ(config.files.size(), 5u);
  EXPECT_EQ(config.files[0].contents, "plain text = ok\n");
  EXPECT_EQ(config.files[0].mode, 0600);
  EXPECT_TRUE(config.files[0].overwrite);
  EXPECT_EQ(config.files[0].uid, 1000);
  EXPECT_EQ(config.files[0].group, "wheel");
  EXPECT_EQ(config.files[1].contents, compressible);
  EXPECT_EQ(config.files[1].mode, 0644);
  EXPECT_FALSE(config.files[1].overwrite);
  // YAML "\xff" is U+00FF (two UTF-8 bytes); "\0" is a NUL byte.
  EXPECT_EQ(config.files[2].contents, std::string("\x00\x01\x02\xc3\xbf\xc3\xbe", 7));
  EXPECT_TRUE(config.files[3].append);
  EXPECT_EQ(config.files[3].contents, "more\n");
  EXPECT_FALSE(config.files[4].append);
  EXPECT_EQ(config.files[4].contents, "base\ntail\n");
  ASSERT_EQ(config.directories.size(), 1u);
  EXPECT_EQ(config.directories[0].mode, 0700);
  EXPECT_EQ(config.directories[0].user, "core");
  ASSERT_EQ(config.links.size(), 2u);
  EXPECT_EQ(config.links[0].target, "/d");
  EXPECT_FALSE(config.links[0].hard);
  EXPECT_TRUE(config.links[1].hard);
  ASSERT_EQ(config.units.size(), 2u);
  EXPECT_EQ(config.units[0].enabled, std::optional<bool>(true));
  ASSERT_EQ(config.units[0].dropins.size(), 1u);
  EXPECT_EQ(config.units[0].dropins[0].first, "10.conf");
  EXPECT_EQ(config.units[0].dropins[0].second, "[Service]\nNice=5\n");
  EXPECT_TRUE(config.units[1].mask);
  EXPECT_FALSE(config.units[1].contents);
  EXPECT_FALSE(config.units[1].enabled);
}

TEST(IgnitionReader, ReadsEveryCorpusGoldenWithOnlyInlineSources) {
  for (const char* name :
       {"systemd.ign", "directories-links.ign", "passwd.ign", "escaping.ign", "trees.ign"}) {
    SCOPED_TRACE(name);
    EXPECT_NO_THROW(read_ignition(read_text(corpus_dir() / name)));
  }
  const ignition::IgnitionConfig escaping = read_ignition(read_text(corpus_dir() / "escaping.ign"));
  EXPECT_EQ(escaping.files[0].contents, " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\t\r\n");
}

TEST(IgnitionReader, RemoteSourcesAndConfigReferencesAreUnsupported) {
  EXPECT_EQ(error_of([] { read_ignition(read_text(corpus_dir() / "files.ign")); }).code(),
            ErrorCode::unsupported);
  EXPECT_EQ(
      error_of([] { read_ignition(read_text(corpus_dir() / "ignition-section.ign")); }).code(),
      ErrorCode::unsupported);
}

TEST(IgnitionReader, MalformedDocumentsAreInvalidArguments) {
  for (
      const char* text :
      {"", "[]", "{}", R"({"ignition":{"version":"2.2.0"}})",
       R"({"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"rel"}]}})",
       R"({"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/a","contents":{"source":"data:;base64,%%%"}}]}})",
       R"({"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/a","contents":{"compression":"gzip","source":"data:,nope"}}]}})",
       R"({"ignition":{"version":"3.4.0"},"systemd":{"units":[{"name":"../x.service"}]}})",
       R"({"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/a","mode":"420"}]}})"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(error_of([&] { read_ignition(text); }).code(), ErrorCode::invalid_argument);
  }
}

}  // namespace
}  // namespace devx
