#include "plugin/app/resource_limits.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "plugin/log/log.h"

namespace hme::app {

std::size_t descriptorsNeeded(std::size_t meetings) {
  return kReservedDescriptors + meetings * kDescriptorsPerMeeting;
}

std::size_t meetingsThatFit(rlim_t limit) {
  if (limit == RLIM_INFINITY) return std::numeric_limits<std::size_t>::max();
  if (limit <= kReservedDescriptors) return 0;
  return static_cast<std::size_t>(limit - kReservedDescriptors) / kDescriptorsPerMeeting;
}

void DescriptorBudget::ensureFor(std::size_t meetings) {
  const std::size_t needed = descriptorsNeeded(meetings);
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    // Cannot happen for RLIMIT_NOFILE on Linux; without a number there is nothing to budget.
    log::warn("cannot read RLIMIT_NOFILE", {{"err", std::strerror(errno)}});
    return;
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
    const rlim_t target = limit.rlim_max == RLIM_INFINITY
                              ? static_cast<rlim_t>(needed)
                              : std::min<rlim_t>(limit.rlim_max, static_cast<rlim_t>(needed));
    if (target > limit.rlim_cur) {
      rlimit raised = limit;
      raised.rlim_cur = target;
      if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
        log::info("raised the open-file limit", {{"from", std::to_string(limit.rlim_cur)},
                                                 {"to", std::to_string(target)},
                                                 {"meetings", std::to_string(meetings)}});
        limit.rlim_cur = target;
      }
    }
  }

  std::lock_guard<std::mutex> lock(mutex_);
  limited_ = limit.rlim_cur != RLIM_INFINITY;
  soft_limit_ = limit.rlim_cur;
  capacity_ = meetingsThatFit(limit.rlim_cur);
  wanted_ = meetings;
  if (limited_ && limit.rlim_cur < needed) {
    if (needed > warned_needed_) {
      warned_needed_ = needed;
      log::warn("not enough file descriptors for every meeting: the others show connect failures",
                {{"meetings", std::to_string(meetings)},
                 {"meetings_that_fit", std::to_string(capacity_)},
                 {"open_file_limit", std::to_string(limit.rlim_cur)},
                 {"hard_limit", limit.rlim_max == RLIM_INFINITY ? std::string("unlimited")
                                                                : std::to_string(limit.rlim_max)},
                 {"set_LimitNOFILE_to", std::to_string(needed)}});
    }
  } else {
    warned_needed_ = 0;
  }
}

bool DescriptorBudget::tryAcquire() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (limited_ && in_use_ >= capacity_) return false;
  ++in_use_;
  return true;
}

void DescriptorBudget::release() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (in_use_ > 0) --in_use_;
}

std::size_t DescriptorBudget::capacity() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return limited_ ? capacity_ : std::numeric_limits<std::size_t>::max();
}

std::string DescriptorBudget::refusal() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return "out of file descriptors: the open-file limit " + std::to_string(soft_limit_) + " fits " +
         std::to_string(capacity_) + " meetings, " + std::to_string(wanted_) +
         " are configured; set LimitNOFILE (ulimit -n) to at least " +
         std::to_string(descriptorsNeeded(wanted_));
}

}  // namespace hme::app
