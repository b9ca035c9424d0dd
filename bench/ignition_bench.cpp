// Butane → Ignition compile time: the built-in dev machine config, and a generated document of
// 1,000 files (mixed short text, compressible text and binary, so all three data-URL encodings
// are exercised) plus 100 units. Each is measured against a floor taken in the same run: bare
// yaml-cpp parsing of the same document, which every compiler of YAML input pays.
// Prints the median of N runs. Plain main, no assertions.
//   ignition_bench [--runs N] [--files N]
#include <devx/ignition.hpp>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double median_ms(int runs, const std::function<void()>& work) {
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(runs));
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    work();
    samples.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

std::string generated_document(int files) {
  std::string doc = "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n";
  for (int i = 0; i < files; ++i) {
    doc += "    - path: /etc/generated/file-" + std::to_string(i) + ".conf\n";
    doc += "      mode: 0644\n      contents:\n";
    switch (i % 3) {
      case 0:
        doc += "        inline: \"setting_" + std::to_string(i) + "=value\\n\"\n";
        break;
      case 1:
        doc += "        inline: |\n";
        for (int line = 0; line < 20; ++line)
          doc += "          key" + std::to_string(line) + " = the same text on every line\n";
        break;
      default:
        doc +=
            "        inline: \"\\x01\\x02\\x03\\x04binary-" + std::to_string(i) + "\\x7f\\x00\"\n";
        break;
    }
  }
  doc += "systemd:\n  units:\n";
  for (int i = 0; i < 100; ++i) {
    doc += "    - name: generated-" + std::to_string(i) + ".service\n      enabled: true\n";
    doc += "      contents: |\n        [Unit]\n        Description=Generated " + std::to_string(i) +
           "\n        [Service]\n        ExecStart=/usr/bin/true\n        [Install]\n"
           "        WantedBy=multi-user.target\n";
  }
  return doc;
}

void report(const char* name, double devx_ms, double floor_ms, std::size_t bytes) {
  std::printf("%-28s devx %9.3f ms   yaml-cpp floor %9.3f ms   x%.2f   output %zu bytes\n", name,
              devx_ms, floor_ms, devx_ms / floor_ms, bytes);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 21;
  int files = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
    if (flag == "--files") files = std::max(1, std::atoi(argv[i + 1]));
  }

  devx::DevMachineValues values;
  values.hostname = "devx-vm";
  values.ssh_authorized_keys = {
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ0ZXN0a2V5Zm9yZGV2eHRlc3RzMDAwMDAwMDAw bench"};
  values.tunnel_id = "0b5e8d1c-2f6a-4c1e-9a77-3d2b1f0e9c55";
  values.tunnel_credentials_json = R"({"TunnelID":"0b5e8d1c-2f6a-4c1e-9a77-3d2b1f0e9c55"})";
  values.tunnel_hostname = "app.example.com";
  values.tailscale_auth_key = "tskey-auth-bench";
  std::size_t dev_bytes = 0;
  const double dev_ms =
      median_ms(runs, [&] { dev_bytes = devx::dev_machine_config(values).output.ignition.size(); });
  const std::string dev_butane = devx::dev_machine_config(values).butane;
  const double dev_floor = median_ms(runs, [&] { (void)YAML::Load(dev_butane); });
  report("dev machine config", dev_ms, dev_floor, dev_bytes);

  const std::string document = generated_document(files);
  devx::ButaneOptions options;
  options.strict = true;
  std::size_t big_bytes = 0;
  const double big_ms =
      median_ms(runs, [&] { big_bytes = devx::compile_butane(document, options).ignition.size(); });
  const double big_floor = median_ms(runs, [&] { (void)YAML::Load(document); });
  const std::string name = std::to_string(files) + " files + 100 units";
  report(name.c_str(), big_ms, big_floor, big_bytes);
  std::printf("(median of %d runs; input %zu bytes)\n", runs, document.size());
  return 0;
}
