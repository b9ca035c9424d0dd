#include "bridge/tunnel/workers.hpp"

#include <sys/socket.h>
#include <unistd.h>

namespace devx::bridge::tunnel {

bool Workers::spawn(std::function<void()> work) {
  std::lock_guard lock(mutex_);
  if (stopping_ || entries_.size() >= capacity_) return false;
  auto& entry = entries_.emplace_back();
  auto* self = &entry;
  entry.thread = std::thread([this, self, work = std::move(work)] {
    try {
      work();
    } catch (...) {
      // A worker reports its own failures; an escaped exception must not end the process.
    }
    std::lock_guard done_lock(mutex_);
    self->done = true;
  });
  return true;
}

void Workers::reap() {
  std::list<Entry> finished;
  {
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      auto next = std::next(it);
      if (it->done) finished.splice(finished.end(), entries_, it);
      it = next;
    }
  }
  for (auto& entry : finished) entry.thread.join();
}

void Workers::join_all() {
  std::list<Entry> all;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (const int fd : sockets_) ::shutdown(fd, SHUT_RDWR);
    all.swap(entries_);
  }
  for (auto& entry : all) entry.thread.join();
}

bool Workers::track(int fd) {
  std::lock_guard lock(mutex_);
  if (stopping_) return false;
  sockets_.insert(fd);
  return true;
}

void Workers::release_and_close(int fd) {
  std::lock_guard lock(mutex_);
  sockets_.erase(fd);
  ::close(fd);
}

void Workers::untrack(int fd) {
  std::lock_guard lock(mutex_);
  sockets_.erase(fd);
}

}  // namespace devx::bridge::tunnel
