#include "doctor/tool_catalog.hpp"

namespace devx::doctor {
namespace {

Package pkg(std::string name) { return Package{std::move(name), {}, false, {}}; }
Package cask(std::string name) { return Package{std::move(name), {}, true, {}}; }
Package tapped(std::string tap, std::string name) {
  return Package{std::move(name), std::move(tap), false, {}};
}
Package none(std::string how) { return Package{{}, {}, false, std::move(how)}; }

const std::string kCloudflaredRelease =
    "download a release from https://github.com/cloudflare/cloudflared/releases";
const std::string kTailscaleScript =
    "run the vendor script: curl -fsSL https://tailscale.com/install.sh | sh";
const std::string kKubectlDocs =
    "follow https://kubernetes.io/docs/tasks/tools/ (the Kubernetes package repository "
    "pkgs.k8s.io, or the release binary)";
const std::string kMutagenRelease =
    "download a release from https://github.com/mutagen-io/mutagen/releases";
const std::string k1PasswordDocs =
    "add 1Password's package repository: https://developer.1password.com/docs/cli/get-started/";
const std::string kBitwardenRelease =
    "npm install -g @bitwarden/cli, or a release from https://bitwarden.com/help/cli/";
const std::string kGcloudDocs =
    "add Google's package repository: https://cloud.google.com/sdk/docs/install";
const std::string kLimaRelease = "download a release from https://github.com/lima-vm/lima/releases";
const std::string kColimaRelease =
    "download a release from https://github.com/abiosoft/colima/releases";

std::vector<ToolSpec> build_catalog() {
  std::vector<ToolSpec> t;
  // --- vm: one container engine / VM manager is enough ------------------------------------------
  t.push_back({"podman",
               "podman",
               "vm",
               true,
               "vm-engine",
               {"--version"},
               VersionFormat::first_version,
               {},
               {},
               {{"apt", pkg("podman")},
                {"dnf", pkg("podman")},
                {"brew", pkg("podman")},
                {"pacman", pkg("podman")},
                {"apk", pkg("podman")}},
               "https://podman.io/docs/installation"});
  t.push_back({"docker",
               "docker",
               "vm",
               true,
               "vm-engine",
               {"--version"},
               VersionFormat::first_version,
               {},
               {},
               {{"apt", pkg("docker.io")},
                {"dnf", pkg("moby-engine")},
                {"brew", cask("docker")},
                {"pacman", pkg("docker")},
                {"apk", pkg("docker")}},
               "https://docs.docker.com/engine/install/"});
  t.push_back({"lima",
               "limactl",
               "vm",
               true,
               "vm-engine",
               {"--version"},
               VersionFormat::first_version,
               {},
               {},
               {{"apt", none(kLimaRelease)},
                {"dnf", pkg("lima")},
                {"brew", pkg("lima")},
                {"pacman", pkg("lima")},
                {"apk", none(kLimaRelease)}},
               "https://lima-vm.io/docs/installation/"});
  t.push_back({"colima",
               "colima",
               "vm",
               true,
               "vm-engine",
               {"version"},
               VersionFormat::first_version,
               {},
               {},
               {{"apt", none(kColimaRelease)},
                {"dnf", none(kColimaRelease)},
                {"brew", pkg("colima")},
                {"pacman", none(kColimaRelease)},
                {"apk", none(kColimaRelease)}},
               "https://github.com/abiosoft/colima"});
  t.push_back({"orbstack",
               "orb",
               "vm",
               true,
               "vm-engine",
               {"version"},
               VersionFormat::first_version,
               {"darwin"},
               {},
               {{"brew", cask("orbstack")}},
               "https://orbstack.dev/download"});

  // --- tunnel -------------------------------------------------------------------------------
  t.push_back(
      {"cloudflared",
       "cloudflared",
       "tunnel",
       true,
       {},
       {"--version"},
       VersionFormat::first_version,
       {},
       {},
       {{"apt", none("not packaged by Debian; add Cloudflare's apt repository: "
                     "curl -fsSL https://pkg.cloudflare.com/cloudflare-main.gpg | "
                     "sudo tee /usr/share/keyrings/cloudflare-main.gpg >/dev/null && "
                     "echo 'deb [signed-by=/usr/share/keyrings/cloudflare-main.gpg] "
                     "https://pkg.cloudflare.com/cloudflared any main' | "
                     "sudo tee /etc/apt/sources.list.d/cloudflared.list && "
                     "sudo apt-get update && sudo apt-get install -y cloudflared")},
        {"dnf",
         none("not packaged by Fedora; add Cloudflare's repository: "
              "curl -fsSL https://pkg.cloudflare.com/cloudflared-ascii.repo | "
              "sudo tee /etc/yum.repos.d/cloudflared.repo && sudo dnf install -y cloudflared")},
        {"brew", pkg("cloudflared")},
        {"pacman", pkg("cloudflared")},
        {"apk", none(kCloudflaredRelease)}},
       "https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/downloads/"});

  // --- mesh ---------------------------------------------------------------------------------
  t.push_back({"tailscale",
               "tailscale",
               "mesh",
               true,
               {},
               {"version"},
               VersionFormat::first_version,
               {},
               {},
               {{"apt", none("not packaged by Debian; add Tailscale's apt repository "
                             "(https://pkgs.tailscale.com/stable/#debian-bookworm) or " +
                             kTailscaleScript)},
                {"dnf", none("not packaged by Fedora; sudo dnf config-manager --add-repo "
                             "https://pkgs.tailscale.com/stable/fedora/tailscale.repo && "
                             "sudo dnf install -y tailscale")},
                {"brew", pkg("tailscale")},
                {"pacman", pkg("tailscale")},
                {"apk", pkg("tailscale")}},
               "https://tailscale.com/download"});

  // --- bridge -------------------------------------------------------------------------------
  // `version --client -o json`: four argv elements (the Go tool passed "version --client --short"
  // as one, and --short is gone since kubectl 1.28).
  t.push_back({"kubectl",
               "kubectl",
               "bridge",
               true,
               {},
               {"version", "--client", "-o", "json"},
               VersionFormat::kubectl_json,
               {},
               {},
               {{"apt", none("Debian's kubernetes-client is 1.20, too old for current clusters; " +
                             kKubectlDocs)},
                {"dnf", pkg("kubernetes-client")},
                {"brew", pkg("kubernetes-cli")},
                {"pacman", pkg("kubectl")},
                {"apk", pkg("kubectl")}},
               "https://kubernetes.io/docs/tasks/tools/"});

  // --- databases: optional, since databases also run as containers --------------------------
  const std::vector<std::string> pg_dirs = {"/usr/lib/postgresql/*/bin"};
  t.push_back({"psql",
               "psql",
               "databases",
               false,
               {},
               {"--version"},
               VersionFormat::first_version,
               {},
               {},
               {{"apt", pkg("postgresql-client")},
                {"dnf", pkg("postgresql")},
                {"brew", pkg("libpq")},
                {"pacman", pkg("postgresql")},
                {"apk", pkg("postgresql-client")}},
               "https://www.postgresql.org/download/"});
  t.push_back({"pg_ctl",
               "pg_ctl",
               "databases",
               false,
               {},
               {"--version"},
               VersionFormat::first_version,
               {},
               pg_dirs,
               {{"apt", pkg("postgresql")},
                {"dnf", pkg("postgresql-server")},
                {"brew", pkg("postgresql@16")},
                {"pacman", pkg("postgresql")},
                {"apk", pkg("postgresql")}},
               "https://www.postgresql.org/download/"});
  t.push_back({"redis-cli",
               "redis-cli",
               "databases",
               false,
               {},
               {"--version"},
               VersionFormat::first_version,
               {},
               {},
               {{"apt", pkg("redis-tools")},
                {"dnf", pkg("redis")},
                {"brew", pkg("redis")},
                {"pacman", pkg("redis")},
                {"apk", pkg("redis")}},
               "https://redis.io/docs/latest/operate/oss_and_stack/install/"});
  t.push_back({"redis-server",
               "redis-server",
               "databases",
               false,
               {},
               {"--version"},
               VersionFormat::first_version,
               {},
               {},
               {{"apt", pkg("redis-server")},
                {"dnf", pkg("redis")},
                {"brew", pkg("redis")},
                {"pacman", pkg("redis")},
                {"apk", pkg("redis")}},
               "https://redis.io/docs/latest/operate/oss_and_stack/install/"});

  // --- secrets: each needed only by env sources that name it ---------------------------------
  t.push_back({"1password-cli",
               "op",
               "secrets",
               false,
               {},
               {"--version"},
               VersionFormat::first_version,
               {},
               {},
               {{"apt", none(k1PasswordDocs)},
                {"dnf", none(k1PasswordDocs)},
                {"brew", cask("1password-cli")},
                {"pacman", none(k1PasswordDocs)},
                {"apk", none(k1PasswordDocs)}},
               "https://developer.1password.com/docs/cli/"});
  t.push_back({"bitwarden-cli",
               "bw",
               "secrets",
               false,
               {},
               {"--version"},
               VersionFormat::first_version,
               {},
               {},
               {{"apt", none(kBitwardenRelease)},
                {"dnf", none(kBitwardenRelease)},
                {"brew", pkg("bitwarden-cli")},
                {"pacman", pkg("bitwarden-cli")},
                {"apk", none(kBitwardenRelease)}},
               "https://bitwarden.com/help/cli/"});
  t.push_back({"gcloud",
               "gcloud",
               "secrets",
               false,
               {},
               {"--version"},
               VersionFormat::first_version,
               {},
               {},
               {{"apt", none(kGcloudDocs)},
                {"dnf", none(kGcloudDocs)},
                {"brew", cask("google-cloud-sdk")},
                {"pacman", none(kGcloudDocs)},
                {"apk", none(kGcloudDocs)}},
               "https://cloud.google.com/sdk/docs/install"});

  // --- ci -------------------------------------------------------------------------------------
  t.push_back({"git",
               "git",
               "ci",
               true,
               {},
               {"--version"},
               VersionFormat::first_version,
               {},
               {},
               {{"apt", pkg("git")},
                {"dnf", pkg("git")},
                {"brew", pkg("git")},
                {"pacman", pkg("git")},
                {"apk", pkg("git")}},
               "https://git-scm.com/downloads"});
  t.push_back({"gh",
               "gh",
               "ci",
               true,
               {},
               {"--version"},
               VersionFormat::first_version,
               {},
               {},
               {{"apt", pkg("gh")},
                {"dnf", pkg("gh")},
                {"brew", pkg("gh")},
                {"pacman", pkg("github-cli")},
                {"apk", pkg("github-cli")}},
               "https://cli.github.com/"});
  t.push_back({"go",
               "go",
               "ci",
               false,
               {},
               {"version"},
               VersionFormat::first_version,
               {},
               {},
               {{"apt", pkg("golang-go")},
                {"dnf", pkg("golang")},
                {"brew", pkg("go")},
                {"pacman", pkg("go")},
                {"apk", pkg("go")}},
               "https://go.dev/doc/install"});

  // --- sync -----------------------------------------------------------------------------------
  t.push_back({"mutagen",
               "mutagen",
               "sync",
               true,
               {},
               {"version"},
               VersionFormat::first_version,
               {},
               {},
               {{"apt", none(kMutagenRelease)},
                {"dnf", none(kMutagenRelease)},
                {"brew", tapped("mutagen-io/mutagen", "mutagen-io/mutagen/mutagen")},
                {"pacman", none(kMutagenRelease)},
                {"apk", none(kMutagenRelease)}},
               "https://mutagen.io/documentation/introduction/installation"});

  // --- ignition: optional cross-check of what devx compiles -----------------------------------
  t.push_back({"ignition-validate",
               "ignition-validate",
               "ignition",
               false,
               {},
               {"--version"},
               VersionFormat::first_version,
               {},
               {},
               {{"apt", pkg("ignition")},
                {"dnf", pkg("ignition-validate")},
                {"brew", none("download ignition-validate from "
                              "https://github.com/coreos/ignition/releases")},
                {"pacman", none("download ignition-validate from "
                                "https://github.com/coreos/ignition/releases")},
                {"apk", none("download ignition-validate from "
                             "https://github.com/coreos/ignition/releases")}},
               "https://coreos.github.io/ignition/"});
  return t;
}

}  // namespace

const std::vector<AreaSpec>& area_catalog() {
  static const std::vector<AreaSpec> areas = {
      {"vm", "the dev VM and containers (one engine is enough)", ""},
      {"tunnel", "public URLs through Cloudflare Tunnel", ""},
      {"mesh", "the private Tailscale network", ""},
      {"bridge", "the bridge into a Kubernetes cluster", ""},
      {"databases", "host-native databases (otherwise they run as containers)", ""},
      {"secrets", "environment sources from secret managers", ""},
      {"ci", "git, GitHub and Go tooling", ""},
      {"sync", "file sync into containers", ""},
      {"ignition", "VM provisioning",
       "butane is not needed: devx compiles Butane to Ignition itself; ignition-validate only "
       "cross-checks the result"},
  };
  return areas;
}

const std::vector<ToolSpec>& tool_catalog() {
  static const std::vector<ToolSpec> catalog = build_catalog();
  return catalog;
}

std::string_view package_table(std::string_view manager) noexcept {
  if (manager == "apt" || manager == "dnf" || manager == "brew" || manager == "pacman" ||
      manager == "apk") {
    return manager;
  }
  if (manager == "yum") return "dnf";
  return {};
}

}  // namespace devx::doctor
