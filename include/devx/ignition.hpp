#pragma once
// Butane → Ignition: a native compiler for the Fedora CoreOS ("fcos") variant of Butane (a drop-in
// for `butane --pretty --strict`), and the dev machine's built-in configuration. docs/ignition.md
// lists the supported versions and fields and how the output matches Butane's byte for byte.
#include <devx/config.hpp>
#include <devx/export.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace devx {

struct ButaneOptions {
  // Name shown in diagnostics ("<source_name>:line:col: …").
  std::string source_name = "<stdin>";
  // Root for `local:` sources (storage.files contents, storage.trees, systemd contents), like
  // butane --files-dir. Empty: a local source is an error. A path may not escape this directory.
  std::filesystem::path files_dir;
  // Warnings are errors (butane --strict).
  bool strict = false;
  // Indented output as `butane --pretty` writes it; otherwise compact.
  bool pretty = true;
};

struct ButaneOutput {
  std::string ignition;              // the Ignition JSON document, ending in '\n'
  std::string ignition_version;      // e.g. "3.4.0"
  std::vector<Diagnostic> warnings;  // non-fatal findings (in strict mode they are errors)
};

// Compiles a Butane document. Throws Error(config_invalid) whose details.diagnostics list every
// problem as {severity,file,line,column,message,hint} (unknown keys, wrong types, invalid values,
// duplicate paths, and in strict mode the warnings), Error(unsupported) for a variant/version
// that is not supported, Error(io) for an unreadable local source.
DEVX_API ButaneOutput compile_butane(std::string_view document, const ButaneOptions& options = {});

struct ButaneVersion {
  std::string variant;           // "fcos"
  std::string butane_version;    // "1.5.0"
  std::string ignition_version;  // "3.4.0"
};
// The (variant, Butane version, Ignition version) triples compile_butane accepts.
DEVX_API std::vector<ButaneVersion> supported_butane_versions();

// Values for the built-in dev machine configuration. They are substituted into the parsed
// document as data (scalar values or generated file contents, never YAML text), so no value can
// change the document's structure; each is validated first (Error(invalid_argument) naming it).
struct DevMachineValues {
  std::string hostname;                          // the VM name, a DNS label
  std::vector<std::string> ssh_authorized_keys;  // OpenSSH public key lines
  std::string runtime = "podman";                // engine inside the VM: "podman" | "docker"
  // Cloudflare Tunnel run by a cloudflared unit; all empty = no cloudflared unit.
  std::string tunnel_id;                // UUID
  std::string tunnel_credentials_json;  // secret: the tunnel's credentials file, written 0600
  std::string tunnel_hostname;          // public hostname routed to tunnel_service
  std::string tunnel_service = "http://localhost:8080";
  // Tailscale: tailscaled always runs; with a key, a oneshot unit joins the tailnet using it.
  std::string tailscale_auth_key;  // secret: written to a 0600 file, never on a command line
};

// The built-in Butane document (fcos 1.5.0) with its ${…} placeholders, as embedded in the library.
DEVX_API std::string_view dev_machine_butane_template();

struct DevMachineConfig {
  std::string butane;  // the document after substitution (contains secrets: keep it 0600)
  ButaneOutput output;
};
// The built-in configuration with `values` substituted, compiled in strict mode.
DEVX_API DevMachineConfig dev_machine_config(const DevMachineValues& values);

}  // namespace devx
