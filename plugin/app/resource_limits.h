#pragma once
/// The file-descriptor budget of the meetings: what RLIMIT_NOFILE must allow for N meetings,
/// raising the soft limit when the configured and discovered meetings need more, and admitting
/// meetings to the network only as far as the limit allows, so that the listener, signals and
/// scrapes always keep descriptors of their own.

#include <sys/resource.h>

#include <cstddef>
#include <mutex>
#include <string>

namespace hme::app {

/// Descriptors the process keeps apart from its meetings: stdio, listeners, the signalfd, the
/// scrapes and webhooks in flight, discovery's management calls.
inline constexpr std::size_t kReservedDescriptors = 32;
/// Descriptors one meeting holds at most: its WebSocket, a duplicate of that socket (a stop
/// shuts its read side to end a read stuck inside a frame), its wake-up eventfd, and a REST
/// connection while it fetches a token (during a token refresh all four are open).
inline constexpr std::size_t kDescriptorsPerMeeting = 4;

/// The RLIMIT_NOFILE soft limit that `meetings` meetings need (the number to set as
/// `LimitNOFILE` / `ulimit -n`).
std::size_t descriptorsNeeded(std::size_t meetings);

/// How many meetings fit under a soft limit of `limit` descriptors.
std::size_t meetingsThatFit(rlim_t limit);

/// Admits meetings to open connections while they fit under RLIMIT_NOFILE. A meeting takes a
/// slot before its first connection and keeps it until its runner ends. Thread-safe.
class DescriptorBudget {
 public:
  /// Unlimited until the first ensureFor().
  DescriptorBudget() = default;

  /// Makes room for `meetings` meetings: when the soft RLIMIT_NOFILE is lower than
  /// descriptorsNeeded(meetings), raises it toward the hard limit; when even that is short,
  /// logs one warning (again only when more meetings are wanted) naming the number to set. The
  /// capacity follows the resulting soft limit. Never throws except std::bad_alloc.
  void ensureFor(std::size_t meetings);

  /// Takes a slot; false when every slot is taken.
  bool tryAcquire();
  /// Gives back a slot taken by tryAcquire().
  void release();

  /// Meetings that fit.
  std::size_t capacity() const;
  /// The reason shown for a meeting that did not get a slot, e.g. "out of file descriptors: ...".
  /// No secrets.
  std::string refusal() const;

 private:
  mutable std::mutex mutex_;
  bool limited_ = false;
  std::size_t capacity_ = 0;
  std::size_t in_use_ = 0;
  std::size_t wanted_ = 0;  // meetings asked for by the last ensureFor
  rlim_t soft_limit_ = 0;
  std::size_t warned_needed_ = 0;  // the largest shortfall warned about since the last fit
};

}  // namespace hme::app
