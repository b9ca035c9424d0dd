#include <devx/error.hpp>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <mutex>

#include "bridge/kube/api_access.hpp"
#include "bridge/kube/kubectl.hpp"
#include "bridge/kube/manifests.hpp"
#include "fake_cluster.hpp"

namespace devx::bridge::kube {
namespace {

namespace json = boost::json;
using V = std::vector<std::string>;

// Records every command and answers with a canned result.
class RecordingRunner : public CommandRunner {
 public:
  CommandResult run(const CommandSpec& spec) override {
    std::lock_guard lock(mutex);
    specs.push_back(spec);
    return result;
  }
  std::unique_ptr<ChildProcess> spawn(const CommandSpec&) override {
    throw Error(ErrorCode::unsupported, "not in this test");
  }
  std::mutex mutex;
  std::vector<CommandSpec> specs;
  CommandResult result;
};

class KubectlArgv : public ::testing::Test {
 protected:
  void SetUp() override {
    ContextOptions options;
    options.devx_home = std::filesystem::temp_directory_path() / "devx-kube-argv";
    options.env =
        std::map<std::string, std::string>{{"HOME", "/home/dev"}, {"KUBECONFIG", "/a/one:/b/two"}};
    context = std::make_unique<Context>(options);
    runner = std::make_shared<RecordingRunner>();
    runner->result.exit_code = 0;
    context->set_command_runner(runner);
  }
  std::unique_ptr<Context> context;
  std::shared_ptr<RecordingRunner> runner;
};

TEST_F(KubectlArgv, NoKubeconfigLeavesTheEnvironmentToKubectl) {
  runner->result.out = R"({"metadata":{"name":"s"}})";
  Kubectl kubectl(*context, KubeSettings{});
  kubectl.get("service", "payments", "shop");
  ASSERT_EQ(runner->specs.size(), 1U);
  const auto& spec = runner->specs[0];
  EXPECT_EQ(spec.argv, (V{"kubectl", "get", "service", "payments", "-n", "shop", "-o", "json"}));
  EXPECT_TRUE(spec.inherit_env);
  EXPECT_EQ(spec.env.count("KUBECONFIG"), 0U);  // the colon list reaches kubectl unchanged
}

TEST_F(KubectlArgv, ExplicitKubeconfigIsAbsoluteAndGlobalFlagsComeFirst) {
  EXPECT_EQ(kubectl_prefix(KubeSettings{"~/kube/cfg", "staging", "kubectl"}, "/home/dev"),
            (V{"kubectl", "--kubeconfig", "/home/dev/kube/cfg", "--context", "staging"}));
  const auto relative = kubectl_prefix(KubeSettings{"cfg/../k.yaml", "", "/opt/kubectl"}, "/h");
  ASSERT_EQ(relative.size(), 3U);
  EXPECT_EQ(relative[0], "/opt/kubectl");
  EXPECT_EQ(relative[2], (std::filesystem::current_path() / "k.yaml").string());

  runner->result.out = R"({"kind":"List","items":[{"kind":"Job","metadata":{"uid":"u1"}}]})";
  Kubectl kubectl(*context, KubeSettings{"~/k", "ctx", "kubectl"});
  const auto applied =
      kubectl.apply(json::array{json::object{{"apiVersion", "v1"},
                                             {"kind", "Secret"},
                                             {"metadata", {{"name", "s"}}},
                                             {"stringData", {{"token", "s3cr3t"}}}}});
  ASSERT_EQ(applied.size(), 1U);
  const auto& spec = runner->specs.back();
  EXPECT_EQ(spec.argv, (V{"kubectl", "--kubeconfig", "/home/dev/k", "--context", "ctx", "apply",
                          "-f", "-", "-o", "json"}));
  for (const auto& arg : spec.argv) EXPECT_EQ(arg.find("s3cr3t"), std::string::npos);
  ASSERT_TRUE(spec.stdin_data);
  const json::value list = json::parse(*spec.stdin_data);
  EXPECT_EQ(list.at("kind"), "List");
  EXPECT_EQ(list.at("items").at(0).at("stringData").at("token"), "s3cr3t");
}

TEST_F(KubectlArgv, PatchListAndDeleteArgv) {
  runner->result.out = R"({"items":[]})";
  Kubectl kubectl(*context, KubeSettings{});
  kubectl.list("pods", "", "a=b");
  EXPECT_EQ(runner->specs.back().argv,
            (V{"kubectl", "get", "pods", "-A", "-l", "a=b", "-o", "json"}));
  kubectl.remove("job", "devx-bridge-agent-0123abcd", "shop");
  EXPECT_EQ(runner->specs.back().argv, (V{"kubectl", "delete", "job", "devx-bridge-agent-0123abcd",
                                          "-n", "shop", "--ignore-not-found", "--wait=false"}));
  runner->result.out = "{}";
  kubectl.patch_json("service", "s", "shop",
                     json::array{json::object{{"op", "test"}, {"path", "/a"}, {"value", 1}}});
  EXPECT_EQ(runner->specs.back().argv,
            (V{"kubectl", "patch", "service", "s", "-n", "shop", "--type=json", "-p",
               R"([{"op":"test","path":"/a","value":1}])", "-o", "json"}));
  // An access outside the declared table is a bug, caught before kubectl runs.
  EXPECT_THROW(kubectl.remove("service", "s", "shop"), Error);
}

TEST(KubectlErrors, StderrDecidesTheCode) {
  const V argv{"kubectl", "get", "service", "x", "-n", "default", "-o", "json"};
  const auto code_of = [&](const std::string& err, const V& a) {
    CommandResult r;
    r.exit_code = 1;
    r.err = err;
    return kubectl_error(a, r).code();
  };
  EXPECT_EQ(code_of("Error from server (NotFound): services \"x\" not found\n", argv),
            ErrorCode::not_found);
  EXPECT_EQ(code_of("Error from server (Forbidden): services \"x\" is forbidden: User \"u\" cannot "
                    "get resource \"services\"\n",
                    argv),
            ErrorCode::permission_denied);
  EXPECT_EQ(code_of("E1128 memcache.go:265] dial tcp 127.0.0.1:6443: connect: connection refused\n"
                    "The connection to the server 127.0.0.1:6443 was refused - did you specify the "
                    "right host or port?\n",
                    argv),
            ErrorCode::unreachable);
  EXPECT_EQ(code_of("Unable to connect to the server: dial tcp: lookup x: no such host\n", argv),
            ErrorCode::unreachable);
  EXPECT_EQ(code_of("error: context was not found for specified context: nope\n", argv),
            ErrorCode::not_found);
  EXPECT_EQ(code_of("error: testing value /spec/selector failed: test failed\n", argv),
            ErrorCode::conflict);
  const V guarded{"kubectl", "patch", "svc", "x", "--type=json", "-p", R"([{"op":"test"}])"};
  EXPECT_EQ(code_of("The request is invalid: the server rejected our request due to an error in "
                    "our request\n",
                    guarded),
            ErrorCode::conflict);
  EXPECT_EQ(code_of("error: something else\n", argv), ErrorCode::command_failed);

  CommandResult r;
  r.exit_code = 1;
  r.err = "E1128 noise\nerror: something else\n";
  const Error e = kubectl_error(argv, r);
  EXPECT_NE(e.message().find("kubectl get service x"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("error: something else"), std::string::npos) << e.message();
  const json::value details = json::parse(e.details_json());
  EXPECT_EQ(details.at("argv").at(0), "kubectl");
  EXPECT_NE(std::string(details.at("stderr").as_string()).find("something else"),
            std::string::npos);
}

TEST(KubectlErrors, MissingBinaryNamesTheFix) {
  ContextOptions options;
  options.devx_home = std::filesystem::temp_directory_path() / "devx-kube-missing";
  Context context(options);
  Kubectl kubectl(context, KubeSettings{"", "", "/nonexistent/kubectl"});
  try {
    kubectl.client_version();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::command_not_found);
    EXPECT_NE(e.hint().find("install kubectl"), std::string::npos);
  }
}

json::object service_json(const std::string& selector_json) {
  return json::
      parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"payments","namespace":"shop"},
    "spec":{"selector":)" +
            selector_json + R"(,"ports":[{"name":"http","port":80,"targetPort":8080}]}})")
          .as_object();
}

TEST(KubectlFake, ClientAndServerVersion) {
  test::FakeCluster cluster;
  Kubectl kubectl(cluster.context(), cluster.settings());
  EXPECT_EQ(kubectl.client_version(), "v1.32.4");
  EXPECT_EQ(kubectl.check_cluster(), "v1.31.2");
  cluster.config(R"({"unreachable": true})");
  try {
    kubectl.check_cluster();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unreachable) << e.message();
  }
}

TEST(KubectlFake, ApplyGetListPatchRoundTrip) {
  test::FakeCluster cluster;
  Kubectl kubectl(cluster.context(), cluster.settings());
  cluster.seed(json::serialize(service_json(R"({"app":"payments"})")));
  const auto applied =
      kubectl.apply(json::array{json::object{{"apiVersion", "v1"},
                                             {"kind", "ServiceAccount"},
                                             {"metadata", {{"name", "a"}, {"namespace", "shop"}}}},
                                json::object{{"apiVersion", "v1"},
                                             {"kind", "Secret"},
                                             {"metadata", {{"name", "b"}, {"namespace", "shop"}}},
                                             {"stringData", {{"token", "t"}}}}});
  ASSERT_EQ(applied.size(), 2U);
  EXPECT_FALSE(applied[0].at("metadata").at("uid").as_string().empty());
  EXPECT_EQ(applied[1].at("data").at("token"), "dA==");  // stringData is stored base64-encoded
  EXPECT_EQ(kubectl.apply(json::array{applied[0]}).size(), 1U);  // re-apply: a single object back

  const auto svc = kubectl.get("svc", "payments", "shop");
  EXPECT_EQ(svc.at("spec").at("selector").at("app"), "payments");
  EXPECT_FALSE(kubectl.find("service", "nope", "shop"));
  try {
    kubectl.get("service", "nope", "shop");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_NE(e.message().find(R"(services "nope" not found)"), std::string::npos) << e.message();
  }
  EXPECT_EQ(kubectl.list("services", "shop").size(), 1U);
  EXPECT_EQ(kubectl.list("services", "").size(), 1U);
  EXPECT_EQ(kubectl.list("services", "other").size(), 0U);

  const auto merged = kubectl.patch_merge("service", "payments", "shop",
                                          json::object{{"metadata", {{"labels", {{"x", "y"}}}}}});
  EXPECT_EQ(merged.at("metadata").at("labels").at("x"), "y");
  EXPECT_EQ(kubectl.list("services", "shop", "x=y").size(), 1U);
  EXPECT_EQ(kubectl.list("services", "shop", "x=z").size(), 0U);

  cluster.config(R"({"forbidden": ["patch services"]})");
  try {
    kubectl.patch_merge("service", "payments", "shop", json::object{});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::permission_denied);
  }
}

TEST(KubectlFake, KubeconfigListPassesThroughAndContextsAreChecked) {
  test::FakeCluster cluster(
      std::map<std::string, std::string>{{"KUBECONFIG", "/tmp/a.yaml:/tmp/b.yaml"}});
  cluster.config(R"({"contexts": ["staging"]})");
  Kubectl kubectl(cluster.context(), cluster.settings());
  kubectl.client_version();
  EXPECT_NE(cluster.calls().find(R"("kubeconfig_env": "/tmp/a.yaml:/tmp/b.yaml")"),
            std::string::npos)
      << cluster.calls();
  KubeSettings wrong = cluster.settings();
  wrong.context = "prod";
  try {
    Kubectl(cluster.context(), wrong).check_cluster();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
}

TEST(KubectlFake, SelectorSwapAndRestoreRoundTrip) {
  test::FakeCluster cluster;
  Kubectl kubectl(cluster.context(), cluster.settings());
  cluster.seed(json::serialize(service_json(R"({"app":"payments","tier":"backend"})")));
  const json::object original{{"app", "payments"}, {"tier", "backend"}};

  auto svc = kubectl.get("service", "payments", "shop");
  kubectl.patch_json("service", "payments", "shop", selector_swap_patch(svc, "0123abcd"));
  svc = kubectl.get("service", "payments", "shop");
  EXPECT_EQ(svc.at("spec").at("selector"), (json::object{{"devx.dev/bridge-session", "0123abcd"}}));
  EXPECT_EQ(intercepting_session(svc), "0123abcd");
  EXPECT_EQ(recorded_original_selector(svc), original);
  // kubectl apply's annotation survived: only our keys were added.
  EXPECT_TRUE(svc.at("metadata")
                  .at("annotations")
                  .as_object()
                  .contains("kubectl.kubernetes.io/last-applied-configuration"));

  // A second intercept is refused before anything is sent.
  try {
    selector_swap_patch(svc, "89abcdef");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
  }
  // A stale restore naming another session is refused by the server-side test.
  try {
    kubectl.patch_json("service", "payments", "shop", selector_restore_patch("89abcdef", original));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict) << e.message();
  }
  kubectl.patch_json("service", "payments", "shop", selector_restore_patch("0123abcd", original));
  svc = kubectl.get("service", "payments", "shop");
  EXPECT_EQ(svc.at("spec").at("selector"), original);
  EXPECT_FALSE(intercepting_session(svc));
  EXPECT_FALSE(
      svc.at("metadata").at("annotations").as_object().contains("devx.dev/original-selector"));
}

TEST(KubectlFake, SwapWithoutAnnotationsGuardsTheResourceVersion) {
  test::FakeCluster cluster;
  // Written directly, as another client would: no annotations at all.
  cluster.write(
      "shop/service/payments.json",
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"payments","namespace":"shop",
                "resourceVersion":"7","uid":"u"},"spec":{"selector":{"app":"p"},"ports":[{"port":80}]}})");
  Kubectl kubectl(cluster.context(), cluster.settings());
  const auto svc = kubectl.get("service", "payments", "shop");
  const auto swap = selector_swap_patch(svc, "0123abcd");
  kubectl.patch_merge("service", "payments", "shop",
                      json::object{{"metadata", {{"annotations", {{"someone", "else"}}}}}});
  try {
    kubectl.patch_json("service", "payments", "shop", swap);  // would wipe "someone"
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
  }
  const auto fresh = kubectl.get("service", "payments", "shop");
  kubectl.patch_json("service", "payments", "shop", selector_swap_patch(fresh, "0123abcd"));
  const auto swapped = kubectl.get("service", "payments", "shop");
  EXPECT_EQ(swapped.at("metadata").at("annotations").at("someone"), "else");
  kubectl.patch_json("service", "payments", "shop",
                     selector_restore_patch("0123abcd", json::object{{"app", "p"}}));
  EXPECT_EQ(kubectl.get("service", "payments", "shop").at("metadata").at("annotations"),
            (json::object{{"someone", "else"}}));
}

// The fake's patch engine agrees with real kubectl (`patch --local`, offline) byte for byte,
// failed tests and other errors included.
TEST(KubectlFake, PatchesAgreeWithRealKubectl) {
  if (!std::filesystem::exists("/usr/bin/kubectl")) GTEST_SKIP() << "no real kubectl";
  test::FakeCluster cluster;
  cluster.write(
      "svc.json",
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"payments","namespace":"default",
                "annotations":{"a":"b","kubernetes.io/x":"1"}},"spec":{"selector":{"app":"payments",
                "tier":"backend"},"ports":[{"name":"http","port":80,"targetPort":8080}]}})");
  const auto swap =
      selector_swap_patch(service_json(R"({"app":"payments","tier":"backend"})"), "0123abcd");
  const json::object original{{"app", "payments"}, {"tier", "backend"}};
  const std::vector<std::pair<std::string, std::string>> patches{
      {"json", json::serialize(swap)},
      {"json", json::serialize(selector_restore_patch("0123abcd", original))},
      {"json",
       R"([{"op":"test","path":"/spec/selector","value":{"tier":"backend","app":"payments"}},
                   {"op":"replace","path":"/spec/selector","value":{"x":"y"}}])"},
      {"json", R"([{"op":"test","path":"/spec/selector","value":{"app":"x"}}])"},
      {"json", R"([{"op":"remove","path":"/metadata/annotations/kubernetes.io~1x"}])"},
      {"json", R"([{"op":"remove","path":"/metadata/annotations/zz"}])"},
      {"json", R"([{"op":"add","path":"/metadata/labels/x","value":"1"}])"},
      {"json", R"([{"op":"replace","path":"/metadata/annotations/new","value":"v"}])"},
      {"json", R"([{"op":"add","path":"/spec/ports/-","value":{"port":81}}])"},
      {"json", R"([{"op":"remove","path":"/spec/ports/3"}])"},
      {"json", R"([{"op":"remove","path":"/metadata/annotations/a"},
                   {"op":"remove","path":"/metadata/annotations/kubernetes.io~1x"}])"},
      {"json", R"([{"op":"bogus","path":"/a"}])"},
      {"merge", R"({"spec":{"selector":{"app":null,"devx":"1"}},"metadata":{"annotations":null}})"},
      {"merge", R"({"spec":{"ports":[{"port":1}]}})"},
  };
  for (const auto& [type, patch] : patches) {
    const auto run = [&](const std::string& binary) {
      CommandSpec spec;
      spec.argv = {
          binary,           "patch", "--local", "-f", (cluster.state() / "svc.json").string(),
          "--type=" + type, "-p",    patch,     "-o", "json"};
      return cluster.context().commands().run(spec);
    };
    const CommandResult real = run("/usr/bin/kubectl");
    const CommandResult fake = run(cluster.settings().kubectl);
    EXPECT_EQ(fake.exit_code, real.exit_code) << patch;
    EXPECT_EQ(fake.out, real.out) << patch;
    EXPECT_EQ(fake.err, real.err) << patch;
  }
}

TEST(ApiAccess, RbacYamlHasExactlyTheDeclaredRules) {
  const auto docs = YAML::LoadAll(rbac_yaml("shop"));
  ASSERT_EQ(docs.size(), 2U);
  EXPECT_EQ(docs[0]["kind"].as<std::string>(), "Role");
  EXPECT_EQ(docs[0]["metadata"]["namespace"].as<std::string>(), "shop");
  EXPECT_EQ(docs[1]["kind"].as<std::string>(), "RoleBinding");
  EXPECT_EQ(docs[1]["roleRef"]["name"].as<std::string>(),
            docs[0]["metadata"]["name"].as<std::string>());
  EXPECT_EQ(docs[1]["subjects"][0]["name"].as<std::string>(), "REPLACE-WITH-YOUR-USER");

  std::map<std::string, std::set<std::string>> rules;  // "group/resource" -> verbs
  for (const auto& rule : docs[0]["rules"]) {
    ASSERT_EQ(rule["apiGroups"].size(), 1U);
    ASSERT_EQ(rule["resources"].size(), 1U);
    auto& verbs = rules[rule["apiGroups"][0].as<std::string>() + "/" +
                        rule["resources"][0].as<std::string>()];
    for (const auto& v : rule["verbs"]) verbs.insert(v.as<std::string>());
  }
  std::size_t declared = 0;
  for (const auto& a : api_accesses()) {
    const std::string key = std::string(a.api_group) + "/" + std::string(a.resource) +
                            (a.subresource.empty() ? "" : "/" + std::string(a.subresource));
    EXPECT_EQ(rules[key].count(std::string(a.verb)), 1U) << key << " " << a.verb;
    ++declared;
  }
  std::size_t generated = 0;
  for (const auto& [k, verbs] : rules) generated += verbs.size();
  EXPECT_EQ(generated, declared);
  // kubectl apply reads, creates and patches; endpointslices live in discovery.k8s.io.
  for (const char* verb : {"get", "create", "patch"}) {
    EXPECT_EQ(rules["batch/jobs"].count(verb), 1U);
    EXPECT_EQ(rules["/serviceaccounts"].count(verb), 1U);
    EXPECT_EQ(rules["rbac.authorization.k8s.io/roles"].count(verb), 1U);
    EXPECT_EQ(rules["rbac.authorization.k8s.io/rolebindings"].count(verb), 1U);
  }
  EXPECT_EQ(rules["/pods/portforward"], (std::set<std::string>{"create"}));
  EXPECT_EQ(rules["discovery.k8s.io/endpointslices"].count("list"), 1U);
  EXPECT_EQ(rules.count("/endpointslices"), 0U);

  const auto cluster_docs = YAML::LoadAll(rbac_yaml(""));
  EXPECT_EQ(cluster_docs[0]["kind"].as<std::string>(), "ClusterRole");
  EXPECT_EQ(cluster_docs[1]["kind"].as<std::string>(), "ClusterRoleBinding");
  EXPECT_FALSE(cluster_docs[0]["metadata"]["namespace"]);
}

TEST(ApiAccess, RbacYamlIsParsedByKubectl) {
  if (!std::filesystem::exists("/usr/bin/kubectl")) GTEST_SKIP() << "no real kubectl";
  test::FakeCluster cluster;
  for (const char* ns : {"shop", ""}) {
    cluster.write("rbac.yaml", rbac_yaml(ns));
    CommandSpec spec;
    // Offline: --local reads and decodes every document without a server.
    spec.argv = {
        "/usr/bin/kubectl", "label", "--local", "-f", (cluster.state() / "rbac.yaml").string(),
        "checked=yes",      "-o",    "name"};
    spec.env["KUBECONFIG"] = "/dev/null";
    const CommandResult r = cluster.context().commands().run(spec);
    EXPECT_TRUE(r.ok()) << r.err;
    EXPECT_NE(r.out.find("role.rbac.authorization.k8s.io/devx-bridge-user"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("binding.rbac.authorization.k8s.io/devx-bridge-user"), std::string::npos)
        << r.out;
  }
}

}  // namespace
}  // namespace devx::bridge::kube
