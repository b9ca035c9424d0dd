#pragma once
// Symbol visibility: libdevx is built with -fvisibility=hidden; only DEVX_API symbols are exported.
#if defined(DEVX_STATIC)
#define DEVX_API
#elif defined(DEVX_BUILDING_LIBRARY)
#define DEVX_API __attribute__((visibility("default")))
#else
#define DEVX_API
#endif
