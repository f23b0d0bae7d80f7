#include "metrics/meeting_state.h"

#include <algorithm>

namespace hme::metrics {

std::size_t messageActionIndex(std::string_view action) {
  const auto* found = std::find(kMessageActions.begin(), kMessageActions.end() - 1, action);
  return static_cast<std::size_t>(found - kMessageActions.begin());
}

const char* toLabel(Role role) {
  switch (role) {
    case Role::Host:
      return "host";
    case Role::Cohost:
      return "cohost";
    case Role::Participant:
      return "participant";
    case Role::Audience:
      return "audience";
  }
  return "participant";
}

const char* toLabel(LeaveReason reason) {
  switch (reason) {
    case LeaveReason::Left:
      return "left";
    case LeaveReason::RemovedByHost:
      return "removed_by_host";
    case LeaveReason::RemovedByAdmin:
      return "removed_by_admin";
    case LeaveReason::McuNoMedia:
      return "mcu_no_media";
    case LeaveReason::ClientNoMedia:
      return "client_no_media";
    case LeaveReason::SipTimeout:
      return "sip_timeout";
    case LeaveReason::WebsocketTimeout:
      return "websocket_timeout";
    case LeaveReason::Other:
      return "other";
  }
  return "other";
}

const char* toLabel(InviteFailure reason) {
  switch (reason) {
    case InviteFailure::NoAnswer:
      return "no_answer";
    case InviteFailure::Offline:
      return "offline";
    case InviteFailure::Busy:
      return "busy";
    case InviteFailure::Rejected:
      return "rejected";
    case InviteFailure::Other:
      return "other";
  }
  return "other";
}

const char* toLabel(Media media) {
  switch (media) {
    case Media::Audio:
      return "audio";
    case Media::Video:
      return "video";
    case Media::Screen:
      return "screen";
  }
  return "audio";
}

const char* toLabel(Direction direction) {
  return direction == Direction::Upstream ? "upstream" : "downstream";
}

const char* toLabel(MeetingPhase phase) {
  switch (phase) {
    case MeetingPhase::Scheduled:
      return "scheduled";
    case MeetingPhase::Created:
      return "created";
    case MeetingPhase::Destroyed:
      return "destroyed";
  }
  return "scheduled";
}

const char* toLabel(ClientType client) {
  switch (client) {
    case ClientType::Desktop:
      return "desktop";
    case ClientType::Mobile:
      return "mobile";
    case ClientType::Pad:
      return "pad";
    case ClientType::Other:
      return "other";
  }
  return "other";
}

Role ParticipantRecord::role() const {
  if (wire_role == 1) return Role::Host;
  if (wire_role == 2) return Role::Audience;
  if (wire_role == 0 && is_cohost) return Role::Cohost;
  return Role::Participant;
}

const char* toLabel(ItemRejectReason reason) {
  switch (reason) {
    case ItemRejectReason::IdTooLong:
      return "id_too_long";
  }
  return "id_too_long";
}

std::uint64_t MeetingCounters::messageErrorsTotal() const {
  std::uint64_t total = 0;
  for (auto count : message_errors) total += count;
  return total;
}

std::string InviteMemory::key(const std::string& call_number, const std::string& code) {
  // The unit separator cannot appear in a decoded call number or code worth distinguishing.
  std::string joined;
  joined.reserve(call_number.size() + code.size() + 1);
  joined.append(call_number).push_back('\x1f');
  joined.append(code);
  return joined;
}

bool InviteMemory::contains(const std::string& call_number, const std::string& code) const {
  return keys_.count(key(call_number, code)) != 0;
}

void InviteMemory::remember(const std::string& call_number, const std::string& code,
                            std::size_t capacity) {
  if (capacity == 0) return;
  auto joined = key(call_number, code);
  if (!keys_.insert(joined).second) return;
  order_.push_back(std::move(joined));
  while (order_.size() > capacity) {
    keys_.erase(order_.front());
    order_.pop_front();
  }
}

std::size_t MeetingState::onlineParticipants() const {
  return participants.size() - callingParticipants();
}

std::size_t MeetingState::callingParticipants() const {
  return static_cast<std::size_t>(
      std::count_if(participants.begin(), participants.end(),
                    [](const auto& entry) { return entry.second.calling; }));
}

}  // namespace hme::metrics
