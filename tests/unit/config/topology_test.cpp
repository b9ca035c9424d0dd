#include <devx/config.hpp>
#include <devx/topology.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace {

devx::Project load(std::string_view yaml) {
  devx::LoadOptions options;
  options.user = "alice";
  devx::LoadResult result = devx::load_project_from_string(yaml, "/virtual/shop/devx.yaml", options);
  EXPECT_TRUE(result.ok()) << (result.diagnostics.empty() ? "" : result.diagnostics[0].to_string());
  return result.project.value_or(devx::Project{});
}

constexpr std::string_view kShop = R"(name: shop
databases:
  - engine: postgres
services:
  - name: api
    command: ./api
    port: 8080
    healthcheck: {http: "http://localhost:8080/"}
    depends_on: [postgres]
  - name: web
    command: ./web
    port: 3000
    depends_on: [{name: api, condition: service_started}]
tunnels:
  - name: shop
    port: 3000
)";

TEST(Topology, MermaidHasNodesEdgesAndExposure) {
  const std::string map = devx::render_map(load(kShop), devx::MapFormat::mermaid);
  EXPECT_EQ(map.rfind("flowchart TD\n", 0), 0u);
  EXPECT_NE(map.find("db_postgres[(\"postgres:5432\")]:::db"), std::string::npos) << map;
  EXPECT_NE(map.find("svc_api(\"api:8080\"):::svc"), std::string::npos) << map;
  EXPECT_NE(map.find("db_postgres -->|\"service_healthy\"| svc_api"), std::string::npos) << map;
  EXPECT_NE(map.find("svc_api -->|\"service_started\"| svc_web"), std::string::npos) << map;
  EXPECT_NE(map.find("svc_web -.->|\"expose\"| tunnel_shop"), std::string::npos) << map;
}

TEST(Topology, IdsNeverCollideAndKeywordsAreSafe) {
  const std::string map = devx::render_map(load(R"(
services:
  - {name: a-b, command: x}
  - {name: a_b, command: x}
  - {name: end, command: x}
)"),
                                           devx::MapFormat::mermaid);
  EXPECT_NE(map.find("svc_a_b(\"a-b\")"), std::string::npos) << map;
  EXPECT_NE(map.find("svc_a_b_2(\"a_b\")"), std::string::npos) << map;
  EXPECT_NE(map.find("svc_end("), std::string::npos) << map;
  EXPECT_EQ(map.find("\n    end"), std::string::npos) << map;
}

TEST(Topology, ServiceAndDatabaseOfTheSameKindGetDistinctIds) {
  const std::string map = devx::render_map(load(R"(
databases:
  - {engine: redis, name: cache}
services:
  - {name: cache-warmer, command: x, depends_on: [cache]}
)"),
                                           devx::MapFormat::json);
  const auto doc = boost::json::parse(map).as_object();
  EXPECT_EQ(doc.at("nodes").as_array().size(), 2u);
  EXPECT_EQ(doc.at("nodes").as_array()[0].at("id"), "db_cache");
  EXPECT_EQ(doc.at("edges").as_array()[0].at("from"), "db_cache");
  EXPECT_EQ(doc.at("edges").as_array()[0].at("to"), "svc_cache_warmer");
}

TEST(Topology, DotEscapesLabels) {
  devx::Project project = load(kShop);
  project.name = "say \"hi\"";
  const std::string dot = devx::render_map(project, devx::MapFormat::dot);
  EXPECT_EQ(dot.rfind("digraph \"say \\\"hi\\\"\" {", 0), 0u) << dot;
  EXPECT_NE(dot.find("db_postgres -> svc_api [label=\"service_healthy\"];"), std::string::npos) << dot;
  EXPECT_NE(dot.find("svc_web -> tunnel_shop [label=\"expose\", style=dashed];"), std::string::npos);
}

TEST(Topology, JsonListsEveryNodeAndEdge) {
  const auto doc = boost::json::parse(devx::render_map(load(kShop), devx::MapFormat::json)).as_object();
  EXPECT_EQ(doc.at("v"), 1);
  EXPECT_EQ(doc.at("project"), "shop");
  EXPECT_EQ(doc.at("nodes").as_array().size(), 4u);
  EXPECT_EQ(doc.at("edges").as_array().size(), 3u);
}

TEST(Topology, DocumentWrapsMermaidInMarkdown) {
  const std::string doc = devx::render_map_document(load(kShop));
  EXPECT_EQ(doc.rfind("# shop \xE2\x80\x94 Architecture Topology\n", 0), 0u);
  EXPECT_NE(doc.find("```mermaid\nflowchart TD\n"), std::string::npos);
  EXPECT_EQ(doc.substr(doc.size() - 4), "```\n");
}

TEST(Topology, ParsesFormats) {
  EXPECT_EQ(devx::parse_map_format("dot"), devx::MapFormat::dot);
  EXPECT_FALSE(devx::parse_map_format("svg").has_value());
}

}  // namespace
