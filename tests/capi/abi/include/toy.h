/* The "version 1" C ABI of a toy library, used to prove capi/abi/check.sh detects breaks. */
#ifndef DEVX_TOY_H
#define DEVX_TOY_H

#define TOY_API __attribute__((visibility("default")))

typedef struct toy_ctx toy_ctx_t;
typedef enum toy_status { TOY_OK = 0, TOY_ERROR = 1 } toy_status_t;

TOY_API toy_status_t devx_toy_new(toy_ctx_t** out, const char* options_json);
TOY_API int devx_toy_count(const toy_ctx_t* ctx, int limit);

#endif
