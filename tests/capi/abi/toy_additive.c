/* Compatible: v1 plus a new function. */
#include "toy.h"

#include <stddef.h>

TOY_API int devx_toy_added(int value);

toy_status_t devx_toy_new(toy_ctx_t** out, const char* options_json) {
  (void)options_json;
  *out = NULL;
  return TOY_OK;
}

int devx_toy_count(const toy_ctx_t* ctx, int limit) { return ctx == NULL ? 0 : limit; }

int devx_toy_added(int value) { return value + 1; }
