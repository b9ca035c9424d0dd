// The C ABI of the networking domains (devx.h, "ABI version 5"): Cloudflare tunnels, the edge
// proxies and the inspector, the Tailscale mesh, GitHub Pages sites, the webhook catcher and the
// mail catcher (include/devx/{tunnel,edge,mesh,sites,webhook,mail}.hpp). Decodes the options
// documents (net_options.hpp) and hands back what the library returns; no behaviour lives here.
// The invariants of capi_internal.hpp hold for every function.
#include <devx/devx.h>

#include <devx/config.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "capi_internal.hpp"
#include "core/utf8.hpp"
#include "net_options.hpp"

namespace json = boost::json;
using namespace devx::capi;

namespace devx::capi {
namespace {

// One options document (or nested object) being decoded. Each typed call names a key the
// document may hold and stores its value when present; finish() then rejects every other key,
// listing the allowed ones. Paths name nested fields ("cloudflare.api_token").
class Fields {
 public:
  Fields(std::string_view what, const json::object& object, std::string prefix = {})
      : what_(what), object_(object), prefix_(std::move(prefix)) {}

  void text(std::string_view key, std::string& target) {
    if (const auto* value = take(key)) {
      std::string storage;
      target = expect_string(what_, path(key), *value, storage);
    }
  }
  void integer(std::string_view key, int& target) {
    if (const auto* value = take(key)) target = expect_int(what_, path(key), *value);
  }
  void size(std::string_view key, std::size_t& target) {
    if (const auto* value = take(key)) {
      const int number = expect_int(what_, path(key), *value);
      if (number < 0) {
        throw invalid_argument(std::string(what_) + ": \"" + path(key) + "\" must not be negative");
      }
      target = static_cast<std::size_t>(number);
    }
  }
  void flag(std::string_view key, bool& target) {
    if (const auto* value = take(key)) target = expect_bool(what_, path(key), *value);
  }
  void texts(std::string_view key, std::vector<std::string>& target) {
    if (const auto* value = take(key)) target = expect_string_list(what_, path(key), *value);
  }
  template <typename Duration>
  void duration(std::string_view key, Duration& target) {
    if (const auto* value = take(key)) target = Duration(expect_int(what_, path(key), *value));
  }
  // A nested object decoded by `decode(Fields&)`.
  template <typename Decode>
  void object(std::string_view key, Decode&& decode) {
    if (const auto* value = take(key)) {
      Fields nested(what_, expect_object(what_, path(key), *value), path(key));
      decode(nested);
      nested.finish();
    }
  }

  void finish() const {
    for (const auto& [key, value] : object_) {
      if (prefix_.empty() && key == "v") continue;
      if (known_.count(std::string(key)) == 0) unknown_key(what_, path(key), allowed());
    }
  }

 private:
  const json::value* take(std::string_view key) {
    known_.insert(std::string(key));
    const auto* value = object_.if_contains(key);
    return value == nullptr || value->is_null() ? nullptr : value;
  }
  std::string path(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : field_path(prefix_, key);
  }
  std::string allowed() const {
    std::string list = prefix_.empty() ? "v" : "";
    for (const auto& key : known_) list += (list.empty() ? "" : ", ") + key;
    return list;
  }

  std::string_view what_;
  const json::object& object_;
  std::string prefix_;
  std::set<std::string> known_;
};

// Decodes a whole options document with `decode(Fields&)`.
template <typename Options, typename Decode>
Options decode_document(const char* text, std::string_view what, Decode&& decode) {
  const json::object object = parse_options(text, what);
  Options options;
  Fields fields(what, object);
  decode(fields, options);
  fields.finish();
  return options;
}

void vm_fields(Fields& f, VmOptions& vm) {
  f.text("provider", vm.provider);
  f.text("name", vm.name);
  std::string project_dir;
  f.text("project_dir", project_dir);
  if (!project_dir.empty()) vm.project_dir = project_dir;
  f.flag("assume_yes", vm.assume_yes);
  f.text("platform", vm.platform);
}

void cloudflare_fields(Fields& f, CloudflareSettings& cloudflare) {
  f.object("cloudflare", [&](Fields& c) {
    c.text("api_url", cloudflare.api_url);
    c.text("api_token", cloudflare.api_token);
    c.text("account_id", cloudflare.account_id);
    c.text("cloudflared", cloudflare.cloudflared);
    c.texts("env_sources", cloudflare.env_sources);
  });
}

}  // namespace

VmOptions parse_net_vm_options(const char* text, const char* what) {
  return decode_document<VmOptions>(text, what, vm_fields);
}

TunnelExposeOptions parse_tunnel_expose_options(const char* text) {
  return decode_document<TunnelExposeOptions>(text, "tunnel expose options",
                                              [](Fields& f, TunnelExposeOptions& o) {
                                                cloudflare_fields(f, o.cloudflare);
                                                f.integer("port", o.port);
                                                f.text("name", o.name);
                                                f.text("zone", o.zone);
                                                f.text("domain", o.domain);
                                                f.text("basic_auth", o.basic_auth);
                                                f.text("throttle", o.throttle);
                                              });
}

TunnelUnexposeOptions parse_tunnel_unexpose_options(const char* text) {
  return decode_document<TunnelUnexposeOptions>(text, "tunnel unexpose options",
                                                [](Fields& f, TunnelUnexposeOptions& o) {
                                                  cloudflare_fields(f, o.cloudflare);
                                                  f.text("target", o.target);
                                                  f.flag("all", o.all);
                                                });
}

TunnelUpOptions parse_tunnel_up_options(const char* text) {
  return decode_document<TunnelUpOptions>(text, "tunnel up options",
                                          [](Fields& f, TunnelUpOptions& o) {
                                            cloudflare_fields(f, o.cloudflare);
                                            f.text("zone", o.zone);
                                          });
}

MeshJoinOptions parse_mesh_join_options(const char* text) {
  return decode_document<MeshJoinOptions>(text, "mesh join options",
                                          [](Fields& f, MeshJoinOptions& o) {
                                            vm_fields(f, o.vm);
                                            f.text("auth_key", o.auth_key);
                                            f.text("hostname", o.hostname);
                                            f.flag("accept_routes", o.accept_routes);
                                            f.duration("timeout_s", o.timeout);
                                            f.duration("poll_interval_ms", o.poll_interval);
                                          });
}

WebhookCatchOptions parse_webhook_catch_options(const char* text) {
  return decode_document<WebhookCatchOptions>(text, "webhook catch options",
                                              [](Fields& f, WebhookCatchOptions& o) {
                                                f.text("bind", o.bind);
                                                f.integer("port", o.port);
                                                f.text("session", o.session);
                                                f.integer("reply_status", o.reply_status);
                                                f.text("reply_body", o.reply_body);
                                                f.size("body_limit", o.body_limit);
                                                f.flag("expose", o.expose);
                                                f.text("cloudflared", o.cloudflared);
                                                f.duration("expose_timeout_ms", o.expose_timeout);
                                              });
}

MailCatcherOptions parse_mail_catcher_options(const char* text) {
  return decode_document<MailCatcherOptions>(text, "mail catcher options",
                                             [](Fields& f, MailCatcherOptions& o) {
                                               f.text("instance", o.instance);
                                               f.text("bind", o.bind);
                                               f.integer("smtp_port", o.smtp_port);
                                               f.integer("http_port", o.http_port);
                                               f.size("max_message_size", o.max_message_size);
                                               f.text("hostname", o.hostname);
                                             });
}

EdgeProxyOptions parse_edge_proxy_options(const char* text) {
  return decode_document<EdgeProxyOptions>(text, "edge proxy options",
                                           [](Fields& f, EdgeProxyOptions& o) {
                                             f.integer("target_port", o.target_port);
                                             f.text("bind", o.bind);
                                             f.integer("listen_port", o.listen_port);
                                             std::string basic_auth;
                                             f.text("basic_auth", basic_auth);
                                             if (!basic_auth.empty())
                                               o.basic_auth = parse_basic_auth(basic_auth);
                                             f.text("throttle", o.throttle);
                                             f.flag("inspect", o.inspect);
                                             f.object("inspect_options", [&](Fields& i) {
                                               i.text("session", o.inspect_options.session);
                                               i.size("body_limit", o.inspect_options.body_limit);
                                             });
                                           });
}

ReplayOptions parse_replay_options(const char* text) {
  return decode_document<ReplayOptions>(text, "capture replay options",
                                        [](Fields& f, ReplayOptions& o) {
                                          f.integer("target_port", o.target_port);
                                          f.duration("timeout_ms", o.timeout);
                                        });
}

namespace {

void site_fields(Fields& f, SitesOptions& site) {
  std::string project_dir;
  f.text("project_dir", project_dir);
  if (!project_dir.empty()) site.project_dir = project_dir;
  f.text("repo", site.repo);
  cloudflare_fields(f, site.cloudflare);
  f.flag("assume_yes", site.assume_yes);
}

}  // namespace

SitesOptions parse_sites_options(const char* text) {
  return decode_document<SitesOptions>(text, "sites options", site_fields);
}

SitesInitOptions parse_sites_init_options(const char* text) {
  return decode_document<SitesInitOptions>(text, "sites init options",
                                           [](Fields& f, SitesInitOptions& o) {
                                             site_fields(f, o.site);
                                             f.text("domain", o.domain);
                                             f.text("zone", o.zone);
                                             f.text("name", o.name);
                                           });
}

SitesVerifyOptions parse_sites_verify_options(const char* text) {
  return decode_document<SitesVerifyOptions>(text, "sites verify options",
                                             [](Fields& f, SitesVerifyOptions& o) {
                                               site_fields(f, o.site);
                                               f.text("domain", o.domain);
                                               f.text("zone", o.zone);
                                               f.text("txt_name", o.txt_name);
                                               f.text("txt_value", o.txt_value);
                                             });
}

}  // namespace devx::capi

// A running proxy chain; devx_edge_proxy_free stops it.
struct devx_edge_proxy {
  devx::EdgeProxy proxy;
};

namespace {

std::string text_or(const char* text, std::string_view fallback = {}) {
  return text == nullptr ? std::string(fallback) : std::string(text);
}

std::vector<std::string> parse_args(const char* argv_json) {
  if (argv_json == nullptr || *argv_json == '\0') return {};
  json::error_code ec;
  json::value value = json::parse(argv_json, ec);
  if (ec) throw invalid_argument("args is not valid JSON: " + ec.message(), "pass [\"status\"]");
  return expect_string_list("args", "args", value);
}

}  // namespace

// ---- tunnels ------------------------------------------------------------------------------------

extern "C" DEVX_EXPORT devx_status_t devx_tunnel_expose_start(devx_op_t** out, devx_context_t* ctx,
                                                              const char* options_json,
                                                              devx_error_t** err) {
  return start_call(err, out, ctx, [&](devx::Context& context) {
    return devx::start_tunnel_expose(context, parse_tunnel_expose_options(options_json));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_tunnel_unexpose(char** out_json, devx_context_t* ctx,
                                                          const char* options_json,
                                                          devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    return devx::tunnel_unexpose(context, parse_tunnel_unexpose_options(options_json));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_tunnel_status(char** out_json, devx_context_t* ctx,
                                                        devx_error_t** err) {
  return document_call(err, out_json, ctx, &devx::tunnel_status);
}

extern "C" DEVX_EXPORT devx_status_t devx_tunnel_up_start(devx_op_t** out, devx_context_t* ctx,
                                                          const devx_project_t* project,
                                                          const char* options_json,
                                                          devx_error_t** err) {
  return start_call(err, out, ctx, [&](devx::Context& context) {
    require(project, "project");
    return devx::start_tunnel_up(context, project->project, parse_tunnel_up_options(options_json));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_tunnel_dns_label(char** out, const char* name,
                                                           devx_error_t** err) {
  return guard(err, [&] {
    require(out, "out");
    require(name, "name");
    *out = copy_string(devx::tunnel_dns_label(name));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_tunnel_machine_id(char** out, devx_context_t* ctx,
                                                            devx_error_t** err) {
  return document_call(err, out, ctx, &devx::tunnel_machine_id);
}

// ---- the mesh -----------------------------------------------------------------------------------

extern "C" DEVX_EXPORT devx_status_t devx_mesh_join_start(devx_op_t** out, devx_context_t* ctx,
                                                          const char* options_json,
                                                          devx_error_t** err) {
  return start_call(err, out, ctx, [&](devx::Context& context) {
    return devx::start_mesh_join(context, parse_mesh_join_options(options_json));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_mesh_status(char** out_json, devx_context_t* ctx,
                                                      const char* options_json,
                                                      devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    return devx::mesh_status(context, parse_net_vm_options(options_json, "mesh status options"));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_mesh_leave(char** out_json, devx_context_t* ctx,
                                                     const char* options_json, devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    return devx::mesh_leave(context, parse_net_vm_options(options_json, "mesh leave options"));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_mesh_tailscale_argv(char** out_json, devx_context_t* ctx,
                                                              const char* options_json,
                                                              const char* args_json,
                                                              devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    return argv_document(devx::mesh_tailscale_argv(
        context, parse_net_vm_options(options_json, "mesh options"), parse_args(args_json)));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_mesh_exec(char** out_json, devx_context_t* ctx,
                                                    const char* options_json, const char* args_json,
                                                    const char* stdin_data, devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    std::optional<std::string> input;
    if (stdin_data != nullptr) input.emplace(stdin_data);
    return exec_result_json(devx::mesh_exec(context,
                                            parse_net_vm_options(options_json, "mesh options"),
                                            parse_args(args_json), std::move(input)));
  });
}

// ---- the webhook catcher ------------------------------------------------------------------------

extern "C" DEVX_EXPORT devx_status_t devx_webhook_catch_start(devx_op_t** out, devx_context_t* ctx,
                                                              const char* options_json,
                                                              devx_error_t** err) {
  return start_call(err, out, ctx, [&](devx::Context& context) {
    return devx::start_webhook_catch(context, parse_webhook_catch_options(options_json));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_webhook_list(char** out_json, devx_context_t* ctx,
                                                       const char* session, devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    return devx::webhook_list(context, text_or(session));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_webhook_replay(char** out_json, devx_context_t* ctx,
                                                         const char* id, const char* to_url,
                                                         devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    require(id, "id");
    require(to_url, "to_url");
    return devx::webhook_replay(context, id, to_url);
  });
}

// ---- the mail catcher ---------------------------------------------------------------------------

extern "C" DEVX_EXPORT devx_status_t devx_mail_catcher_start(devx_op_t** out, devx_context_t* ctx,
                                                             const char* options_json,
                                                             devx_error_t** err) {
  return start_call(err, out, ctx, [&](devx::Context& context) {
    return devx::start_mail_catcher(context, parse_mail_catcher_options(options_json));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_mail_instances(char** out_json, devx_context_t* ctx,
                                                         devx_error_t** err) {
  return document_call(err, out_json, ctx, &devx::mail_instances);
}

extern "C" DEVX_EXPORT devx_status_t devx_mail_messages(char** out_json, devx_context_t* ctx,
                                                        const char* instance, devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    return devx::mail_messages(context, text_or(instance, "default"));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_mail_message(char** out_json, devx_context_t* ctx,
                                                       const char* instance, const char* id,
                                                       devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    require(id, "id");
    return devx::mail_message(context, text_or(instance, "default"), id);
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_mail_message_raw(char** out, devx_context_t* ctx,
                                                           const char* instance, const char* id,
                                                           devx_error_t** err) {
  return document_call(err, out, ctx, [&](devx::Context& context) {
    require(id, "id");
    return devx::mail_message_raw(context, text_or(instance, "default"), id);
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_mail_delete(char** out_json, devx_context_t* ctx,
                                                      const char* instance, const char* id,
                                                      devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    return devx::mail_delete(context, text_or(instance, "default"), text_or(id));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_mail_environment(char** out_json, devx_context_t* ctx,
                                                           const char* instance,
                                                           devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    json::object env;
    for (const auto& [name, value] :
         devx::mail_environment(context, text_or(instance, "default"))) {
      env[name] = value;
    }
    return json::serialize(json::object{{"v", 1}, {"env", std::move(env)}});
  });
}

// ---- edge proxies and the inspector -------------------------------------------------------------

extern "C" DEVX_EXPORT devx_status_t devx_edge_proxy_plan(char** out_json, devx_context_t* ctx,
                                                          const char* options_json,
                                                          devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    return devx::edge_proxy_plan(context, parse_edge_proxy_options(options_json));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_edge_proxy_start(devx_edge_proxy_t** out,
                                                           devx_context_t* ctx,
                                                           const char* options_json,
                                                           devx_error_t** err) {
  return guard(err, [&] {
    require(out, "out");
    require(ctx, "ctx");
    auto options = parse_edge_proxy_options(options_json);
    *out = new devx_edge_proxy{devx::start_edge_proxy(*ctx->context, std::move(options))};
  });
}

extern "C" DEVX_EXPORT int devx_edge_proxy_port(const devx_edge_proxy_t* proxy) {
  return proxy == nullptr ? 0 : proxy->proxy.port();
}

extern "C" DEVX_EXPORT devx_status_t devx_edge_proxy_status(char** out_json,
                                                            const devx_edge_proxy_t* proxy,
                                                            devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(proxy, "proxy");
    *out_json = copy_string(proxy->proxy.status());
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_edge_proxy_operation(devx_op_t** out,
                                                               devx_edge_proxy_t* proxy,
                                                               devx_error_t** err) {
  return guard(err, [&] {
    require(out, "out");
    require(proxy, "proxy");
    *out = new devx_op{proxy->proxy.operation(), std::make_shared<CallbackSlot>(), std::nullopt};
  });
}

extern "C" DEVX_EXPORT void devx_edge_proxy_stop(devx_edge_proxy_t* proxy) {
  if (proxy != nullptr) proxy->proxy.stop();
}

extern "C" DEVX_EXPORT void devx_edge_proxy_free(devx_edge_proxy_t* proxy) { delete proxy; }

extern "C" DEVX_EXPORT devx_status_t devx_throttle_profile(char** out_json, const char* name,
                                                           devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(name, "name");
    const auto profile = devx::throttle_profile(name);
    *out_json =
        copy_string(json::serialize(json::object{{"v", 1},
                                                 {"name", profile.name},
                                                 {"latency_us", profile.latency.count()},
                                                 {"jitter_us", profile.jitter.count()},
                                                 {"bytes_per_second", profile.bytes_per_second}}));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_throttle_profile_names(char** out_json,
                                                                 devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    json::array names;
    for (const auto& name : devx::throttle_profile_names()) names.emplace_back(name);
    *out_json = copy_string(json::serialize(json::object{{"v", 1}, {"names", std::move(names)}}));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_inspect_sessions(char** out_json, devx_context_t* ctx,
                                                           devx_error_t** err) {
  return document_call(err, out_json, ctx, &devx::list_inspect_sessions);
}

extern "C" DEVX_EXPORT devx_status_t devx_inspect_captures(char** out_json, devx_context_t* ctx,
                                                           const char* session,
                                                           devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    return devx::list_captures(context, text_or(session));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_inspect_capture(char** out_json, devx_context_t* ctx,
                                                          const char* session, const char* id,
                                                          devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    require(id, "id");
    return devx::get_capture(context, text_or(session), id);
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_inspect_replay(char** out_json, devx_context_t* ctx,
                                                         const char* session, const char* id,
                                                         const char* options_json,
                                                         devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    require(id, "id");
    return devx::replay_capture(context, text_or(session), id, parse_replay_options(options_json));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_inspect_remove(char** out_json, devx_context_t* ctx,
                                                         const char* session, devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    require(session, "session");
    return devx::remove_inspect_session(context, session);
  });
}

// ---- GitHub Pages sites -------------------------------------------------------------------------

extern "C" DEVX_EXPORT devx_status_t devx_sites_init(char** out_json, devx_context_t* ctx,
                                                     const char* options_json, devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    return devx::sites_init(context, parse_sites_init_options(options_json));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_sites_verify(char** out_json, devx_context_t* ctx,
                                                       const char* options_json,
                                                       devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    return devx::sites_verify(context, parse_sites_verify_options(options_json));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_sites_status(char** out_json, devx_context_t* ctx,
                                                       const char* options_json,
                                                       devx_error_t** err) {
  return document_call(err, out_json, ctx, [&](devx::Context& context) {
    return devx::sites_status(context, parse_sites_options(options_json));
  });
}
