/* The service of bench/up_bench: records its start time, sleeps DELAY_MS, writes
 * "start_us ready_us" to FILE (tmp + rename, so a watcher sees it complete), prints "ready" and
 * waits to be killed. Static and libc-only, so its own start-up cost (the floor) is tiny.
 *   up_bench_service DELAY_MS FILE */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long realtime_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

int main(int argc, char** argv) {
  const long long start = realtime_us();
  if (argc != 3) return 2;
  const int delay_ms = atoi(argv[1]);
  struct timespec delay = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
  while (nanosleep(&delay, &delay) != 0 && errno == EINTR) {
  }
  const long long ready = realtime_us();
  char text[64];
  const int len = snprintf(text, sizeof text, "%lld %lld\n", start, ready);
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
  const int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    if (write(fd, text, (size_t)len) < 0) return 1;
    close(fd);
    rename(tmp, argv[2]);
  }
  if (write(STDOUT_FILENO, "ready\n", 6) < 0) return 1;
  for (;;) pause();
}
