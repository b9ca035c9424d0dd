/* Shared by the C99 tests of the C ABI (test_capi.c, test_vm.c, test_bridge.c, test_net.c): the
 * check macros, the failure counter they bump, and small file helpers. Each test file includes it
 * once, after <devx/devx.h>; everything here is static so every executable has its own copy. */
#ifndef DEVX_CAPI_TEST_UTIL_H
#define DEVX_CAPI_TEST_UTIL_H

#include <devx/devx.h>

#include <stdio.h>
#include <string.h>

/* The exit status ctest reports as skipped. */
#define SKIPPED 77

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                              \
    }                                                                          \
  } while (0)

/* Reports a call that did not return DEVX_OK (with its error), frees that error, and runs
 * `on_failure` (a `return …` statement of the calling case). Each test file defines
 * CHECK_OK(call, errp) from it with the return that fits its cases. */
#define CHECK_OK_OR(call, errp, on_failure)                                               \
  do {                                                                                    \
    devx_status_t st_ = (call);                                                           \
    if (st_ != DEVX_OK) {                                                                 \
      fprintf(stderr, "%s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #call, (int)st_, \
              *(errp) ? devx_error_json(*(errp)) : "(no error object)");                  \
      devx_error_free(*(errp));                                                           \
      *(errp) = NULL;                                                                     \
      failures++;                                                                         \
      on_failure;                                                                         \
    }                                                                                     \
  } while (0)

#define CHECK_CONTAINS(haystack, needle)                                                     \
  do {                                                                                       \
    const char* h_ = (haystack);                                                             \
    if (h_ == NULL || strstr(h_, (needle)) == NULL) {                                        \
      fprintf(stderr, "%s:%d: expected to find '%s' in: %s\n", __FILE__, __LINE__, (needle), \
              h_ ? h_ : "(null)");                                                           \
      failures++;                                                                            \
    }                                                                                        \
  } while (0)

/* A context on DEVX_HOME `home`, dry-run or not; NULL (and one failure counted) when it cannot be
 * made. */
static inline devx_context_t* capi_test_context(const char* home, int dry_run) {
  devx_context_t* ctx = NULL;
  devx_error_t* err = NULL;
  char options[768];
  snprintf(options, sizeof options, "{\"v\":1,\"devx_home\":\"%s\",\"dry_run\":%s}", home,
           dry_run ? "true" : "false");
  if (devx_context_new(&ctx, options, &err) != DEVX_OK) {
    fprintf(stderr, "devx_context_new: %s\n", devx_error_json(err));
    devx_error_free(err);
    failures++;
    return NULL;
  }
  return ctx;
}

/* Checks that a call failed with `code` and a message containing `needle` (NULL: any), then frees
 * the error. Takes the error by address so it is read after the call that set it. */
static inline void expect_error(devx_status_t st, devx_error_t** err, devx_status_t code,
                                const char* needle) {
  CHECK(st == code);
  CHECK(*err != NULL);
  if (*err == NULL) return;
  if (st != code) fprintf(stderr, "got %s\n", devx_error_json(*err));
  CHECK(devx_error_code(*err) == code);
  if (needle != NULL) CHECK_CONTAINS(devx_error_message(*err), needle);
  devx_error_free(*err);
  *err = NULL;
}

/* Writes `text` to `path` (created or truncated); 0 on failure. */
static inline int write_file(const char* path, const char* text) {
  FILE* f = fopen(path, "w");
  if (f == NULL) return 0;
  fputs(text, f);
  return fclose(f) == 0;
}

/* One case of a test executable: returns 0 when it ran (its checks count failures), or SKIPPED. */
struct capi_test_case {
  const char* name;
  int (*run)(void);
};

/* Runs the case named by argv[1], or every case without one. Returns how many ran (0, after saying
 * so, when argv[1] names none) and adds those that returned SKIPPED to *skipped. */
static inline int run_cases(const struct capi_test_case* cases, size_t count, int argc, char** argv,
                            int* skipped) {
  size_t i;
  int ran = 0;
  for (i = 0; i < count; i++) {
    if (argc < 2 || strcmp(argv[1], cases[i].name) == 0) {
      fprintf(stderr, "[ RUN  ] %s\n", cases[i].name);
      if (cases[i].run() == SKIPPED) (*skipped)++;
      ran++;
    }
  }
  if (ran == 0) fprintf(stderr, "unknown case '%s'\n", argc > 1 ? argv[1] : "");
  return ran;
}

#endif
