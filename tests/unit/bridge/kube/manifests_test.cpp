#include <devx/error.hpp>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "bridge/kube/kubectl.hpp"
#include "bridge/kube/manifests.hpp"
#include "fake_cluster.hpp"

namespace devx::bridge::kube {
namespace {

namespace json = boost::json;

json::object service(const std::string& spec_json) {
  return json::
      parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"payments","namespace":"shop"},"spec":)" +
            spec_json + "}")
          .as_object();
}

ErrorCode code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::ok;
}

TEST(AgentPorts, NumericTargetPortsAreListenedOnAsIs) {
  const auto ports = resolve_agent_ports(service(
      R"({"selector":{"app":"p"},"ports":[{"name":"http","port":80,"targetPort":8080},{"port":9090}]})"));
  ASSERT_EQ(ports.ports.size(), 2U);
  EXPECT_EQ(ports.ports[0].service_port, 80);
  EXPECT_EQ(ports.ports[0].listen_port, 8080);
  EXPECT_EQ(ports.ports[0].container_port_name, "");
  EXPECT_EQ(ports.ports[1].listen_port, 9090);  // targetPort defaults to port
  EXPECT_EQ(ports.control_port, 4200);
  EXPECT_EQ(ports.health_port, 4201);
  EXPECT_FALSE(ports.needs_net_bind_service);
  EXPECT_TRUE(ports.warnings.empty());
}

TEST(AgentPorts, NamedTargetPortsBecomeNamedContainerPorts) {
  const auto ports = resolve_agent_ports(service(
      R"({"selector":{"app":"p"},"ports":[{"name":"web","port":80,"targetPort":"http-alt"},
          {"name":"grpc","port":4200,"targetPort":4200},{"name":"m","port":9,"targetPort":"metrics"}]})"));
  ASSERT_EQ(ports.ports.size(), 3U);
  EXPECT_EQ(ports.ports[0].container_port_name, "http-alt");
  EXPECT_GE(ports.ports[0].listen_port, 20000);
  EXPECT_EQ(ports.ports[2].container_port_name, "metrics");
  EXPECT_NE(ports.ports[2].listen_port, ports.ports[0].listen_port);
  // A Service targeting 4200 moves the agent's own ports out of the way.
  EXPECT_EQ(ports.ports[1].listen_port, 4200);
  EXPECT_NE(ports.control_port, 4200);
  EXPECT_NE(ports.health_port, 4200);
  EXPECT_NE(ports.health_port, ports.control_port);
}

TEST(AgentPorts, LowPortsGetNetBindServiceAndAWarning) {
  const auto ports = resolve_agent_ports(
      service(R"({"selector":{"app":"p"},"ports":[{"port":80,"targetPort":80}]})"));
  EXPECT_TRUE(ports.needs_net_bind_service);
  ASSERT_EQ(ports.warnings.size(), 1U);
  EXPECT_NE(ports.warnings[0].find("NET_BIND_SERVICE"), std::string::npos);
}

TEST(AgentPorts, UninterceptableServicesAreRefused) {
  EXPECT_EQ(code_of([] {
              resolve_agent_ports(
                  service(R"({"selector":{"app":"p"},"ports":[{"port":53,"protocol":"UDP"}]})"));
            }),
            ErrorCode::unsupported);
  EXPECT_EQ(code_of([] {
              resolve_agent_ports(
                  service(R"({"selector":{"app":"p"},"ports":[{"port":1,"protocol":"SCTP"}]})"));
            }),
            ErrorCode::unsupported);
  EXPECT_EQ(code_of([] {
              resolve_agent_ports(service(R"({"type":"ExternalName","externalName":"x.example"})"));
            }),
            ErrorCode::unsupported);
  EXPECT_EQ(code_of([] { resolve_agent_ports(service(R"({"ports":[{"port":80}]})")); }),
            ErrorCode::unsupported);
}

TEST(ImageReference, LowerCaseReferencesOnly) {
  for (const char* ok :
       {"ghcr.io/vitruviansoftware/devx-bridge-agent:0.1.0", "busybox", "localhost:5000/a/b_c.d:v1",
        "registry.example.com:443/x/y@sha256:"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}) {
    EXPECT_NO_THROW(validate_image_reference(ok)) << ok;
  }
  for (const char* bad : {"ghcr.io/VitruvianSoftware/devx-bridge-agent:v0.1.0", "", "a::b",
                          "UPPER/x", "x:tag with space", "x@sha256:short"}) {
    EXPECT_EQ(code_of([&] { validate_image_reference(bad); }), ErrorCode::invalid_argument) << bad;
  }
}

AgentSpec spec_for(const json::object& svc, std::string image = std::string(kDefaultAgentImage)) {
  AgentSpec spec;
  spec.session_id = "0123abcd";
  spec.service = "payments";
  spec.namespace_ = "shop";
  spec.image = std::move(image);
  spec.ports = resolve_agent_ports(svc);
  spec.token = "tok-5e3c7e7";
  return spec;
}

TEST(AgentManifests, JobIsSuspendedRestrictedAndCarriesNoSecret) {
  const auto job = agent_job(spec_for(service(
      R"({"selector":{"app":"p"},"ports":[{"name":"web","port":80,"targetPort":"http"}]})")));
  const std::string text = json::serialize(job);
  EXPECT_EQ(text.find("tok-5e3c7e7"), std::string::npos);
  EXPECT_EQ(job.at("metadata").at("name"), "devx-bridge-agent-0123abcd");
  const auto& labels = job.at("metadata").at("labels");
  EXPECT_EQ(labels.at("devx.dev/bridge"), "agent");
  EXPECT_EQ(labels.at("devx.dev/bridge-session"), "0123abcd");
  EXPECT_EQ(labels.at("devx.dev/bridge-target"), "payments");
  EXPECT_EQ(labels.at("app.kubernetes.io/managed-by"), "devx");
  const auto& spec = job.at("spec");
  EXPECT_EQ(spec.at("suspend"), true);
  EXPECT_EQ(spec.at("backoffLimit"), 0);
  EXPECT_EQ(spec.at("ttlSecondsAfterFinished"), 60);
  EXPECT_EQ(spec.at("activeDeadlineSeconds"), 14400);
  EXPECT_EQ(spec.at("template").at("metadata").at("labels").at("devx.dev/bridge-session"),
            "0123abcd");
  EXPECT_EQ(spec.at("template").at("metadata").at("annotations").at("sidecar.istio.io/inject"),
            "false");
  const auto& pod = spec.at("template").at("spec");
  EXPECT_EQ(pod.at("serviceAccountName"), "devx-bridge-agent-0123abcd");
  EXPECT_EQ(pod.at("restartPolicy"), "Never");
  EXPECT_EQ(pod.at("securityContext").at("runAsNonRoot"), true);
  EXPECT_EQ(pod.at("securityContext").at("runAsUser"), 65532);
  EXPECT_EQ(pod.at("securityContext").at("seccompProfile").at("type"), "RuntimeDefault");
  const auto& c = pod.at("containers").at(0);
  EXPECT_EQ(c.at("imagePullPolicy"), "IfNotPresent");
  EXPECT_EQ(c.at("securityContext").at("allowPrivilegeEscalation"), false);
  EXPECT_EQ(c.at("securityContext").at("readOnlyRootFilesystem"), true);
  EXPECT_EQ(c.at("securityContext").at("capabilities"),
            (json::object{{"drop", json::array{"ALL"}}}));
  const auto& args = c.at("args").as_array();
  EXPECT_EQ(args.at(0).as_string().subview().substr(0, 10), "--port=80:");
  EXPECT_EQ(args.at(1), "--control-port=4200");
  EXPECT_EQ(args.at(2), "--health-port=4201");
  EXPECT_EQ(args.at(3), "--grace=30s");
  EXPECT_EQ(args.at(4), "--keepalive-interval=5s");
  EXPECT_EQ(args.at(5), "--keepalive-timeout=10s");
  EXPECT_EQ(c.at("env").at(0).at("valueFrom").at("secretKeyRef").at("key"), "token");
  const auto& ports = c.at("ports").as_array();
  EXPECT_EQ(ports.at(0).at("name"), "http");
  EXPECT_EQ(ports.at(1).at("name"), "devx-control");
  EXPECT_EQ(ports.at(2).at("name"), "devx-health");
  EXPECT_EQ(c.at("readinessProbe").at("httpGet").at("path"), "/readyz");
  EXPECT_EQ(c.at("livenessProbe").at("httpGet").at("path"), "/livez");
  EXPECT_TRUE(c.at("resources").at("limits").as_object().contains("memory"));

  const auto low =
      agent_job(spec_for(service(R"({"selector":{"app":"p"},"ports":[{"port":80}]})")));
  EXPECT_EQ(low.at("spec")
                .at("template")
                .at("spec")
                .at("containers")
                .at(0)
                .at("securityContext")
                .at("capabilities")
                .at("add"),
            json::array{"NET_BIND_SERVICE"});
}

TEST(AgentManifests, BadImageIsRefusedBeforeAnythingIsBuilt) {
  const auto svc = service(R"({"selector":{"app":"p"},"ports":[{"port":8080}]})");
  EXPECT_EQ(code_of([&] {
              agent_job(spec_for(svc, "ghcr.io/VitruvianSoftware/devx-bridge-agent:v0.1.0"));
            }),
            ErrorCode::invalid_argument);
  auto bad_sid = spec_for(svc);
  bad_sid.session_id = "XYZ";
  EXPECT_EQ(code_of([&] { agent_job(bad_sid); }), ErrorCode::invalid_argument);
}

TEST(AgentManifests, OwnedObjectsPointAtTheJob) {
  const auto objects = owned_objects(
      spec_for(service(R"({"selector":{"app":"p"},"ports":[{"port":8080}]})")), "uid-1");
  ASSERT_EQ(objects.size(), 4U);
  std::vector<std::string> kinds;
  for (const auto& o : objects) {
    kinds.emplace_back(o.at("kind").as_string());
    const auto& owner = o.at("metadata").at("ownerReferences").at(0);
    EXPECT_EQ(owner.at("kind"), "Job");
    EXPECT_EQ(owner.at("uid"), "uid-1");
    EXPECT_EQ(owner.at("name"), "devx-bridge-agent-0123abcd");
    EXPECT_EQ(o.at("metadata").at("labels").at("devx.dev/bridge-session"), "0123abcd");
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"ServiceAccount", "Role", "RoleBinding", "Secret"}));
  const auto& rule = objects.at(1).at("rules").at(0);
  EXPECT_EQ(rule.at("resourceNames"), json::array{"payments"});
  EXPECT_EQ(rule.at("verbs"), (json::array{"get", "patch"}));
  EXPECT_EQ(objects.at(3).at("stringData").at("token"), "tok-5e3c7e7");
}

TEST(SelectorPatches, SwapTestsReplacesAndRecords) {
  auto svc = service(R"({"selector":{"app":"p","kubernetes.io/tier":"x"},"ports":[{"port":1}]})");
  svc["metadata"].as_object()["annotations"] = json::object{{"keep", "me"}};
  const auto ops = selector_swap_patch(svc, "0123abcd");
  ASSERT_EQ(ops.size(), 4U);
  EXPECT_EQ(ops[0].at("op"), "test");
  EXPECT_EQ(ops[0].at("value"), (json::object{{"app", "p"}, {"kubernetes.io/tier", "x"}}));
  EXPECT_EQ(ops[1].at("value"), (json::object{{"devx.dev/bridge-session", "0123abcd"}}));
  EXPECT_EQ(ops[2].at("path"), "/metadata/annotations/devx.dev~1bridge-session");
  EXPECT_EQ(ops[3].at("path"), "/metadata/annotations/devx.dev~1original-selector");
  EXPECT_EQ(json::parse(ops[3].at("value").as_string()), ops[0].at("value"));
  EXPECT_EQ(json_pointer_escape("a/b~c"), "a~1b~0c");
}

TEST(SelectorPatches, PollutedSelectorsAreConflicts) {
  EXPECT_TRUE(is_polluted(json::object{{"app", "p"}, {"devx-bridge", "agent"}}));
  EXPECT_TRUE(is_polluted(json::object{{"devx.dev/bridge-session", "x"}}));
  EXPECT_FALSE(is_polluted(json::object{{"app", "devx-bridge"}}));
  const auto svc =
      service(R"({"selector":{"app":"p","devx-bridge-session":"abc12345"},"ports":[{"port":1}]})");
  try {
    selector_swap_patch(svc, "0123abcd");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
    EXPECT_NE(e.hint().find("devx bridge doctor --repair"), std::string::npos);
  }
}

// The whole agent lifecycle on the fake cluster, with a stand-in agent process.
class AgentOnFakeCluster : public ::testing::Test {
 protected:
  AgentOnFakeCluster()
      : cluster_(std::map<std::string, std::string>{
            {"FAKE_KUBE_AGENT_BIN",
             std::string(DEVX_SOURCE_DIR) + "/tests/fakes/kubefake/standin_agent.py"}}),
        kubectl_(cluster_.context(), cluster_.settings()) {}

  json::object deploy(AgentSpec spec) {
    const auto job = kubectl_.apply(json::array{agent_job(spec)}).at(0).as_object();
    const std::string uid(job.at("metadata").at("uid").as_string());
    kubectl_.apply(owned_objects(spec, uid));
    return kubectl_.patch_merge("job", agent_name(spec.session_id), spec.namespace_,
                                unsuspend_patch());
  }

  test::FakeCluster cluster_;
  Kubectl kubectl_;
};

TEST_F(AgentOnFakeCluster, DeploySwapSelfHealAndGarbageCollect) {
  cluster_.config(R"({"pod_security": {"shop": "restricted"}})");
  const json::object original{{"app", "payments"}, {"tier", "backend"}};
  cluster_.seed(json::serialize(service(
      R"({"selector":{"app":"payments","tier":"backend"},"ports":[{"name":"web","port":80,"targetPort":"http"}]})")));
  const AgentSpec spec = spec_for(kubectl_.get("service", "payments", "shop"));

  // Suspended: no pod until the owned objects exist.
  kubectl_.apply(json::array{agent_job(spec)});
  EXPECT_FALSE(kubectl_.pod_status("shop", agent_pod_selector("0123abcd")));
  kubectl_.remove("job", agent_name("0123abcd"), "shop");
  deploy(spec);

  std::optional<PodStatus> status;
  ASSERT_TRUE(test::eventually([&] {
    status = kubectl_.pod_status("shop", agent_pod_selector("0123abcd"));
    return status && status->ready;
  })) << (status ? status->phase + " " + status->waiting_reason + " " + status->message : "no pod");
  EXPECT_EQ(status->phase, "Running");
  EXPECT_FALSE(status->failure());
  EXPECT_EQ(status->name.rfind("devx-bridge-agent-0123abcd-", 0), 0U);

  // The pod reads its token from the Secret (never from argv).
  const auto pod = kubectl_.get("pod", status->name, "shop");
  EXPECT_EQ(json::serialize(pod.at("spec")).find("tok-5e3c7e7"), std::string::npos);

  kubectl_.patch_json("service", "payments", "shop",
                      selector_swap_patch(kubectl_.get("service", "payments", "shop"), "0123abcd"));
  // The kubelet's SIGTERM (pod deleted, deadline reached): the agent restores the Service through
  // the API with its own, narrowly scoped account.
  ASSERT_TRUE(cluster_.kubectl({"delete", "pod", status->name, "-n", "shop"}).ok());
  ASSERT_TRUE(test::eventually([&] {
    return kubectl_.get("service", "payments", "shop").at("spec").at("selector") == original;
  })) << test::slurp(cluster_.state() / "_agents/shop" / (status->name + ".log"));
  EXPECT_NE(cluster_.calls().find("PATCH /api/v1/namespaces/shop/services/payments"),
            std::string::npos);

  // Deleting the Job garbage-collects everything it owns.
  kubectl_.remove("job", agent_name("0123abcd"), "shop");
  for (const char* kind : {"serviceaccount", "role", "rolebinding", "secret", "pod"}) {
    EXPECT_TRUE(cluster_
                    .kubectl({"get", kind, "-n", "shop", "-l", "devx.dev/bridge-session=0123abcd",
                              "-o", "name"})
                    .out.empty())
        << kind;
  }
}

TEST_F(AgentOnFakeCluster, InvalidImageFailsFast) {
  cluster_.seed(json::serialize(service(R"({"selector":{"app":"p"},"ports":[{"port":8080}]})")));
  AgentSpec spec = spec_for(kubectl_.get("service", "payments", "shop"));
  spec.image = "ghcr.io/vitruviansoftware/absent:1";
  cluster_.config(R"({"missing_images": ["ghcr.io/vitruviansoftware/absent:1"]})");
  deploy(spec);
  const auto status = kubectl_.pod_status("shop", agent_pod_selector("0123abcd"));
  ASSERT_TRUE(status);
  ASSERT_TRUE(status->failure());
  EXPECT_EQ(status->failure()->code(), ErrorCode::not_found);
  EXPECT_EQ(status->waiting_reason, "ErrImagePull");
}

TEST_F(AgentOnFakeCluster, PodSecurityRejectionIsReported) {
  cluster_.config(R"({"pod_security": {"shop": "restricted"}})");
  cluster_.seed(json::serialize(service(R"({"selector":{"app":"p"},"ports":[{"port":8080}]})")));
  auto job = agent_job(spec_for(kubectl_.get("service", "payments", "shop")));
  auto& container = job["spec"]
                        .as_object()["template"]
                        .as_object()["spec"]
                        .as_object()["containers"]
                        .as_array()[0]
                        .as_object();
  container.erase("securityContext");
  job["spec"].as_object()["suspend"] = false;
  kubectl_.apply(json::array{job});
  EXPECT_FALSE(kubectl_.pod_status("shop", agent_pod_selector("0123abcd")));
  const auto problems = kubectl_.job_problems("shop", agent_name("0123abcd"));
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_NE(problems[0].find("violates PodSecurity"), std::string::npos) << problems[0];
}

TEST(PodStatusParse, FailFastReasons) {
  const auto pod = [](const std::string& waiting) {
    return json::parse(R"({"metadata":{"name":"p"},"status":{"phase":"Pending","containerStatuses":[
      {"name":"agent","restartCount":0,"state":{"waiting":{"reason":")" +
                       waiting + R"(","message":"m"}}}]}})")
        .as_object();
  };
  EXPECT_EQ(parse_pod_status(pod("InvalidImageName")).failure()->code(),
            ErrorCode::invalid_argument);
  EXPECT_EQ(parse_pod_status(pod("ImagePullBackOff")).failure()->code(), ErrorCode::not_found);
  EXPECT_EQ(parse_pod_status(pod("CreateContainerConfigError")).failure()->code(),
            ErrorCode::invalid_argument);
  EXPECT_EQ(parse_pod_status(pod("CrashLoopBackOff")).failure()->code(), ErrorCode::command_failed);
  EXPECT_FALSE(parse_pod_status(pod("ContainerCreating")).failure());
}

}  // namespace
}  // namespace devx::bridge::kube
