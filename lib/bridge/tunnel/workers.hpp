#pragma once
// The threads and sockets one tunnel endpoint owns: every connection runs on its own joinable
// thread, and stopping the endpoint shuts down every socket it still relays so those threads
// return promptly.

#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <set>
#include <thread>

namespace devx::bridge::tunnel {

class Workers {
 public:
  explicit Workers(std::size_t capacity) : capacity_(capacity) {}
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;
  ~Workers() { join_all(); }

  // Runs `work` on a new thread; false (and `work` not run) at capacity or once stopping.
  bool spawn(std::function<void()> work);
  // Joins the threads that have finished.
  void reap();
  // Shuts down every tracked socket, then joins every thread. Later spawns are refused.
  void join_all();

  // Sockets a worker relays: tracked ones are shut down by join_all(). A worker closes its socket
  // through release_and_close() so the descriptor cannot be reused while join_all() touches it.
  // track() returns false once stopping (the caller closes the socket itself).
  bool track(int fd);
  void release_and_close(int fd);
  // Stops tracking without closing: the socket's ownership moved elsewhere.
  void untrack(int fd);

 private:
  struct Entry {
    std::thread thread;
    bool done = false;
  };

  const std::size_t capacity_;
  std::mutex mutex_;
  std::list<Entry> entries_;
  std::set<int> sockets_;
  bool stopping_ = false;
};

}  // namespace devx::bridge::tunnel
