// The dev machine's built-in Butane configuration. Values are validated, then substituted into
// the *parsed* template (as scalar data), and the tree is written back out with yaml-cpp's
// emitter, which quotes as needed; a re-parse proves the substitution did not change the shape.
#include <devx/error.hpp>
#include <devx/ignition.hpp>

#include "vm/ignition/go_json.hpp"

#include <yaml-cpp/yaml.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>

namespace devx {

namespace json = boost::json;

namespace {

// Every file devx writes has overwrite: true, so that provisioning again (or the SSH replay)
// converges on the current values instead of keeping stale ones.
constexpr std::string_view kTemplate = R"(variant: fcos
version: 1.5.0
passwd:
  users:
    - name: core
      ssh_authorized_keys:
        - ${SSH_AUTHORIZED_KEYS}
storage:
  directories:
    - path: /etc/devx
      mode: 0755
    - path: /etc/devx/tailscale
      mode: 0700
    - path: /etc/devx/tunnel
      mode: 0755
    - path: /var/lib/tailscale
      mode: 0700
  files:
    - path: /etc/hostname
      mode: 0644
      overwrite: true
      contents:
        inline: ${HOSTNAME_LINE}
    - path: /etc/sysctl.d/99-inotify.conf
      mode: 0644
      overwrite: true
      contents:
        inline: |
          fs.inotify.max_user_instances=8192
          fs.inotify.max_user_watches=524288
    - path: /etc/devx/tunnel/credentials.json
      mode: 0600
      overwrite: true
      # cloudflared's image runs as uid 65532 (nonroot); the secret stays unreadable to others.
      user:
        id: 65532
      group:
        id: 65532
      contents:
        inline: ${TUNNEL_CREDENTIALS_JSON}
    - path: /etc/cloudflared/config.yml
      mode: 0644
      overwrite: true
      contents:
        inline: ${CLOUDFLARED_CONFIG}
    - path: /etc/devx/tailscale/authkey
      mode: 0600
      overwrite: true
      contents:
        inline: ${TAILSCALE_AUTH_KEY_LINE}
systemd:
  units:
    - name: tailscaled.service
      enabled: true
      contents: |
        [Unit]
        Description=Tailscale node agent (devx)
        Wants=network-online.target
        After=network-online.target

        [Service]
        ExecStartPre=-/usr/bin/env ${RUNTIME} rm -f devx-tailscaled
        ExecStart=/usr/bin/env ${RUNTIME} run --rm --name devx-tailscaled --label devx.system=true \
          --network=host --cap-add=NET_ADMIN --cap-add=NET_RAW --device=/dev/net/tun \
          -v /var/lib/tailscale:/var/lib/tailscale -v /etc/devx/tailscale:/etc/devx/tailscale:ro \
          docker.io/tailscale/tailscale:stable tailscaled --state=/var/lib/tailscale/tailscaled.state
        ExecStop=/usr/bin/env ${RUNTIME} stop devx-tailscaled
        Restart=always
        RestartSec=5

        [Install]
        WantedBy=multi-user.target
    - name: devx-tailscale-up.service
      enabled: true
      contents: |
        [Unit]
        Description=Join the tailnet with the auth key devx provisioned
        Requires=tailscaled.service
        After=tailscaled.service
        ConditionPathExists=/etc/devx/tailscale/authkey

        [Service]
        Type=oneshot
        RemainAfterExit=yes
        # The key is read from the 0600 file inside the container; it never appears in argv.
        ExecStart=/usr/bin/env ${RUNTIME} exec devx-tailscaled tailscale up \
          --auth-key=file:/etc/devx/tailscale/authkey --hostname=${HOSTNAME}
        Restart=on-failure
        RestartSec=5

        [Install]
        WantedBy=multi-user.target
    - name: cloudflared.service
      enabled: true
      contents: |
        [Unit]
        Description=Cloudflare Tunnel (devx)
        Wants=network-online.target
        After=network-online.target

        [Service]
        ExecStartPre=-/usr/bin/env ${RUNTIME} rm -f devx-cloudflared
        ExecStart=/usr/bin/env ${RUNTIME} run --rm --name devx-cloudflared --label devx.system=true \
          --network=host -v /etc/cloudflared:/etc/cloudflared:ro -v /etc/devx/tunnel:/etc/devx/tunnel:ro \
          docker.io/cloudflare/cloudflared:latest tunnel --no-autoupdate --config /etc/cloudflared/config.yml run
        ExecStop=/usr/bin/env ${RUNTIME} stop devx-cloudflared
        Restart=always
        RestartSec=5

        [Install]
        WantedBy=multi-user.target
)";

[[noreturn]] void invalid(std::string_view field, const std::string& problem, std::string hint) {
  throw Error(ErrorCode::invalid_argument,
              "dev machine value " + std::string(field) + ": " + problem, std::move(hint));
}

bool matches(const std::string& value, const std::regex& pattern) {
  return std::regex_match(value, pattern);
}

void validate(const DevMachineValues& values) {
  static const std::regex kLabel("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  static const std::regex kDnsName(
      "([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?");
  static const std::regex kSshKey(
      "(ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|"
      "sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,3}"
      "( [\\x20-\\x7e]*)?");
  static const std::regex kUuid(
      "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  static const std::regex kService(
      "((https?|tcp|ssh|rdp)://[A-Za-z0-9.\\-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/%\\-]*)?)|"
      "(http_status:[1-5][0-9][0-9])");
  static const std::regex kAuthKey("[A-Za-z0-9._+/=:\\-]{1,512}");

  if (!matches(values.hostname, kLabel))
    invalid("hostname", "'" + values.hostname + "' is not a DNS label",
            "use 1-63 lowercase letters, digits and '-', not starting or ending with '-'");
  if (values.ssh_authorized_keys.empty())
    invalid("ssh_authorized_keys", "at least one key is needed to reach the VM",
            "pass the public key devx uses for the VM (e.g. ~/.ssh/id_ed25519.pub)");
  for (const std::string& key : values.ssh_authorized_keys)
    if (!matches(key, kSshKey))
      invalid("ssh_authorized_keys",
              "'" + key.substr(0, 40) + "' is not one OpenSSH public key line",
              "give the contents of a .pub file: '<type> <base64> [comment]' on one line");
  if (values.runtime != "podman" && values.runtime != "docker")
    invalid("runtime", "'" + values.runtime + "' is not podman or docker", "use podman or docker");

  const bool any_tunnel = !values.tunnel_id.empty() || !values.tunnel_credentials_json.empty() ||
                          !values.tunnel_hostname.empty();
  if (any_tunnel) {
    if (values.tunnel_id.empty() || values.tunnel_credentials_json.empty() ||
        values.tunnel_hostname.empty())
      invalid("tunnel", "tunnel_id, tunnel_credentials_json and tunnel_hostname go together",
              "set all three, or none for a VM without cloudflared");
    if (!matches(values.tunnel_id, kUuid))
      invalid("tunnel_id", "'" + values.tunnel_id + "' is not a UUID",
              "use the id `cloudflared tunnel create` printed");
    if (!matches(values.tunnel_hostname, kDnsName))
      invalid("tunnel_hostname", "'" + values.tunnel_hostname + "' is not a DNS name",
              "use a lowercase name such as app.example.com");
    if (!matches(values.tunnel_service, kService))
      invalid("tunnel_service", "'" + values.tunnel_service + "' is not a cloudflared service URL",
              "use http://localhost:8080 or similar");
    std::error_code ec;
    json::value credentials = json::parse(values.tunnel_credentials_json, ec);
    if (ec || !credentials.is_object())
      invalid("tunnel_credentials_json", "is not a JSON object",
              "pass the contents of the tunnel's credentials file (~/.cloudflared/<id>.json)");
    const json::object& object = credentials.get_object();
    if (const json::value* id = object.if_contains("TunnelID")) {
      std::string text = id->is_string() ? std::string(id->get_string()) : std::string();
      std::string expected = values.tunnel_id;
      const auto lower = [](std::string& s) {
        std::transform(s.begin(), s.end(), s.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      };
      lower(text);
      lower(expected);
      if (text != expected)
        invalid("tunnel_credentials_json", "belongs to tunnel '" + text + "', not " + expected,
                "pass the credentials of the tunnel named by tunnel_id");
    }
  }
  if (!values.tailscale_auth_key.empty() && !matches(values.tailscale_auth_key, kAuthKey))
    invalid("tailscale_auth_key", "contains characters an auth key does not have",
            "paste the key exactly as the Tailscale admin console shows it (tskey-…)");
}

// A string as a YAML/JSON double-quoted scalar: values in cloudflared's YAML config stay data.
std::string quoted(const std::string& value) { return json::serialize(json::value(value)); }

std::string cloudflared_config(const DevMachineValues& values) {
  return "tunnel: " + quoted(values.tunnel_id) +
         "\n"
         "credentials-file: /etc/devx/tunnel/credentials.json\n"
         "ingress:\n"
         "  - hostname: " +
         quoted(values.tunnel_hostname) +
         "\n"
         "    service: " +
         quoted(values.tunnel_service) +
         "\n"
         "  - service: http_status:404\n";
}

// Replaces every ${NAME} in the scalars of `node`; an unknown name is a bug in the template.
void substitute(YAML::Node node, const std::map<std::string, std::string>& values) {
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) substitute(it->second, values);
    return;
  }
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) substitute(node[i], values);
    return;
  }
  if (!node.IsScalar()) return;
  const std::string& text = node.Scalar();
  if (text.find("${") == std::string::npos) return;
  std::string out;
  std::size_t position = 0;
  while (true) {
    const std::size_t open = text.find("${", position);
    if (open == std::string::npos) break;
    const std::size_t close = text.find('}', open);
    if (close == std::string::npos) break;
    const std::string name = text.substr(open + 2, close - open - 2);
    auto value = values.find(name);
    if (value == values.end())
      throw Error(ErrorCode::internal, "dev machine template: no value for ${" + name + "}");
    out += text.substr(position, open - position);
    out += value->second;
    position = close + 1;
  }
  out += text.substr(position);
  node = out;
}

YAML::Node without(const YAML::Node& list, std::string_view key,
                   std::initializer_list<std::string_view> dropped) {
  YAML::Node kept(YAML::NodeType::Sequence);
  for (const YAML::Node& entry : list) {
    const std::string name = entry[std::string(key)].as<std::string>();
    if (std::find(dropped.begin(), dropped.end(), name) == dropped.end()) kept.push_back(entry);
  }
  return kept;
}

bool same_tree(const YAML::Node& a, const YAML::Node& b) {
  if (a.Type() != b.Type()) return false;
  if (a.IsScalar()) return a.Scalar() == b.Scalar();
  if (a.size() != b.size()) return false;
  if (a.IsSequence()) {
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!same_tree(a[i], b[i])) return false;
    return true;
  }
  if (a.IsMap()) {
    auto ia = a.begin();
    auto ib = b.begin();
    for (; ia != a.end(); ++ia, ++ib)
      if (!same_tree(ia->first, ib->first) || !same_tree(ia->second, ib->second)) return false;
  }
  return true;
}

// Multi-line values as literal blocks keep the emitted document readable; everything else is left
// to the emitter's quoting.
void emit(YAML::Emitter& out, const YAML::Node& node) {
  if (node.IsMap()) {
    out << YAML::BeginMap;
    for (auto it = node.begin(); it != node.end(); ++it) {
      out << YAML::Key;
      emit(out, it->first);
      out << YAML::Value;
      emit(out, it->second);
    }
    out << YAML::EndMap;
  } else if (node.IsSequence()) {
    out << YAML::BeginSeq;
    for (const YAML::Node& entry : node) emit(out, entry);
    out << YAML::EndSeq;
  } else {
    const std::string& text = node.Scalar();
    const bool literal_safe =
        text.size() > 1 && text.back() == '\n' && text[text.size() - 2] != '\n' &&
        text.front() != ' ' && text.find(" \n") == std::string::npos &&
        std::all_of(text.begin(), text.end(), [](char c) {
          return c == '\n' || (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
        });
    if (literal_safe) out << YAML::Literal;
    out << text;
  }
}

}  // namespace

std::string_view dev_machine_butane_template() { return kTemplate; }

DevMachineConfig dev_machine_config(const DevMachineValues& values) {
  validate(values);
  YAML::Node document = YAML::Load(std::string(kTemplate));
  const bool tunnel = !values.tunnel_id.empty();
  const bool tailscale_key = !values.tailscale_auth_key.empty();
  YAML::Node storage = document["storage"];
  YAML::Node systemd = document["systemd"];
  if (!tunnel) {
    storage["files"] =
        without(storage["files"], "path",
                {"/etc/devx/tunnel/credentials.json", "/etc/cloudflared/config.yml"});
    storage["directories"] = without(storage["directories"], "path", {"/etc/devx/tunnel"});
    systemd["units"] = without(systemd["units"], "name", {"cloudflared.service"});
  }
  if (!tailscale_key) {
    storage["files"] = without(storage["files"], "path", {"/etc/devx/tailscale/authkey"});
    systemd["units"] = without(systemd["units"], "name", {"devx-tailscale-up.service"});
  }
  // The list placeholder stays until the scalars are done, so that no key is ever scanned for
  // placeholders.
  substitute(document, {{"SSH_AUTHORIZED_KEYS", "${SSH_AUTHORIZED_KEYS}"},
                        {"HOSTNAME", values.hostname},
                        {"HOSTNAME_LINE", values.hostname + "\n"},
                        {"RUNTIME", values.runtime},
                        {"TUNNEL_CREDENTIALS_JSON", values.tunnel_credentials_json},
                        {"CLOUDFLARED_CONFIG", tunnel ? cloudflared_config(values) : ""},
                        {"TAILSCALE_AUTH_KEY_LINE", values.tailscale_auth_key + "\n"}});
  YAML::Node keys(YAML::NodeType::Sequence);
  for (const std::string& key : values.ssh_authorized_keys) keys.push_back(key);
  document["passwd"]["users"][0]["ssh_authorized_keys"] = keys;

  YAML::Emitter out;
  out.SetIndent(2);
  emit(out, document);
  if (!out.good())
    throw Error(ErrorCode::internal, "dev machine config: cannot emit YAML: " + out.GetLastError());
  DevMachineConfig config;
  config.butane = std::string(out.c_str()) + "\n";
  if (!same_tree(YAML::Load(config.butane), document))
    throw Error(ErrorCode::internal,
                "dev machine config: the emitted document does not read back as written");
  ButaneOptions options;
  options.source_name = "<dev machine config>";
  options.strict = true;
  config.output = compile_butane(config.butane, options);
  return config;
}

}  // namespace devx
