// Topology maps of a project in Mermaid, Graphviz dot and JSON. Node ids carry their kind
// (svc_, db_, tunnel_) so a service and a database of the same name never collide, and are made
// unique after sanitising; labels are escaped for each format.
#include <devx/topology.hpp>

#include <boost/json.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace devx {
namespace {

namespace json = boost::json;

enum class NodeKind { service, database, tunnel };

struct MapNode {
  std::string id;
  NodeKind kind;
  std::string name;
  int port = 0;
  std::string detail;  // runtime of a service, engine of a database
};

struct MapEdge {
  std::string from;  // the dependency (or the exposed service)
  std::string to;    // the dependent (or the tunnel)
  bool expose = false;
  std::string condition;
};

struct Topology {
  std::vector<MapNode> nodes;
  std::vector<MapEdge> edges;
};

std::string_view kind_name(NodeKind kind) {
  switch (kind) {
    case NodeKind::service:
      return "service";
    case NodeKind::database:
      return "database";
    case NodeKind::tunnel:
      break;
  }
  return "tunnel";
}

Topology build(const Project& project) {
  Topology topology;
  std::set<std::string> used;
  std::map<std::string, std::string> node_ids;  // service/database name → id
  auto make_id = [&](std::string_view prefix, const std::string& name) {
    std::string id(prefix);
    for (char c : name) id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    std::string unique = id;
    for (int n = 2; !used.insert(unique).second; ++n) unique = id + "_" + std::to_string(n);
    return unique;
  };
  for (const Database& db : project.databases) {
    MapNode node{make_id("db_", db.name), NodeKind::database, db.name, db.port,
                 std::string(to_string(db.engine))};
    node_ids[db.name] = node.id;
    topology.nodes.push_back(std::move(node));
  }
  for (const Service& service : project.services) {
    MapNode node{make_id("svc_", service.name), NodeKind::service, service.name,
                 service.port.value_or(0), std::string(to_string(service.runtime))};
    node_ids.emplace(service.name, node.id);
    topology.nodes.push_back(std::move(node));
  }
  for (const Tunnel& tunnel : project.tunnels)
    topology.nodes.push_back({make_id("tunnel_", tunnel.name), NodeKind::tunnel, tunnel.name, tunnel.port, {}});

  for (const Service& service : project.services) {
    for (const Dependency& dependency : service.depends_on) {
      auto from = node_ids.find(dependency.name);
      if (from == node_ids.end()) continue;
      topology.edges.push_back({from->second, node_ids[service.name], false,
                                std::string(to_string(dependency.condition))});
    }
  }
  for (const MapNode& tunnel : topology.nodes) {
    if (tunnel.kind != NodeKind::tunnel) continue;
    for (const MapNode& service : topology.nodes)
      if (service.kind == NodeKind::service && service.port != 0 && service.port == tunnel.port)
        topology.edges.push_back({service.id, tunnel.id, true, {}});
  }
  return topology;
}

std::string with_port(const std::string& text, int port) {
  return port ? text + ":" + std::to_string(port) : text;
}

std::string mermaid_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"') out += "#quot;";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

std::string render_mermaid(const Topology& topology) {
  std::string out = "flowchart TD\n";
  out += "    classDef db fill:#e8f4fd,stroke:#1e88e5,color:#0d47a1\n";
  out += "    classDef svc fill:#e8f5e9,stroke:#43a047,color:#1b5e20\n";
  out += "    classDef tunnel fill:#fff3e0,stroke:#fb8c00,color:#e65100\n";
  for (const MapNode& node : topology.nodes) {
    switch (node.kind) {
      case NodeKind::database: {
        std::string label = node.name == node.detail ? node.name : node.name + " (" + node.detail + ")";
        out += "    " + node.id + "[(\"" + mermaid_escape(with_port(label, node.port)) + "\")]:::db\n";
        break;
      }
      case NodeKind::service: {
        std::string label = with_port(node.name, node.port);
        if (node.detail != "host") label += " [" + node.detail + "]";
        out += "    " + node.id + "(\"" + mermaid_escape(label) + "\"):::svc\n";
        break;
      }
      case NodeKind::tunnel:
        out += "    " + node.id + "{{\"\xF0\x9F\x8C\x90 " + mermaid_escape(with_port(node.name, node.port)) +
               "\"}}:::tunnel\n";
        break;
    }
  }
  for (const MapEdge& edge : topology.edges) {
    if (edge.expose) out += "    " + edge.from + " -.->|\"expose\"| " + edge.to + "\n";
    else out += "    " + edge.from + " -->|\"" + edge.condition + "\"| " + edge.to + "\n";
  }
  return out;
}

std::string dot_quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string render_dot(const Project& project, const Topology& topology) {
  std::string out = "digraph " + dot_quote(project.name) + " {\n";
  out += "  rankdir=TB;\n  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n";
  for (const MapNode& node : topology.nodes) {
    std::string label = with_port(node.name, node.port);
    std::string attributes;
    switch (node.kind) {
      case NodeKind::database:
        if (node.name != node.detail) label += "\\n" + node.detail;
        attributes = "shape=cylinder, style=filled, fillcolor=\"#e8f4fd\"";
        break;
      case NodeKind::service:
        if (node.detail != "host") label += " [" + node.detail + "]";
        attributes = "shape=box, style=\"rounded,filled\", fillcolor=\"#e8f5e9\"";
        break;
      case NodeKind::tunnel:
        attributes = "shape=hexagon, style=filled, fillcolor=\"#fff3e0\"";
        break;
    }
    out += "  " + node.id + " [label=" + dot_quote(label) + ", " + attributes + "];\n";
  }
  for (const MapEdge& edge : topology.edges) {
    out += "  " + edge.from + " -> " + edge.to + " [label=" +
           dot_quote(edge.expose ? "expose" : edge.condition) + (edge.expose ? ", style=dashed" : "") +
           "];\n";
  }
  return out + "}\n";
}

std::string render_json(const Project& project, const Topology& topology) {
  json::array nodes;
  for (const MapNode& node : topology.nodes) {
    json::object object{{"id", node.id}, {"kind", kind_name(node.kind)}, {"name", node.name},
                        {"port", node.port}};
    if (node.kind == NodeKind::service) object["runtime"] = node.detail;
    if (node.kind == NodeKind::database) object["engine"] = node.detail;
    nodes.push_back(std::move(object));
  }
  json::array edges;
  for (const MapEdge& edge : topology.edges) {
    json::object object{{"from", edge.from}, {"to", edge.to},
                        {"kind", edge.expose ? "expose" : "depends_on"}};
    if (!edge.expose) object["condition"] = edge.condition;
    edges.push_back(std::move(object));
  }
  return json::serialize(json::object{
      {"v", 1}, {"project", project.name}, {"nodes", std::move(nodes)}, {"edges", std::move(edges)}});
}

}  // namespace

std::optional<MapFormat> parse_map_format(std::string_view text) noexcept {
  if (text == "mermaid") return MapFormat::mermaid;
  if (text == "dot") return MapFormat::dot;
  if (text == "json") return MapFormat::json;
  return std::nullopt;
}

std::string render_map(const Project& project, MapFormat format) {
  const Topology topology = build(project);
  switch (format) {
    case MapFormat::mermaid:
      return render_mermaid(topology);
    case MapFormat::dot:
      return render_dot(project, topology);
    case MapFormat::json:
      break;
  }
  return render_json(project, topology);
}

std::string render_map_document(const Project& project) {
  return "# " + project.name + " \xE2\x80\x94 Architecture Topology\n\nAuto-generated by `devx map` from `devx.yaml`.\n\n```mermaid\n" +
         render_map(project, MapFormat::mermaid) + "```\n";
}

}  // namespace devx
