/* Incompatible: devx_toy_count is gone. */
#include "toy.h"

#include <stddef.h>

toy_status_t devx_toy_new(toy_ctx_t** out, const char* options_json) {
  (void)options_json;
  *out = NULL;
  return TOY_OK;
}
