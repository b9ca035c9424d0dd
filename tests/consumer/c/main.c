/* Loads a devx.yaml with a profile through the installed C ABI and prints the resolved project as
 * JSON on stdout. Built with `cc main.c $(pkg-config --cflags --libs devx)`.
 * Usage: devx-consumer-c PATH [PROFILE] */
#include <devx/devx.h>

#include <stdio.h>
#include <string.h>

static int fail(devx_status_t status, devx_error_t *err, const char *what) {
  fprintf(stderr, "%s failed: %s (%d): %s\n%s\n", what, err ? devx_error_code_name(err) : "?",
          (int)status, err ? devx_error_message(err) : "", err ? devx_error_details_json(err) : "");
  devx_error_free(err);
  return (int)status;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s PATH [PROFILE]\n", argv[0]);
    return 2;
  }
  /* The profile name goes into a JSON document: keep this example free of escaping code. */
  char options[256] = "{\"v\":1}";
  if (argc == 3) {
    if (strlen(argv[2]) > 200 || strpbrk(argv[2], "\"\\") != NULL) {
      fprintf(stderr, "profile name not supported by this example\n");
      return 2;
    }
    snprintf(options, sizeof options, "{\"v\":1,\"profile\":\"%s\"}", argv[2]);
  }

  devx_error_t *err = NULL;
  devx_context_t *ctx = NULL;
  devx_status_t st = devx_context_new(&ctx, NULL, &err);
  if (st != DEVX_OK) return fail(st, err, "devx_context_new");

  devx_project_t *project = NULL;
  st = devx_project_load(&project, ctx, argv[1], options, &err);
  if (st != DEVX_OK) {
    devx_context_free(ctx);
    return fail(st, err, "devx_project_load");
  }

  char *json = NULL;
  st = devx_project_to_json(&json, project, &err);
  if (st != DEVX_OK) {
    devx_project_free(project);
    devx_context_free(ctx);
    return fail(st, err, "devx_project_to_json");
  }
  int rc = fputs(json, stdout) < 0 || fflush(stdout) != 0;

  devx_string_free(json);
  devx_project_free(project);
  devx_context_free(ctx);
  return rc;
}
