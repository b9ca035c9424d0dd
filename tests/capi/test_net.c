/* C99 tests of the networking part of the C ABI (ABI version 5): tunnels, edge proxies, the
 * webhook and mail catchers, linked against the shared libdevx. One case per ctest entry:
 * `test_capi_net <case>`. Traffic is real: loopback sockets on 127.0.0.1. */
#define _POSIX_C_SOURCE 200809L

#include <devx/devx.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capi_test_util.h"

#define CHECK_OK(call, errp) CHECK_OK_OR(call, errp, return 0)

static char g_root[] = "/tmp/devx-capi-net-XXXXXX";
static char g_home[512];

static devx_context_t* new_context(int dry_run) { return capi_test_context(g_home, dry_run); }

/* ---- loopback helpers --------------------------------------------------------------------- */

static int listen_loopback(int* port) {
  struct sockaddr_in address;
  socklen_t length = sizeof address;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr*)&address, sizeof address) != 0 || listen(fd, 8) != 0 ||
      getsockname(fd, (struct sockaddr*)&address, &length) != 0) {
    perror("listen_loopback");
    return -1;
  }
  *port = ntohs(address.sin_port);
  return fd;
}

static int connect_loopback(int port) {
  struct sockaddr_in address;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons((unsigned short)port);
  if (fd < 0 || connect(fd, (struct sockaddr*)&address, sizeof address) != 0) {
    perror("connect_loopback");
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

static int send_all(int fd, const char* text) {
  size_t sent = 0, size = strlen(text);
  while (sent < size) {
    ssize_t n = send(fd, text + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) return 0;
    sent += (size_t)n;
  }
  return 1;
}

/* Reads until the peer closes, `stop` appears, or the buffer is full. */
static size_t read_until(int fd, char* buffer, size_t size, const char* stop) {
  size_t used = 0;
  while (used + 1 < size) {
    ssize_t n = recv(fd, buffer + used, size - 1 - used, 0);
    if (n <= 0) break;
    used += (size_t)n;
    buffer[used] = '\0';
    if (stop != NULL && strstr(buffer, stop) != NULL) break;
  }
  buffer[used] = '\0';
  return used;
}

/* ---- cases --------------------------------------------------------------------------------- */

static int test_abi_version(void) {
  CHECK(devx_abi_version() >= 5);
  return 0;
}

static int test_bad_options(void) {
  devx_context_t* ctx = new_context(0);
  devx_error_t* err = NULL;
  devx_op_t* op = NULL;
  char* json = NULL;
  if (ctx == NULL) return 0;
  expect_error(devx_tunnel_expose_start(&op, ctx, "{\"v\":1,\"prot\":80}", &err), &err,
               DEVX_E_INVALID_ARGUMENT, "tunnel expose options: unknown key \"prot\"");
  expect_error(devx_tunnel_expose_start(&op, ctx, "{\"port\":\"80\"}", &err), &err,
               DEVX_E_INVALID_ARGUMENT, "\"port\" must be an integer");
  expect_error(devx_tunnel_unexpose(&json, ctx, "{\"cloudflare\":{\"api_urll\":\"x\"}}", &err),
               &err, DEVX_E_INVALID_ARGUMENT, "\"cloudflare.api_urll\"");
  expect_error(devx_tunnel_unexpose(&json, ctx, "{\"cloudflare\":{\"env_sources\":\"a\"}}", &err),
               &err, DEVX_E_INVALID_ARGUMENT, "cloudflare.env_sources");
  expect_error(devx_webhook_catch_start(&op, ctx, "{\"v\":2}", &err), &err, DEVX_E_INVALID_ARGUMENT,
               "unsupported version");
  expect_error(devx_mail_catcher_start(&op, ctx, "[1]", &err), &err, DEVX_E_INVALID_ARGUMENT,
               "must be a JSON object");
  expect_error(devx_mesh_status(&json, ctx, "{\"provider\":3}", &err), &err,
               DEVX_E_INVALID_ARGUMENT, "\"provider\" must be a string");
  expect_error(
      devx_sites_init(&json, ctx, "{\"domain\":\"example.com\",\"txt_value\":\"x\"}", &err), &err,
      DEVX_E_INVALID_ARGUMENT, "unknown key \"txt_value\"");
  expect_error(devx_edge_proxy_plan(
                   &json, ctx, "{\"target_port\":80,\"inspect_options\":{\"sesion\":\"a\"}}", &err),
               &err, DEVX_E_INVALID_ARGUMENT, "inspect_options.sesion");
  /* A basic-auth secret without ':' is refused without being echoed. */
  expect_error(
      devx_edge_proxy_plan(&json, ctx, "{\"target_port\":80,\"basic_auth\":\"Sekr1t\"}", &err),
      &err, DEVX_E_INVALID_ARGUMENT, NULL);
  expect_error(devx_tunnel_status(NULL, ctx, &err), &err, DEVX_E_INVALID_ARGUMENT, "out_json");
  CHECK(op == NULL && json == NULL);
  devx_context_free(ctx);
  return 0;
}

static int test_dns_label(void) {
  devx_error_t* err = NULL;
  char* label = NULL;
  CHECK_OK(devx_tunnel_dns_label(&label, "My_App..v2", &err), &err);
  CHECK(label != NULL && strcmp(label, "my-app-v2") == 0);
  devx_string_free(label);
  expect_error(devx_tunnel_dns_label(&label, "___", &err), &err, DEVX_E_INVALID_ARGUMENT, NULL);
  return 0;
}

static int test_throttle_profiles(void) {
  devx_error_t* err = NULL;
  char* json = NULL;
  CHECK_OK(devx_throttle_profile(&json, "3g", &err), &err);
  CHECK_CONTAINS(json, "\"bytes_per_second\":256000");
  CHECK_CONTAINS(json, "\"latency_us\":200000");
  devx_string_free(json);
  CHECK_OK(devx_throttle_profile_names(&json, &err), &err);
  CHECK_CONTAINS(json, "\"edge\"");
  devx_string_free(json);
  expect_error(devx_throttle_profile(&json, "4g", &err), &err, DEVX_E_INVALID_ARGUMENT, "4g");
  return 0;
}

/* Basic auth through a real proxy: no credentials -> 401 without reaching the target; the right
 * ones -> the target's answer, and the target never sees the Authorization header. */
static int test_edge_proxy_basic_auth(void) {
  devx_context_t* ctx = new_context(0);
  devx_error_t* err = NULL;
  devx_edge_proxy_t* proxy = NULL;
  devx_op_t* op = NULL;
  char options[256], buffer[8192], *status = NULL;
  int target_port = 0, target, client, upstream, done = 0;
  if (ctx == NULL) return 0;
  target = listen_loopback(&target_port);
  if (target < 0) {
    failures++;
    devx_context_free(ctx);
    return 0;
  }
  /* "alice:pa:ss" — the password keeps its ':' (split at the first one). */
  snprintf(options, sizeof options, "{\"v\":1,\"target_port\":%d,\"basic_auth\":\"alice:pa:ss\"}",
           target_port);
  CHECK_OK(devx_edge_proxy_start(&proxy, ctx, options, &err), &err);
  CHECK(devx_edge_proxy_port(proxy) > 0);
  CHECK(devx_edge_proxy_port(NULL) == 0);

  client = connect_loopback(devx_edge_proxy_port(proxy));
  CHECK(send_all(client, "GET /x HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n"));
  read_until(client, buffer, sizeof buffer, "\r\n\r\n");
  CHECK_CONTAINS(buffer, " 401 ");
  CHECK_CONTAINS(buffer, "WWW-Authenticate: Basic");
  close(client);

  client = connect_loopback(devx_edge_proxy_port(proxy));
  /* base64("alice:pa:ss") = YWxpY2U6cGE6c3M= */
  CHECK(send_all(client,
                 "GET /hello HTTP/1.1\r\nHost: app\r\nAuthorization: Basic YWxpY2U6cGE6c3M=\r\n"
                 "Connection: close\r\n\r\n"));
  upstream = accept(target, NULL, NULL);
  CHECK(upstream >= 0);
  if (upstream >= 0) {
    read_until(upstream, buffer, sizeof buffer, "\r\n\r\n");
    CHECK_CONTAINS(buffer, "GET /hello");
    CHECK(strstr(buffer, "Authorization") == NULL && strstr(buffer, "authorization") == NULL);
    CHECK(send_all(upstream,
                   "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"));
    close(upstream);
  }
  read_until(client, buffer, sizeof buffer, "hello");
  CHECK_CONTAINS(buffer, " 200 ");
  CHECK_CONTAINS(buffer, "hello");
  close(client);

  CHECK_OK(devx_edge_proxy_status(&status, proxy, &err), &err);
  CHECK_CONTAINS(status, "\"stats\"");
  CHECK_CONTAINS(status, "\"rejected\":1");
  CHECK(strstr(status, "pa:ss") == NULL);
  devx_string_free(status);

  CHECK_OK(devx_edge_proxy_operation(&op, proxy, &err), &err);
  devx_edge_proxy_stop(proxy);
  devx_edge_proxy_stop(proxy); /* idempotent */
  CHECK(devx_op_wait(&done, op, 10000) == DEVX_OK && done == 1);
  devx_op_free(op);
  devx_edge_proxy_free(proxy);
  devx_edge_proxy_free(NULL);
  close(target);
  devx_context_free(ctx);
  return 0;
}

/* A catcher on an ephemeral port: "listening" names it, a request is recorded, cancel ends it. */
static int test_webhook_catch(void) {
  devx_context_t* ctx = new_context(0);
  devx_error_t* err = NULL;
  devx_op_t* op = NULL;
  char *event = NULL, *json = NULL, buffer[4096];
  int port = 0, rounds, client;
  devx_status_t st;
  if (ctx == NULL) return 0;
  CHECK_OK(devx_webhook_catch_start(&op, ctx, "{\"v\":1,\"port\":0,\"session\":\"capi\"}", &err),
           &err);
  for (rounds = 0; rounds < 300 && port == 0; rounds++) {
    devx_next_event_t kind = DEVX_EVENT_TIMEOUT;
    const char* at;
    if (devx_op_next_event(&kind, &event, op, 100, &err) != DEVX_OK || kind == DEVX_EVENT_END) {
      break;
    }
    if (kind != DEVX_EVENT_READY) continue;
    at = strstr(event, "\"port\":");
    if (strstr(event, "\"type\":\"state\"") != NULL && at != NULL) port = atoi(at + 7);
    devx_string_free(event);
  }
  CHECK(port > 0);
  if (port > 0) {
    client = connect_loopback(port);
    CHECK(send_all(client,
                   "POST /hook?a=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Content-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}"));
    read_until(client, buffer, sizeof buffer, "\r\n\r\n");
    CHECK_CONTAINS(buffer, " 200 ");
    close(client);
  }
  CHECK(devx_op_cancel(op) == DEVX_OK);
  st = devx_op_result(&json, op, &err);
  if (st == DEVX_OK) {
    CHECK_CONTAINS(json, "\"requests\":1");
  } else {
    expect_error(st, &err, DEVX_E_CANCELLED, NULL);
  }
  devx_string_free(json);
  devx_op_free(op);

  CHECK_OK(devx_webhook_list(&json, ctx, NULL, &err), &err);
  CHECK_CONTAINS(json, "\"session\":\"capi\"");
  devx_string_free(json);
  CHECK_OK(devx_webhook_list(&json, ctx, "capi", &err), &err);
  CHECK_CONTAINS(json, "\"target\":\"/hook?a=1\"");
  devx_string_free(json);
  expect_error(devx_webhook_list(&json, ctx, "nosuch", &err), &err, DEVX_E_NOT_FOUND, NULL);
  devx_context_free(ctx);
  return 0;
}

static int test_webhook_dry_run(void) {
  devx_context_t* ctx = new_context(1);
  devx_error_t* err = NULL;
  devx_op_t* op = NULL;
  char* json = NULL;
  if (ctx == NULL) return 0;
  CHECK_OK(devx_webhook_catch_start(&op, ctx, "{\"v\":1,\"port\":0}", &err), &err);
  CHECK_OK(devx_op_result(&json, op, &err), &err);
  CHECK_CONTAINS(json, "\"operation\":\"webhook.catch\"");
  CHECK_CONTAINS(json, "\"dry_run\":true");
  devx_string_free(json);
  devx_op_free(op);
  devx_context_free(ctx);
  return 0;
}

static int test_empty_state(void) {
  devx_context_t* ctx = new_context(0);
  devx_error_t* err = NULL;
  char* json = NULL;
  if (ctx == NULL) return 0;
  CHECK_OK(devx_tunnel_status(&json, ctx, &err), &err);
  CHECK_CONTAINS(json, "\"exposures\":[]");
  devx_string_free(json);
  CHECK_OK(devx_mail_instances(&json, ctx, &err), &err);
  CHECK_CONTAINS(json, "\"instances\":[]");
  devx_string_free(json);
  CHECK_OK(devx_mail_messages(&json, ctx, NULL, &err), &err);
  CHECK_CONTAINS(json, "\"messages\":[]");
  devx_string_free(json);
  CHECK_OK(devx_mail_environment(&json, ctx, NULL, &err), &err);
  CHECK_CONTAINS(json, "\"env\":{}");
  devx_string_free(json);
  expect_error(devx_mail_message(&json, ctx, NULL, "nosuch", &err), &err, DEVX_E_NOT_FOUND, NULL);
  CHECK_OK(devx_inspect_sessions(&json, ctx, &err), &err);
  CHECK_CONTAINS(json, "\"sessions\":[]");
  devx_string_free(json);
  expect_error(devx_inspect_captures(&json, ctx, "nosuch", &err), &err, DEVX_E_NOT_FOUND, NULL);
  devx_context_free(ctx);
  return 0;
}

/* ---- driver ---------------------------------------------------------------------------------- */

static const struct capi_test_case cases[] = {
    {"abi_version", test_abi_version},
    {"bad_options", test_bad_options},
    {"dns_label", test_dns_label},
    {"throttle_profiles", test_throttle_profiles},
    {"edge_proxy_basic_auth", test_edge_proxy_basic_auth},
    {"webhook_catch", test_webhook_catch},
    {"webhook_dry_run", test_webhook_dry_run},
    {"empty_state", test_empty_state},
};

int main(int argc, char** argv) {
  int ran = 0;
  int skipped = 0;
  char home[512];
  if (mkdtemp(g_root) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(g_home, sizeof g_home, "%s/devx-home", g_root);
  snprintf(home, sizeof home, "%s/home", g_root);
  mkdir(home, 0755);
  setenv("HOME", home, 1);
  unsetenv("CLOUDFLARE_API_TOKEN");
  unsetenv("CF_API_TOKEN");
  ran = run_cases(cases, sizeof cases / sizeof cases[0], argc, argv, &skipped);
  if (ran == 0) return 2;
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed (scratch %s kept)\n", failures, g_root);
    return 1;
  }
  {
    char command[600];
    snprintf(command, sizeof command, "rm -rf '%s'", g_root);
    if (system(command) != 0) fprintf(stderr, "could not remove %s\n", g_root);
  }
  return 0;
}
