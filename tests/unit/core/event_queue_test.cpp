// EventQueue: bounded, never blocks producers, drops the oldest log lines first and says so.
#include <devx/event_queue.hpp>

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

namespace devx {
namespace {

using std::chrono::milliseconds;

Event make(EventType type, std::string message) {
  Event e;
  e.type = type;
  e.source = "api";
  e.message = std::move(message);
  return e;
}

TEST(EventQueueTest, KeepsOrderAndPollsWithoutWaiting) {
  EventQueue q(8);
  EXPECT_FALSE(q.pop(milliseconds(0)));
  q.push(make(EventType::state, "a"));
  q.push(make(EventType::log, "b"));
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.pop(milliseconds(0))->message, "a");
  EXPECT_EQ(q.pop(milliseconds(0))->message, "b");
  EXPECT_FALSE(q.pop(milliseconds(0)));
}

TEST(EventQueueTest, WhenFullDropsTheOldestLogLinesAndReportsTheDrops) {
  EventQueue q(4);
  q.push(make(EventType::state, "s1"));
  q.push(make(EventType::log, "l1"));
  q.push(make(EventType::log, "l2"));
  q.push(make(EventType::state, "s2"));
  q.push(make(EventType::log, "l3"));  // drops l1
  q.push(make(EventType::log, "l4"));  // drops l2
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(q.dropped_total(), 2u);
  auto warning = q.pop(milliseconds(0));
  ASSERT_TRUE(warning);
  EXPECT_EQ(warning->type, EventType::warning);
  EXPECT_EQ(warning->source, "devx");
  EXPECT_EQ(warning->data_json, "{\"dropped\":2}");
  EXPECT_NE(warning->message.find("2 event(s) dropped"), std::string::npos);
  // State changes survive; the newest log lines are kept.
  EXPECT_EQ(q.pop(milliseconds(0))->message, "s1");
  EXPECT_EQ(q.pop(milliseconds(0))->message, "s2");
  EXPECT_EQ(q.pop(milliseconds(0))->message, "l3");
  EXPECT_EQ(q.pop(milliseconds(0))->message, "l4");
  EXPECT_FALSE(q.pop(milliseconds(0)));
}

TEST(EventQueueTest, WithoutLogLinesTheOldestEventIsDropped) {
  EventQueue q(2);
  q.push(make(EventType::state, "a"));
  q.push(make(EventType::state, "b"));
  q.push(make(EventType::state, "c"));
  EXPECT_EQ(q.pop(milliseconds(0))->type, EventType::warning);
  EXPECT_EQ(q.pop(milliseconds(0))->message, "b");
  EXPECT_EQ(q.pop(milliseconds(0))->message, "c");
}

TEST(EventQueueTest, SignalsTheNotifyFdWhenItStopsBeingEmpty) {
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ASSERT_GE(fd, 0);
  {
    EventQueue q(8, fd);
    pollfd p{fd, POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 0);
    q.push(make(EventType::log, "x"));
    EXPECT_EQ(::poll(&p, 1, 1000), 1);
    std::uint64_t n = 0;
    EXPECT_EQ(::read(fd, &n, sizeof n), static_cast<ssize_t>(sizeof n));
    EXPECT_EQ(n, 1u);
    q.push(make(EventType::log, "y"));  // not empty before: no second wake-up
    p.revents = 0;
    EXPECT_EQ(::poll(&p, 1, 0), 0);
  }
  // The queue held a duplicate; the caller's descriptor is still open.
  EXPECT_EQ(::close(fd), 0);
}

TEST(EventQueueTest, PopWaitsForAProducerAndCloseWakesIt) {
  EventQueue q;
  std::thread producer([&] {
    std::this_thread::sleep_for(milliseconds(20));
    q.push(make(EventType::state, "late"));
  });
  auto e = q.pop(milliseconds(5000));
  producer.join();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "late");
  std::thread closer([&] {
    std::this_thread::sleep_for(milliseconds(20));
    q.close();
  });
  EXPECT_FALSE(q.pop(milliseconds(5000)));
  closer.join();
  q.push(make(EventType::state, "ignored"));
  EXPECT_EQ(q.size(), 0u);
}

}  // namespace
}  // namespace devx
