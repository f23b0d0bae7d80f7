#pragma once
/// Internal to hme::transport: an overall deadline for a blocking socket exchange. Per-read socket
/// timeouts restart with every byte, so a peer trickling one byte a second keeps a read going
/// forever; a CallDeadline instead shuts the socket down when the deadline passes, which makes
/// every blocking read or write on it return at once. Not part of the public API.

#include <chrono>
#include <memory>

namespace hme::transport::detail {

/// What the watcher thread knows of one CallDeadline (defined in call_deadline.cpp).
struct WatchedSocket;

/// Watches one socket descriptor until destroyed. All instances share one process-wide watcher
/// thread, started on first use. Thread-safe; not copyable or movable.
class CallDeadline {
 public:
  /// Arms the deadline: at `deadline`, `::shutdown(fd, SHUT_RDWR)` unless this was destroyed or
  /// disarmed before. The descriptor must stay open until then.
  CallDeadline(int fd, std::chrono::steady_clock::time_point deadline);
  /// Disarms (see disarm()).
  ~CallDeadline();
  CallDeadline(const CallDeadline&) = delete;
  CallDeadline& operator=(const CallDeadline&) = delete;

  /// Stops watching and returns true if the deadline had already passed and the socket was shut
  /// down. Once it returns, the descriptor is never touched again, so it may be closed.
  /// Idempotent.
  bool disarm() noexcept;

 private:
  std::shared_ptr<WatchedSocket> entry_;
};

}  // namespace hme::transport::detail
