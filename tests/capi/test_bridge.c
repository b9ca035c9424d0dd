/* C99 tests of the Kubernetes bridge part of the C ABI (devx_bridge_*), linked against the shared
 * libdevx. One case per ctest entry: `test_capi_bridge <case>`. Cases that need the fake kubectl
 * (tests/fakes/kubectl) exit 77, which ctest reports as skipped, while it does not exist. */
#define _POSIX_C_SOURCE 200809L

#include <devx/devx.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef DEVX_FAKE_KUBECTL
#error "DEVX_FAKE_KUBECTL must be defined"
#endif

#include "capi_test_util.h"

#define CHECK_OK(call, errp) CHECK_OK_OR(call, errp, return 0)

/* A private DEVX_HOME per case: status and environment see only what the case recorded. */
static char g_home[] = "/tmp/devx-capi-bridge-XXXXXX";

static devx_context_t* new_context(int dry_run) { return capi_test_context(g_home, dry_run); }

/* Takes the error by address so it is read after the call that set it. */
static void expect_invalid_argument(devx_status_t st, devx_error_t** err, const char* needle) {
  CHECK(st == DEVX_E_INVALID_ARGUMENT);
  CHECK(*err != NULL);
  if (*err == NULL) return;
  CHECK(strcmp(devx_error_code_name(*err), "invalid_argument") == 0);
  CHECK_CONTAINS(devx_error_message(*err), needle);
  devx_error_free(*err);
  *err = NULL;
}

static int fake_kubectl_present(void) {
  if (access(DEVX_FAKE_KUBECTL, X_OK) == 0) return 1;
  fprintf(stderr, "SKIPPED: the fake kubectl %s does not exist yet\n", DEVX_FAKE_KUBECTL);
  return 0;
}

/* The number after the first `"key":` in json; -1 when absent. */
static long number_after(const char* json, const char* key) {
  char pattern[64];
  const char* at;
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  at = json ? strstr(json, pattern) : NULL;
  return at ? strtol(at + strlen(pattern), NULL, 10) : -1;
}

/* Entries of DEVX_HOME/bridge other than . and ..; 0 when the directory does not exist. */
static int bridge_records(void) {
  char path[256];
  DIR* dir;
  struct dirent* entry;
  int count = 0;
  snprintf(path, sizeof path, "%s/bridge", g_home);
  dir = opendir(path);
  if (dir == NULL) return 0;
  while ((entry = readdir(dir)) != NULL) {
    if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) count++;
  }
  closedir(dir);
  return count;
}

/* ---- sockets ------------------------------------------------------------------------------- */

static int listen_loopback(int* out_port) {
  struct sockaddr_in addr;
  socklen_t len = sizeof addr;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(fd, 8) != 0 ||
      getsockname(fd, (struct sockaddr*)&addr, &len) != 0) {
    close(fd);
    return -1;
  }
  *out_port = ntohs(addr.sin_port);
  return fd;
}

static int connect_loopback(int port) {
  struct sockaddr_in addr;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons((unsigned short)port);
  if (connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Reads up to size-1 bytes within timeout_ms; NUL-terminates. Returns the count, -1 on timeout. */
static int read_some(int fd, char* buf, size_t size, int timeout_ms) {
  struct pollfd pfd;
  ssize_t n;
  pfd.fd = fd;
  pfd.events = POLLIN;
  pfd.revents = 0;
  if (poll(&pfd, 1, timeout_ms) != 1) return -1;
  n = read(fd, buf, size - 1);
  if (n < 0) return -1;
  buf[n] = '\0';
  return (int)n;
}

/* ---- the fake kubectl's state -----------------------------------------------------------------
 */

static char g_kube_state[] = "/tmp/devx-capi-kube-XXXXXX";

/* Seeds the fake cluster (layout in tests/fakes/kubefake/__init__.py) with Service `service` in
 * `namespace_` exposing `port`, which `kubectl port-forward svc/…` relays to 127.0.0.1:fixture_port
 * (no agent pod backs it). */
static int fake_kube_setup(const char* service, const char* namespace_, int port,
                           int fixture_port) {
  char path[512];
  char text[1024];
  if (mkdtemp(g_kube_state) == NULL) return 0;
  if (setenv("FAKE_KUBE_STATE", g_kube_state, 1) != 0) return 0;
  snprintf(path, sizeof path, "%s/%s", g_kube_state, namespace_);
  if (mkdir(path, 0755) != 0) return 0;
  snprintf(path, sizeof path, "%s/%s/service", g_kube_state, namespace_);
  if (mkdir(path, 0755) != 0) return 0;
  snprintf(path, sizeof path, "%s/%s/service/%s.json", g_kube_state, namespace_, service);
  snprintf(text, sizeof text,
           "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"%s\","
           "\"namespace\":\"%s\"},\"spec\":{\"type\":\"ClusterIP\",\"selector\":{\"app\":\"%s\"},"
           "\"ports\":[{\"name\":\"http\",\"port\":%d,\"targetPort\":%d,\"protocol\":\"TCP\"}]}}\n",
           service, namespace_, service, port, port);
  if (!write_file(path, text)) return 0;
  snprintf(path, sizeof path, "%s/_forward", g_kube_state);
  if (mkdir(path, 0755) != 0) return 0;
  snprintf(path, sizeof path, "%s/_forward/%s", g_kube_state, namespace_);
  if (mkdir(path, 0755) != 0) return 0;
  snprintf(path, sizeof path, "%s/_forward/%s/%s.json", g_kube_state, namespace_, service);
  snprintf(text, sizeof text, "{\"%d\":\"127.0.0.1:%d\"}\n", port, fixture_port);
  return write_file(path, text);
}

/* 1 when the fake recorded a call that changes the cluster (apply, patch, delete). */
static int fake_kube_mutated(void) {
  char path[512];
  char line[4096];
  int mutated = 0;
  FILE* f;
  snprintf(path, sizeof path, "%s/calls.log", g_kube_state);
  f = fopen(path, "r");
  if (f == NULL) return 0;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strstr(line, "\"apply\"") != NULL || strstr(line, "\"patch\"") != NULL ||
        strstr(line, "\"delete\"") != NULL) {
      fprintf(stderr, "mutating call: %s", line);
      mutated = 1;
    }
  }
  fclose(f);
  return mutated;
}

/* ---- cases ------------------------------------------------------------------------------------
 */

static int test_abi_version(void) {
  CHECK(devx_abi_version() >= 3);
  return 0;
}

static int test_rbac_yaml(void) {
  devx_error_t* err = NULL;
  char* yaml = NULL;
  CHECK_OK(devx_bridge_rbac_yaml(&yaml, "team-a", &err), &err);
  CHECK_CONTAINS(yaml, "kind: Role");
  CHECK_CONTAINS(yaml, "kind: RoleBinding");
  CHECK_CONTAINS(yaml, "namespace: team-a");
  CHECK_CONTAINS(yaml, "rules:");
  CHECK_CONTAINS(yaml, "services");
  CHECK_CONTAINS(yaml, "patch");
  CHECK(yaml == NULL || strstr(yaml, "ClusterRole") == NULL);
  devx_string_free(yaml);
  yaml = NULL;

  /* No namespace: cluster-wide objects. NULL and "" mean the same. */
  CHECK_OK(devx_bridge_rbac_yaml(&yaml, NULL, &err), &err);
  CHECK_CONTAINS(yaml, "kind: ClusterRole");
  CHECK_CONTAINS(yaml, "kind: ClusterRoleBinding");
  CHECK_CONTAINS(yaml, "rules:");
  {
    char* again = NULL;
    CHECK_OK(devx_bridge_rbac_yaml(&again, "", &err), &err);
    CHECK(yaml != NULL && again != NULL && strcmp(yaml, again) == 0);
    devx_string_free(again);
  }
  devx_string_free(yaml);

  CHECK(devx_bridge_rbac_yaml(NULL, "x", &err) == DEVX_E_INVALID_ARGUMENT);
  devx_error_free(err);
  return 0;
}

static int expect_prefix(const char* service, const char* namespace_, int with_namespace,
                         const char* expected) {
  devx_error_t* err = NULL;
  char* prefix = NULL;
  CHECK_OK(devx_bridge_env_prefix(&prefix, service, namespace_, with_namespace, &err), &err);
  if (prefix == NULL || strcmp(prefix, expected) != 0) {
    fprintf(stderr, "env_prefix(%s, %s, %d) = %s, expected %s\n", service,
            namespace_ ? namespace_ : "NULL", with_namespace, prefix ? prefix : "(null)", expected);
    failures++;
  }
  devx_string_free(prefix);
  return 0;
}

static int test_env_prefix(void) {
  devx_error_t* err = NULL;
  char* prefix = NULL;
  expect_prefix("payments-api", NULL, 0, "BRIDGE_PAYMENTS_API");
  expect_prefix("payments-api", "team.a", 0, "BRIDGE_PAYMENTS_API");
  expect_prefix("payments-api", "team.a", 1, "BRIDGE_PAYMENTS_API_TEAM_A");
  expect_prefix("redis", "default", 1, "BRIDGE_REDIS_DEFAULT");
  CHECK(devx_bridge_env_prefix(&prefix, NULL, NULL, 0, &err) == DEVX_E_INVALID_ARGUMENT);
  CHECK(prefix == NULL);
  devx_error_free(err);
  return 0;
}

static int test_status_empty(void) {
  devx_context_t* ctx = new_context(0);
  devx_error_t* err = NULL;
  char* json = NULL;
  if (ctx == NULL) return 0;
  CHECK_OK(devx_bridge_status(&json, ctx, &err), &err);
  CHECK_CONTAINS(json, "\"v\":1");
  CHECK_CONTAINS(json, "\"active\":false");
  CHECK_CONTAINS(json, "\"sessions\":[]");
  devx_string_free(json);

  CHECK_OK(devx_bridge_environment(&json, ctx, &err), &err);
  CHECK(json != NULL && strcmp(json, "{\"v\":1,\"env\":{}}") == 0);
  devx_string_free(json);

  /* Nothing to stop: every session, or an unknown one. */
  CHECK_OK(devx_bridge_disconnect(&json, ctx, NULL, 0, &err), &err);
  CHECK_CONTAINS(json, "\"v\":1");
  CHECK_CONTAINS(json, "\"sessions\":[]");
  devx_string_free(json);

  json = NULL;
  CHECK(devx_bridge_status(&json, NULL, &err) == DEVX_E_INVALID_ARGUMENT);
  CHECK(json == NULL);
  devx_error_free(err);
  devx_context_free(ctx);
  return 0;
}

static int test_bad_options(void) {
  devx_context_t* ctx = new_context(1);
  devx_op_t* op = NULL;
  devx_error_t* err = NULL;
  if (ctx == NULL) return 0;

  expect_invalid_argument(devx_bridge_connect_start(&op, ctx, "{\"v\":2}", &err), &err,
                          "unsupported version");
  expect_invalid_argument(devx_bridge_connect_start(&op, ctx, "{\"target\":[]}", &err), &err,
                          "unknown key \"target\"");
  expect_invalid_argument(devx_bridge_connect_start(&op, ctx, "{\"targets\":{}}", &err), &err,
                          "\"targets\" must be an array");
  expect_invalid_argument(
      devx_bridge_connect_start(
          &op, ctx, "{\"v\":1,\"targets\":[{\"service\":\"a\",\"port\":80},{\"port\":\"80\"}]}",
          &err),
      &err, "\"targets[1].port\" must be an integer");
  expect_invalid_argument(
      devx_bridge_connect_start(&op, ctx, "{\"targets\":[{\"service\":\"a\",\"localport\":1}]}",
                                &err),
      &err, "unknown key \"targets[0].localport\"");
  expect_invalid_argument(
      devx_bridge_connect_start(&op, ctx, "{\"targets\":[{\"port\":99999999999}]}", &err), &err,
      "\"targets[0].port\" is out of range");
  expect_invalid_argument(
      devx_bridge_connect_start(&op, ctx, "{\"kube\":{\"kubeconfg\":\"/x\"}}", &err), &err,
      "unknown key \"kube.kubeconfg\"");
  expect_invalid_argument(devx_bridge_connect_start(&op, ctx, "{\"kube\":{\"kubectl\":1}}", &err),
                          &err, "\"kube.kubectl\" must be a string");
  expect_invalid_argument(devx_bridge_connect_start(&op, ctx, "{\"origin\":\"cli\"}", &err), &err,
                          "origin");
  expect_invalid_argument(devx_bridge_connect_start(&op, ctx, "[]", &err), &err,
                          "must be a JSON object");
  expect_invalid_argument(devx_bridge_connect_start(NULL, ctx, NULL, &err), &err, "out");

  expect_invalid_argument(
      devx_bridge_intercept_start(&op, ctx, "{\"ports\":[{\"remote\":80,\"locl\":1}]}", &err), &err,
      "unknown key \"ports[0].locl\"");
  expect_invalid_argument(devx_bridge_intercept_start(&op, ctx, "{\"grace_s\":1.5}", &err), &err,
                          "\"grace_s\" must be an integer");
  expect_invalid_argument(devx_bridge_intercept_start(&op, ctx, "{\"service\":[\"a\"]}", &err),
                          &err, "\"service\" must be a string");
  expect_invalid_argument(devx_bridge_intercept_start(&op, ctx, "{\"mode\":\"steal\"}", &err), &err,
                          "unknown key \"mode\"");

  expect_invalid_argument(devx_bridge_doctor_start(&op, ctx, "{\"repair\":\"yes\"}", &err), &err,
                          "\"repair\" must be a boolean");
  expect_invalid_argument(devx_bridge_doctor_start(&op, ctx, "{\"all\":true}", &err), &err,
                          "unknown key \"all\"");
  expect_invalid_argument(devx_bridge_doctor_start(&op, NULL, NULL, &err), &err, "ctx");
  CHECK(op == NULL); /* never written on failure */
  devx_context_free(ctx);
  return 0;
}

/* Waits for the state event "forwarding" of the connect operation; its local port, or -1. */
static int wait_forwarding(devx_op_t* op) {
  int rounds;
  for (rounds = 0; rounds < 300; rounds++) {
    devx_next_event_t kind = DEVX_EVENT_TIMEOUT;
    char* event = NULL;
    devx_error_t* err = NULL;
    int port = -1;
    if (devx_op_next_event(&kind, &event, op, 100, &err) != DEVX_OK) {
      fprintf(stderr, "devx_op_next_event: %s\n", devx_error_json(err));
      devx_error_free(err);
      return -1;
    }
    if (kind == DEVX_EVENT_END) return -1;
    if (kind != DEVX_EVENT_READY) continue;
    if (strstr(event, "\"type\":\"state\"") != NULL &&
        strstr(event, "\"state\":\"forwarding\"") != NULL) {
      port = (int)number_after(event, "local_port");
    }
    devx_string_free(event);
    if (port > 0) return port;
  }
  return -1;
}

static int test_connect_fake(void) {
  devx_context_t* ctx;
  devx_op_t* op = NULL;
  devx_error_t* err = NULL;
  char* json = NULL;
  char options[512];
  char buf[64];
  char port_text[32];
  int fixture_port = 0, local_port, listener, client, server;
  devx_status_t st;
  if (!fake_kubectl_present()) return SKIPPED;
  listener = listen_loopback(&fixture_port);
  CHECK(listener >= 0);
  CHECK(fake_kube_setup("payments-api", "team-a", 8080, fixture_port));
  ctx = new_context(0);
  if (ctx == NULL || listener < 0) return 0;

  snprintf(options, sizeof options,
           "{\"v\":1,\"kube\":{\"kubectl\":\"%s\"},\"namespace\":\"team-a\","
           "\"targets\":[{\"service\":\"payments-api\",\"port\":8080}]}",
           DEVX_FAKE_KUBECTL);
  CHECK_OK(devx_bridge_connect_start(&op, ctx, options, &err), &err);
  local_port = wait_forwarding(op);
  CHECK(local_port > 0);
  if (local_port <= 0) {
    devx_op_cancel(op);
    if (devx_op_result(&json, op, &err) != DEVX_OK) {
      fprintf(stderr, "connect ended: %s\n", devx_error_json(err));
    }
    devx_error_free(err);
    devx_string_free(json);
    devx_op_free(op);
    devx_context_free(ctx);
    return 0;
  }

  /* Traffic through the local port reaches the fixture server, and its answer comes back. */
  client = connect_loopback(local_port);
  CHECK(client >= 0);
  CHECK(client >= 0 && write(client, "ping\n", 5) == 5);
  {
    struct pollfd pfd;
    pfd.fd = listener;
    pfd.events = POLLIN;
    pfd.revents = 0;
    CHECK(poll(&pfd, 1, 10000) == 1);
  }
  server = accept(listener, NULL, NULL);
  CHECK(server >= 0);
  CHECK(read_some(server, buf, sizeof buf, 10000) == 5 && strcmp(buf, "ping\n") == 0);
  CHECK(server >= 0 && write(server, "pong\n", 5) == 5);
  CHECK(read_some(client, buf, sizeof buf, 10000) == 5 && strcmp(buf, "pong\n") == 0);
  if (client >= 0) close(client);
  if (server >= 0) close(server);

  /* The live session is recorded: status lists it with its local port, the environment names
   * it. */
  snprintf(port_text, sizeof port_text, "%d", local_port);
  CHECK_OK(devx_bridge_status(&json, ctx, &err), &err);
  CHECK_CONTAINS(json, "\"active\":true");
  CHECK_CONTAINS(json, "payments-api");
  CHECK_CONTAINS(json, port_text);
  devx_string_free(json);
  CHECK_OK(devx_bridge_environment(&json, ctx, &err), &err);
  CHECK_CONTAINS(json, "\"BRIDGE_PAYMENTS_API_URL\"");
  CHECK_CONTAINS(json, "\"BRIDGE_PAYMENTS_API_PORT\"");
  CHECK_CONTAINS(json, port_text);
  devx_string_free(json);
  json = NULL;

  /* Cancelling ends the session and leaves nothing behind. */
  CHECK_OK(devx_op_cancel(op), &err);
  st = devx_op_result(&json, op, &err);
  CHECK(st == DEVX_OK || st == DEVX_E_CANCELLED);
  devx_error_free(err);
  err = NULL;
  devx_string_free(json);
  devx_op_free(op);
  CHECK_OK(devx_bridge_status(&json, ctx, &err), &err);
  CHECK_CONTAINS(json, "\"active\":false");
  CHECK_CONTAINS(json, "\"sessions\":[]");
  devx_string_free(json);
  CHECK(bridge_records() == 0);
  CHECK(connect_loopback(local_port) < 0);
  close(listener);
  devx_context_free(ctx);
  return 0;
}

static int test_intercept_dry_run(void) {
  devx_context_t* ctx;
  devx_op_t* op = NULL;
  devx_error_t* err = NULL;
  char* json = NULL;
  char options[512];
  if (!fake_kubectl_present()) return SKIPPED;
  CHECK(fake_kube_setup("payments-api", "team-a", 8080, 9));
  ctx = new_context(1);
  if (ctx == NULL) return 0;
  snprintf(options, sizeof options,
           "{\"v\":1,\"kube\":{\"kubectl\":\"%s\"},\"service\":\"payments-api\","
           "\"namespace\":\"team-a\",\"ports\":[{\"remote\":8080,\"local\":9000}]}",
           DEVX_FAKE_KUBECTL);
  CHECK_OK(devx_bridge_intercept_start(&op, ctx, options, &err), &err);
  /* The result is the plan: the operation ends by itself. */
  CHECK_OK(devx_op_result(&json, op, &err), &err);
  CHECK_CONTAINS(json, "\"v\":1");
  CHECK_CONTAINS(json, "payments-api");
  devx_string_free(json);
  devx_op_free(op);
  /* Nothing was recorded. */
  CHECK_OK(devx_bridge_status(&json, ctx, &err), &err);
  CHECK_CONTAINS(json, "\"sessions\":[]");
  devx_string_free(json);
  CHECK(bridge_records() == 0);
  CHECK(!fake_kube_mutated());
  devx_context_free(ctx);
  return 0;
}

/* ---- driver ------------------------------------------------------------------------------------
 */

static const struct capi_test_case cases[] = {
    {"abi_version", test_abi_version},
    {"rbac_yaml", test_rbac_yaml},
    {"env_prefix", test_env_prefix},
    {"status_empty", test_status_empty},
    {"bad_options", test_bad_options},
    {"connect_fake", test_connect_fake},
    {"intercept_dry_run", test_intercept_dry_run},
};

int main(int argc, char** argv) {
  int ran = 0, skipped = 0;
  if (mkdtemp(g_home) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  ran = run_cases(cases, sizeof cases / sizeof cases[0], argc, argv, &skipped);
  if (ran == 0) return 2;
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed (DEVX_HOME %s kept)\n", failures, g_home);
    return 1;
  }
  rmdir(g_home); /* fails harmlessly if something was left there */
  if (skipped == ran) return SKIPPED;
  fprintf(stderr, "[  OK  ] %d case(s)\n", ran);
  return 0;
}
