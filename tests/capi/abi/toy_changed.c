/* Incompatible: devx_toy_count changed its signature (wider types, an extra parameter). */
#include <stddef.h>

#define TOY_API __attribute__((visibility("default")))

typedef struct toy_ctx toy_ctx_t;
typedef enum toy_status { TOY_OK = 0, TOY_ERROR = 1 } toy_status_t;

TOY_API toy_status_t devx_toy_new(toy_ctx_t** out, const char* options_json);
TOY_API long devx_toy_count(const toy_ctx_t* ctx, long limit, int flags);

toy_status_t devx_toy_new(toy_ctx_t** out, const char* options_json) {
  (void)options_json;
  *out = NULL;
  return TOY_OK;
}

long devx_toy_count(const toy_ctx_t* ctx, long limit, int flags) {
  return ctx == NULL ? 0 : limit + flags;
}
