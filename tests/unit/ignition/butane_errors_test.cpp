// Invalid Butane documents: each problem is a diagnostic with line:col (and a hint where one
// helps), unsupported variants/versions/sections are Error(unsupported), and nothing half-works.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

namespace devx {
namespace {

namespace fs = std::filesystem;
using testing_ignition::corpus_dir;
using testing_ignition::diagnostics_of;
using testing_ignition::error_of;
using testing_ignition::find_diagnostic;

Error compile_error(const std::string& body, ButaneOptions options = {}) {
  options.source_name = "test.bu";
  return error_of([&] { compile_butane("variant: fcos\nversion: 1.5.0\n" + body, options); });
}

TEST(ButaneErrors, UnknownKeyHasPositionAndSuggestion) {
  const Error e =
      compile_error("storage:\n  files:\n    - path: /etc/a\n      contnts:\n        inline: x\n");
  EXPECT_EQ(e.code(), ErrorCode::config_invalid);
  EXPECT_EQ(find_diagnostic(e, "unknown key 'contnts'"),
            "6:7 unknown key 'contnts' in storage.files[0] | did you mean 'contents'?");
  EXPECT_NE(e.message().find("test.bu:6:7: error: unknown key 'contnts'"), std::string::npos);
  EXPECT_EQ(e.hint(), "did you mean 'contents'?");
}

TEST(ButaneErrors, UnknownTopLevelKey) {
  const Error e = compile_error("sytemd:\n  units: []\n");
  EXPECT_EQ(find_diagnostic(e, "unknown key 'sytemd'"),
            "3:1 unknown key 'sytemd' in the config | did you mean 'systemd'?");
}

TEST(ButaneErrors, WrongTypesAreReportedWhereTheyAre) {
  const Error e = compile_error(
      "storage:\n"
      "  files:\n"
      "    - path: /etc/a\n"
      "      mode: \"0644\"\n"
      "      overwrite: maybe\n"
      "      contents: just-a-string\n"
      "systemd:\n"
      "  units: {name: x}\n");
  EXPECT_EQ(find_diagnostic(e, "mode must be an integer"),
            "6:13 storage.files[0].mode must be an integer, got '0644' | write the number without "
            "quotes");
  EXPECT_EQ(find_diagnostic(e, "overwrite must be true or false"),
            "7:18 storage.files[0].overwrite must be true or false, got 'maybe' | ");
  EXPECT_EQ(find_diagnostic(e, "contents must be a mapping"),
            "8:17 storage.files[0].contents must be a mapping, got a scalar | ");
  EXPECT_EQ(find_diagnostic(e, "units must be a list"),
            "10:10 systemd.units must be a list, got a mapping | ");
  EXPECT_EQ(diagnostics_of(e).size(), 4u);
}

TEST(ButaneErrors, DuplicatePathsAcrossFilesDirectoriesAndLinks) {
  const Error e = compile_error(
      "storage:\n"
      "  files:\n"
      "    - path: /etc/x\n"
      "  directories:\n"
      "    - path: /etc/x\n"
      "  links:\n"
      "    - path: /etc/x\n"
      "      target: /y\n");
  EXPECT_EQ(
      find_diagnostic(e, "storage.directories[0]: duplicate entry"),
      "7:7 storage.directories[0]: duplicate entry defined: path '/etc/x' is already a file | "
      "first defined at line 5 (storage.files[0])");
  EXPECT_FALSE(find_diagnostic(e, "storage.links[0]: duplicate entry").empty());
}

TEST(ButaneErrors, PathsMustBeAbsoluteAndClean) {
  const Error e = compile_error(
      "storage:\n  files:\n    - path: etc/x\n    - path: /etc//y/../z\n    - mode: 0644\n");
  EXPECT_EQ(find_diagnostic(e, "not absolute"),
            "5:13 storage.files[0]: path not absolute: 'etc/x' | paths start with '/'");
  EXPECT_EQ(find_diagnostic(e, "not fully simplified"),
            "6:13 storage.files[1]: path is not fully simplified: '/etc//y/../z' | write '/etc/z'");
  EXPECT_FALSE(find_diagnostic(e, "path not specified").empty());
}

TEST(ButaneErrors, ModeOutOfRangeIsAnError) {
  const Error e = compile_error("storage:\n  files:\n    - path: /a\n      mode: 0100000\n");
  EXPECT_EQ(find_diagnostic(e, "illegal file mode"),
            "6:13 storage.files[0].mode: illegal file mode 32768 | modes are 0000-07777; write "
            "them in octal with a leading 0");
}

TEST(ButaneErrors, SpecialModeBitsNeedSpec34) {
  const Error e = error_of([] {
    compile_butane(
        "variant: fcos\nversion: 1.4.0\nstorage:\n  directories:\n    - path: /tmp/x\n      mode: "
        "01777\n");
  });
  EXPECT_FALSE(find_diagnostic(e, "setuid/setgid/sticky").empty());
  EXPECT_NO_THROW(
      compile_butane("variant: fcos\nversion: 1.5.0\nstorage:\n  directories:\n    - path: "
                     "/tmp/x\n      mode: 01777\n"));
}

TEST(ButaneErrors, DecimalModeIsAWarningAndFatalInStrictMode) {
  const std::string document =
      "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      mode: 644\n";
  const ButaneOutput lenient = compile_butane(document);
  ASSERT_EQ(lenient.warnings.size(), 1u);
  EXPECT_EQ(lenient.warnings[0].location.line, 6);
  EXPECT_NE(lenient.warnings[0].message.find("specified in octal"), std::string::npos);
  EXPECT_EQ(lenient.warnings[0].hint, "write 0644 instead of 644");
  ButaneOptions strict;
  strict.strict = true;
  const Error e = error_of([&] { compile_butane(document, strict); });
  EXPECT_EQ(e.code(), ErrorCode::config_invalid);
  EXPECT_FALSE(find_diagnostic(e, "strict mode makes it an error").empty());
}

TEST(ButaneErrors, EnabledUnitWithoutInstallSectionIsAStrictWarning) {
  const std::string document =
      "variant: fcos\nversion: 1.5.0\nsystemd:\n  units:\n    - name: a.service\n"
      "      enabled: true\n      contents: \"[Service]\\nExecStart=/bin/true\\n\"\n";
  EXPECT_EQ(compile_butane(document).warnings.size(), 1u);
  ButaneOptions strict;
  strict.strict = true;
  const Error e = error_of([&] { compile_butane(document, strict); });
  EXPECT_FALSE(find_diagnostic(e, "no install section").empty());
}

TEST(ButaneErrors, OverwriteWithoutContentsIsAnError) {
  const Error e = compile_error("storage:\n  files:\n    - path: /a\n      overwrite: true\n");
  EXPECT_EQ(find_diagnostic(e, "overwrite must be false"),
            "5:7 storage.files[0]: overwrite must be false if source is unspecified | give the "
            "file contents, or drop overwrite");
}

TEST(ButaneErrors, OnlyOneContentsSource) {
  const Error e = compile_error(
      "storage:\n  files:\n    - path: /a\n      contents:\n        inline: x\n        source: "
      "https://e.com/x\n");
  EXPECT_FALSE(
      find_diagnostic(e, "only one of the following can be set: inline, local, source").empty());
}

TEST(ButaneErrors, HashesAndUrlsAreValidated) {
  const Error e = compile_error(
      "storage:\n  files:\n"
      "    - path: /a\n      contents:\n        source: ftp://e.com/x\n"
      "    - path: /b\n      contents:\n        source: https://e.com/x\n        verification:\n   "
      "       hash: md5-abc\n"
      "    - path: /c\n      contents:\n        source: https://e.com/x\n        verification:\n   "
      "       hash: sha512-abc\n"
      "    - path: /d\n      contents:\n        verification:\n          hash: sha256-" +
      std::string(64, 'a') +
      "\n"
      "    - path: /e\n      contents:\n        source: s3://bucket/x\n        http_headers:\n     "
      "     - name: A\n            value: b\n");
  EXPECT_FALSE(find_diagnostic(e, "invalid url scheme 'ftp'").empty());
  EXPECT_FALSE(find_diagnostic(e, "unrecognized hash function 'md5'").empty());
  EXPECT_FALSE(find_diagnostic(e, "incorrect size for hash sum").empty());
  EXPECT_FALSE(find_diagnostic(e, "source must be specified if verification is specified").empty());
  EXPECT_FALSE(find_diagnostic(e, "cannot use HTTP headers with this source scheme").empty());
}

TEST(ButaneErrors, UnitNamesNeedAValidSuffixAndDropinsConf) {
  const Error e = compile_error(
      "systemd:\n  units:\n    - name: noext\n    - name: a.servic\n    - name: b.service\n"
      "      dropins:\n        - name: x.txt\n          contents: \"[Service]\\n\"\n"
      "    - name: b.service\n");
  EXPECT_FALSE(find_diagnostic(e, "no systemd unit extension in 'noext'").empty());
  EXPECT_FALSE(find_diagnostic(e, "invalid systemd unit extension '.servic'").empty());
  EXPECT_FALSE(find_diagnostic(e, "invalid systemd drop-in extension").empty());
  EXPECT_FALSE(find_diagnostic(e, "unit 'b.service' is defined twice").empty());
}

TEST(ButaneErrors, MalformedUnitContents) {
  const Error e = compile_error(
      "systemd:\n  units:\n    - name: a.service\n      contents: \"ExecStart=/bin/true\\n\"\n"
      "    - name: b.service\n      contents: \"[Service]\\nnot a key value\\n\"\n");
  EXPECT_FALSE(find_diagnostic(e, "line 1 is outside any [Section]").empty());
  EXPECT_FALSE(find_diagnostic(e, "line 2 is not Key=Value").empty());
}

TEST(ButaneErrors, OwnerIdAndNameAreExclusive) {
  const Error e = compile_error(
      "storage:\n  directories:\n    - path: /a\n      user:\n        id: 1\n        name: core\n");
  EXPECT_FALSE(
      find_diagnostic(e, "storage.directories[0].user: cannot set both id and name").empty());
}

TEST(ButaneErrors, NodesUnderAConfiguredSymlink) {
  const Error e = compile_error(
      "storage:\n  links:\n    - path: /opt/l\n      target: /srv\n  files:\n    - path: "
      "/opt/l/file\n");
  EXPECT_FALSE(find_diagnostic(e, "file path includes link in config ('/opt/l')").empty());
}

TEST(ButaneErrors, FileAtAUnitPathConflicts) {
  const Error e = compile_error(
      "storage:\n  files:\n    - path: /etc/systemd/system/a.service\n      contents:\n        "
      "inline: x\n"
      "systemd:\n  units:\n    - name: a.service\n      contents: \"[Service]\\n\"\n");
  EXPECT_FALSE(
      find_diagnostic(e, "path conflicts with systemd unit or dropin 'a.service'").empty());
}

TEST(ButaneErrors, LocalWithoutFilesDir) {
  const Error e = compile_error(
      "storage:\n  files:\n    - path: /a\n      contents:\n        local: hello.txt\n");
  EXPECT_EQ(find_diagnostic(e, "local sources need a files directory"),
            "7:16 storage.files[0].contents.local: local sources need a files directory | pass "
            "--files-dir DIR (ButaneOptions::files_dir)");
}

TEST(ButaneErrors, LocalCannotEscapeTheFilesDir) {
  ButaneOptions options;
  options.files_dir = corpus_dir() / "files";
  const Error lexical = compile_error(
      "storage:\n  files:\n    - path: /a\n      contents:\n        local: ../minimal.bu\n",
      options);
  EXPECT_FALSE(find_diagnostic(lexical, "escapes the files directory").empty());

  // A symlink inside the files directory that points outside it.
  const fs::path dir =
      fs::temp_directory_path() / ("devx-ign-escape-" + std::to_string(::getpid()));
  fs::create_directories(dir / "files");
  testing_ignition::write_text(dir / "secret", "outside");
  fs::create_symlink(dir / "secret", dir / "files" / "link");
  options.files_dir = dir / "files";
  const Error symlink = compile_error(
      "storage:\n  files:\n    - path: /a\n      contents:\n        local: link\n", options);
  EXPECT_FALSE(
      find_diagnostic(symlink, "resolves (through a symlink) outside the files directory").empty());
  const Error tree = compile_error("storage:\n  trees:\n    - local: ..\n", options);
  EXPECT_FALSE(find_diagnostic(tree, "escapes the files directory").empty());
  fs::remove_all(dir);
}

TEST(ButaneErrors, MissingLocalFileIsAnIoError) {
  ButaneOptions options;
  options.files_dir = corpus_dir() / "files";
  const Error e = compile_error(
      "storage:\n  files:\n    - path: /a\n      contents:\n        local: nope.txt\n", options);
  EXPECT_EQ(e.code(), ErrorCode::io);
  EXPECT_NE(e.message().find("test.bu:7:16"), std::string::npos);
}

TEST(ButaneErrors, UnsupportedVersionsAndVariants) {
  const Error version = error_of([] { compile_butane("variant: fcos\nversion: 1.6.0\n"); });
  EXPECT_EQ(version.code(), ErrorCode::unsupported);
  EXPECT_NE(version.message().find("unsupported version 1.6.0 of variant fcos"), std::string::npos);
  EXPECT_EQ(version.hint(), "supported: fcos 1.3.0, fcos 1.4.0, fcos 1.5.0");
  const Error variant = error_of([] { compile_butane("variant: rhcos\nversion: 4.14.0\n"); });
  EXPECT_EQ(variant.code(), ErrorCode::unsupported);
  EXPECT_NE(variant.message().find("<stdin>:1:10: unsupported variant 'rhcos'"), std::string::npos);
  const Error missing = error_of([] { compile_butane("storage: {}\n"); });
  EXPECT_EQ(missing.code(), ErrorCode::config_invalid);
  EXPECT_FALSE(find_diagnostic(missing, "must set 'variant' and 'version'").empty());
}

TEST(ButaneErrors, KernelArgumentsNeedFcos14) {
  const Error e = error_of([] {
    compile_butane("variant: fcos\nversion: 1.3.0\nkernel_arguments:\n  should_exist: [a]\n");
  });
  EXPECT_FALSE(find_diagnostic(e, "unknown key 'kernel_arguments'").empty());
}

TEST(ButaneErrors, DiskSectionsAreUnsupportedWithPosition) {
  const Error e = compile_error("storage:\n  disks:\n    - device: /dev/vda\n");
  EXPECT_EQ(e.code(), ErrorCode::unsupported);
  EXPECT_EQ(e.message(), "test.bu:4:3: storage.disks is not supported by devx's compiler");
  const Error boot = compile_error("boot_device:\n  mirror: {}\n");
  EXPECT_EQ(boot.code(), ErrorCode::unsupported);
}

TEST(ButaneErrors, InvalidYamlAndNonMappings) {
  const Error syntax = error_of([] { compile_butane("variant: fcos\nversion: [1.5.0\n"); });
  EXPECT_EQ(syntax.code(), ErrorCode::config_invalid);
  EXPECT_FALSE(find_diagnostic(syntax, "invalid YAML").empty());
  const Error list = error_of([] { compile_butane("- a\n- b\n"); });
  EXPECT_FALSE(find_diagnostic(list, "must be a mapping").empty());
  const Error empty = error_of([] { compile_butane(""); });
  EXPECT_EQ(empty.code(), ErrorCode::config_invalid);
}

TEST(ButaneErrors, DuplicateKeysInAMapping) {
  const Error e = compile_error("storage:\n  files: []\n  files: []\n");
  EXPECT_FALSE(find_diagnostic(e, "key 'files' is defined twice in storage").empty());
}

TEST(ButaneErrors, AnchorsAndAliasesAreResolved) {
  const Error e = compile_error(
      "storage:\n  files:\n    - &file\n      path: /etc/a\n      mode: 0644\n    - *file\n");
  EXPECT_FALSE(
      find_diagnostic(e, "storage.files[1]: duplicate entry defined: path '/etc/a'").empty());
}

TEST(ButaneErrors, OddDocumentsEndInAnErrorOrAResult) {
  const std::vector<std::string> bodies = {
      "storage: null\n",
      "storage:\n  files: [null, ~, 3, [a]]\n",
      "storage:\n  files:\n    - path: /a\n      mode: -1\n",
      "storage:\n  files:\n    - path: /a\n      mode: 99999999999999999999999\n",
      "storage:\n  files:\n    - path: /a\n      mode: 0x1A4\n",
      "storage:\n  files:\n    - path: /a\n      mode: !!int 420\n",
      "storage:\n  files:\n    - {path: /a, contents: {inline: !!binary aGk=}}\n",
      "? [complex, key]\n: value\n",
      "passwd:\n  users:\n    - name: [x]\n      uid: 1.5\n",
      "systemd:\n  units:\n    - name: a.service\n      contents: \"\"\n",
      "systemd:\n  units:\n    - name: .service\n",
      "ignition:\n  config:\n    merge:\n      - {}\n  timeouts:\n    http_total: -5\n",
      "storage:\n  links:\n    - path: /a\n      target: ''\n",
      "storage:\n  trees:\n    - path: relative\n",
      "kernel_arguments:\n  should_exist: [a, a]\n",
  };
  for (const std::string& body : bodies) {
    SCOPED_TRACE(body);
    try {
      const ButaneOutput output = compile_butane("variant: fcos\nversion: 1.5.0\n" + body);
      EXPECT_EQ(output.ignition.back(), '\n');
    } catch (const Error& e) {
      EXPECT_FALSE(e.message().empty());
      EXPECT_NE(e.code(), ErrorCode::internal);
    }
  }
  // Explicit core-schema tags are as good as plain scalars.
  EXPECT_NE(
      compile_butane("variant: fcos\nversion: 1.5.0\n" + bodies[5]).ignition.find("\"mode\": 420"),
      std::string::npos);
  // Those that must fail, fail with a position.
  for (const std::string& body :
       {bodies[2], bodies[3], bodies[8], bodies[10], bodies[11], bodies[12], bodies[14]}) {
    SCOPED_TRACE(body);
    const Error e = compile_error(body);
    EXPECT_EQ(e.code(), ErrorCode::config_invalid);
    ASSERT_FALSE(diagnostics_of(e).empty());
    EXPECT_GT(diagnostics_of(e)[0].as_object().at("line").as_int64(), 0);
  }
}

TEST(ButaneErrors, InvalidUtf8InTheDocumentStillGivesValidJsonDetails) {
  // Found by fuzz_butane: a diagnostic quoting invalid UTF-8 made the error's JSON unparsable.
  const Error key = compile_error("storage:\n  fil\xca\xca\xff: []\n");
  EXPECT_EQ(key.code(), ErrorCode::config_invalid);
  EXPECT_FALSE(
      find_diagnostic(key, "unknown key 'fil\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd'").empty());
  const Error yaml =
      error_of([] { compile_butane(std::string("variant: fcos\n\xff\x00: [", 17)); });
  EXPECT_EQ(yaml.code(), ErrorCode::config_invalid);
  EXPECT_NO_THROW(boost::json::parse(yaml.to_json()));
  const Error version = error_of([] { compile_butane("variant: fcos\nversion: \xff\n"); });
  EXPECT_EQ(version.code(), ErrorCode::unsupported);
  EXPECT_NO_THROW(boost::json::parse(version.to_json()));
}

TEST(ButaneErrors, InlineContentsWithHeadersOrFalseGzipClaim) {
  const Error e = compile_error(
      "storage:\n  files:\n"
      "    - path: /a\n      contents:\n        inline: x\n        http_headers:\n          - "
      "name: A\n"
      "    - path: /b\n      contents:\n        compression: gzip\n        inline: not gzip\n");
  EXPECT_EQ(
      find_diagnostic(e, "HTTP headers"),
      "7:17 storage.files[0].contents: cannot use HTTP headers with this source scheme | HTTP "
      "headers only apply to http(s) sources");
  EXPECT_FALSE(
      find_diagnostic(e, "compression is gzip but the contents are not gzip data").empty());
}

TEST(ButaneErrors, WhatTheReplayCouldNotReadIsRejected) {
  const Error e = compile_error(
      "passwd:\n  users:\n    - name: a\n      uid: -1\n  groups:\n    - name: g\n      gid: "
      "4294967296\n"
      "storage:\n  files:\n    - path: /a\n      user: {id: -5}\n      contents:\n"
      "        compression: gzip\n        source: \"data:,plain\"\n"
      "systemd:\n  units:\n    - name: a.service\n      dropins:\n        - name: ../x.conf\n"
      "          contents: \"[Service]\\n\"\n");
  EXPECT_FALSE(find_diagnostic(e, "passwd.users[0].uid must be between 0 and 2147483647").empty());
  EXPECT_FALSE(find_diagnostic(e, "passwd.groups[0].gid must be between").empty());
  EXPECT_FALSE(find_diagnostic(e, "storage.files[0].user.id must be between").empty());
  EXPECT_FALSE(find_diagnostic(e, "the data URL does not hold gzip data").empty());
  EXPECT_FALSE(find_diagnostic(e, "drop-in name '../x.conf' must not contain '/'").empty());
}

}  // namespace
}  // namespace devx
