#include "plugin/transport/call_deadline.h"

#include <sys/socket.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace hme::transport::detail {

struct WatchedSocket {
  int fd = -1;
  bool armed = true;
  bool fired = false;
};

namespace {

using Clock = std::chrono::steady_clock;

// One thread for every deadline in the process: REST calls are few, and a thread per call would
// cost more than the call. Disarming takes the same lock as firing, so once disarm() returns the
// watcher can no longer shut down a descriptor that the caller is about to close (and the
// system may reuse).
class Watcher {
 public:
  static Watcher& instance() {
    // Never destroyed: the thread may still wait on the members while the process exits.
    static Watcher* watcher = new Watcher();
    return *watcher;
  }

  void add(Clock::time_point deadline, std::shared_ptr<WatchedSocket> entry) {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.emplace(deadline, std::move(entry));
    changed_.notify_one();
  }

  bool remove(WatchedSocket& entry) {
    std::lock_guard<std::mutex> lock(mutex_);
    entry.armed = false;  // the watcher skips (and drops) disarmed entries
    return entry.fired;
  }

 private:
  Watcher() {
    std::thread([this] { run(); }).detach();
  }

  [[noreturn]] void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (pending_.empty()) {
        changed_.wait(lock);
        continue;
      }
      const auto first = pending_.begin();
      if (!first->second->armed) {
        pending_.erase(first);
        continue;
      }
      if (Clock::now() < first->first) {
        changed_.wait_until(lock, first->first);
        continue;
      }
      ::shutdown(first->second->fd, SHUT_RDWR);
      first->second->fired = true;
      pending_.erase(first);
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::multimap<Clock::time_point, std::shared_ptr<WatchedSocket>> pending_;
};

}  // namespace

CallDeadline::CallDeadline(int fd, std::chrono::steady_clock::time_point deadline)
    : entry_(std::make_shared<WatchedSocket>()) {
  entry_->fd = fd;
  Watcher::instance().add(deadline, entry_);
}

CallDeadline::~CallDeadline() { disarm(); }

bool CallDeadline::disarm() noexcept { return Watcher::instance().remove(*entry_); }

}  // namespace hme::transport::detail
