#include "metrics/reduce.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

namespace hme::metrics {
namespace {

// Bounds for strings from the wire that end up in labels or on the status page.
constexpr std::size_t kMaxTitleBytes = 256;
constexpr std::size_t kMaxDisplayIdBytes = 64;
constexpr std::size_t kMaxNameBytes = 128;
constexpr std::size_t kMaxErrorBytes = 256;
constexpr std::size_t kMaxCallNumberBytes = 64;

std::string lowerAscii(std::string_view text) {
  std::string lowered(text);
  for (auto& c : lowered) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lowered;
}

// A lower-case word of 1–16 letters, or `other`: keeps label sets bounded and well-formed.
std::string shortWordOrOther(std::string_view text) {
  auto lowered = lowerAscii(text);
  const bool ok =
      !lowered.empty() && lowered.size() <= 16 &&
      std::all_of(lowered.begin(), lowered.end(), [](char c) { return c >= 'a' && c <= 'z'; });
  return ok ? lowered : std::string("other");
}

std::optional<double> msToSeconds(const std::optional<std::int64_t>& ms) {
  // 0 and negative values are "not set" on this API rather than 1970.
  if (!ms || *ms <= 0) return std::nullopt;
  return static_cast<double>(*ms) / 1000.0;
}

// A wire figure worth keeping: present, finite, not negative.
bool usable(const std::optional<double>& value) {
  return value && std::isfinite(*value) && *value >= 0;
}

std::size_t indexOf(ConnectStage stage) { return static_cast<std::size_t>(stage); }
std::size_t indexOf(DisconnectReason reason) { return static_cast<std::size_t>(reason); }
std::size_t indexOf(RejectReason reason) { return static_cast<std::size_t>(reason); }

template <typename Array>
void increment(Array& counters, std::size_t index) {
  if (index < counters.size()) ++counters[index];
}

void merge(ParticipantRecord& record, const ParticipantFields& fields,
           const ReduceOptions& options) {
  if (fields.name && options.keep_participant_names) {
    record.name = sanitizeText(*fields.name, kMaxNameBytes, false);
  }
  if (fields.role) {
    const int role = *fields.role;
    record.wire_role = (role >= 0 && role <= 2) ? static_cast<std::int8_t>(role) : std::int8_t{-1};
  }
  if (fields.state) record.calling = *fields.state == 1;
  if (fields.muted) record.muted = *fields.muted;
  if (fields.video) record.video = *fields.video;
  if (fields.hand_raised) record.hand_raised = *fields.hand_raised;
  if (fields.sharing) record.sharing = *fields.sharing;
  if (fields.is_cohost) record.is_cohost = *fields.is_cohost;
  if (fields.client) record.client = *fields.client;
}

void merge(NetRecord& record, const NetFigures& figures) {
  if (figures.net_info) record.quality = normalizeRating(*figures.net_info);
  const auto seconds = [](const std::optional<double>& ms, double& out) {
    if (usable(ms)) out = *ms / 1000.0;
  };
  const auto ratio = [](const std::optional<double>& hundredths_of_percent, double& out) {
    if (usable(hundredths_of_percent)) out = *hundredths_of_percent / 10000.0;
  };
  const auto bytes = [](const std::optional<double>& hundred_bits, double& out) {
    if (usable(hundred_bits)) out = *hundred_bits * 100.0 / 8.0;
  };
  constexpr auto kUp = static_cast<std::size_t>(Direction::Upstream);
  constexpr auto kDown = static_cast<std::size_t>(Direction::Downstream);
  constexpr auto kAudio = static_cast<std::size_t>(Media::Audio);
  constexpr auto kVideo = static_cast<std::size_t>(Media::Video);
  constexpr auto kScreen = static_cast<std::size_t>(Media::Screen);
  seconds(figures.delay_ms, record.rtt_seconds);
  seconds(figures.jitter_up_ms, record.jitter_seconds[kUp]);
  seconds(figures.jitter_down_ms, record.jitter_seconds[kDown]);
  ratio(figures.audio_loss_up, record.loss_ratio[kAudio][kUp]);
  ratio(figures.audio_loss_down, record.loss_ratio[kAudio][kDown]);
  ratio(figures.video_loss_up, record.loss_ratio[kVideo][kUp]);
  ratio(figures.video_loss_down, record.loss_ratio[kVideo][kDown]);
  ratio(figures.screen_loss_up, record.loss_ratio[kScreen][kUp]);
  ratio(figures.screen_loss_down, record.loss_ratio[kScreen][kDown]);
  bytes(figures.audio_flux_up, record.throughput_bytes_per_second[kAudio][kUp]);
  bytes(figures.audio_flux_down, record.throughput_bytes_per_second[kAudio][kDown]);
  bytes(figures.video_flux_up, record.throughput_bytes_per_second[kVideo][kUp]);
  bytes(figures.video_flux_down, record.throughput_bytes_per_second[kVideo][kDown]);
  bytes(figures.screen_flux_up, record.throughput_bytes_per_second[kScreen][kUp]);
  bytes(figures.screen_flux_down, record.throughput_bytes_per_second[kScreen][kDown]);
}

// Applies a list update keyed by strings to a std::set (attendees, waiting room).
void applyToSet(std::set<std::string>& target, bool full,
                const std::vector<std::pair<std::string, bool>>& keys_and_presence,
                std::size_t cap) {
  if (full) target.clear();
  for (const auto& [key, present] : keys_and_presence) {
    if (key.empty()) continue;
    if (!present) {
      target.erase(key);
    } else if (target.size() < cap || target.count(key) != 0) {
      target.insert(key);
    }
  }
}

void recordError(SessionStatus& session, const char* label, const std::string& detail,
                 TimePoint at) {
  std::string text(label);
  if (!detail.empty()) text.append(": ").append(detail);
  session.last_error = sanitizeText(text, kMaxErrorBytes, false);
  session.last_error_at = at;
}

void markEnded(SessionStatus& session, TimePoint at) {
  if (!session.ended_at) session.ended_at = at;
}

// One item of a full list, as `replaceList` walks them.
template <typename Item>
struct Listed {
  std::string_view pid;
  std::size_t index;  // position in the wire order
  const Item* item;
};

// The wire index from which a newly listed pid no longer fits under `cap`: a pid is kept iff its
// first item's index is below it. `listed` is sorted by pid, then index.
template <typename Item>
std::size_t firstDroppedIndex(const std::vector<Listed<Item>>& listed, std::size_t cap) {
  if (listed.size() <= cap) return std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> first_indices;
  for (std::size_t k = 0; k < listed.size(); ++k) {
    if (k == 0 || listed[k].pid != listed[k - 1].pid) first_indices.push_back(listed[k].index);
  }
  if (first_indices.size() <= cap) return std::numeric_limits<std::size_t>::max();
  const auto nth = first_indices.begin() + static_cast<std::ptrdiff_t>(cap);
  std::nth_element(first_indices.begin(), nth, first_indices.end());
  return *nth;
}

// Pids added and removed by a full list, and items left out for an id over kMaxIdBytes.
struct ListChanges {
  std::uint64_t added = 0;
  std::uint64_t removed = 0;
  std::uint64_t ids_too_long = 0;
};

bool idTooLong(std::string_view id) { return id.size() > kMaxIdBytes; }

// Replaces `records` by the full list `items` (Remove items and empty pids skipped, pids over
// kMaxIdBytes skipped and counted). A full list
// is usually the previous one again, so the map is updated in place rather than rebuilt: a pid
// already present costs no node allocation and no pid copy. The result is exactly that of
// building the list from scratch: a listed pid gets a fresh `Record{}` into which
// `merge(record, item)` folds all its items in wire order, and only the first `cap` distinct
// pids in wire order are kept. The items, sorted by pid, are walked alongside the map (sorted
// the same way).
template <typename Record, typename Item, typename Merge>
ListChanges replaceList(std::map<std::string, Record>& records, const std::vector<Item>& items,
                        std::size_t cap, Merge merge) {
  ListChanges changes;
  std::vector<Listed<Item>> listed;
  listed.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    if (item.pid.empty() || item.mode == ItemMode::Remove) continue;
    if (idTooLong(item.pid)) {
      ++changes.ids_too_long;
      continue;
    }
    listed.push_back({item.pid, i, &item});
  }
  // By pid, then wire order: the items of one pid merge in wire order, the first has the lowest
  // index. (std::sort on a total order rather than std::stable_sort, which allocates.)
  std::sort(listed.begin(), listed.end(), [](const Listed<Item>& a, const Listed<Item>& b) {
    const int order = a.pid.compare(b.pid);
    return order != 0 ? order < 0 : a.index < b.index;
  });
  const std::size_t first_dropped = firstDroppedIndex(listed, cap);

  const auto drop = [&](typename std::map<std::string, Record>::iterator at) {
    ++changes.removed;
    return records.erase(at);
  };
  auto it = records.begin();
  for (std::size_t k = 0; k < listed.size();) {
    const std::string_view pid = listed[k].pid;
    std::size_t group_end = k + 1;
    while (group_end < listed.size() && listed[group_end].pid == pid) ++group_end;
    if (listed[k].index < first_dropped) {
      while (it != records.end() && std::string_view(it->first) < pid) it = drop(it);
      if (it != records.end() && std::string_view(it->first) == pid) {
        it->second = Record{};
      } else {
        it = records.emplace_hint(it, std::string(pid), Record{});
        ++changes.added;
      }
      for (std::size_t j = k; j < group_end; ++j) merge(it->second, *listed[j].item);
      ++it;
    }
    k = group_end;
  }
  while (it != records.end()) it = drop(it);
  return changes;
}

class Reducer {
 public:
  Reducer(MeetingState& state, TimePoint at, const ReduceOptions& options)
      : state_(state), at_(at), options_(options) {}

  void operator()(const ConfBasicInfo& info) {
    auto& out = state_.info;
    out.received = true;
    if (info.display_id) out.display_id = sanitizeText(*info.display_id, kMaxDisplayIdBytes, false);
    if (info.title) out.title = sanitizeText(*info.title, kMaxTitleBytes, true);
    if (auto seconds = msToSeconds(info.start_time_ms)) out.start_timestamp_seconds = seconds;
    if (auto seconds = msToSeconds(info.scheduled_start_time_ms)) {
      out.scheduled_start_timestamp_seconds = seconds;
    }
    if (info.conf_mode) out.conf_mode = shortWordOrOther(*info.conf_mode);
    if (info.media) out.media = *info.media == 1 ? "voice" : *info.media == 2 ? "video" : "other";
  }

  void operator()(const ConfDynamicInfo& info) {
    auto& flags = state_.flags;
    if (info.state) {
      const auto state = lowerAscii(*info.state);
      if (state == "schedule" || state == "scheduled") flags.phase = MeetingPhase::Scheduled;
      if (state == "created") flags.phase = MeetingPhase::Created;
      if (state == "destroyed") {
        flags.phase = MeetingPhase::Destroyed;
        markEnded(state_.session, at_);
      }
    }
    if (auto seconds = msToSeconds(info.end_time_ms)) flags.end_timestamp_seconds = seconds;
    if (info.lock) flags.locked = *info.lock != 0;
    if (info.mute) flags.mute_on_join = *info.mute != 0;
    if (info.lock_sharing) flags.screen_share_locked = *info.lock_sharing != 0;
    if (info.rec_state) flags.recording = *info.rec_state != 0;
    if (info.forbidden_chat) flags.chat_forbidden = *info.forbidden_chat != 0;
    if (info.audience_total_count && *info.audience_total_count >= 0) {
      flags.audience_members = info.audience_total_count;
    }
    if (info.pic_num && *info.pic_num >= 0) flags.layout_pictures = info.pic_num;
  }

  void operator()(const ParticipantsUpdate& update) {
    if (update.full) {
      replaceParticipants(update);
      return;
    }
    for (const auto& item : update.items) {
      if (item.pid.empty() || rejectedId(item.pid)) continue;
      if (item.mode == ItemMode::Remove) {
        if (state_.participants.erase(item.pid) != 0) {
          ++state_.counters.participant_leaves;
          state_.net.erase(item.pid);
        }
        continue;
      }
      auto found = state_.participants.find(item.pid);
      if (found == state_.participants.end()) {
        if (state_.participants.size() >= options_.max_list_entries) continue;
        found = state_.participants.emplace(item.pid, ParticipantRecord{}).first;
        ++state_.counters.participant_joins;
      }
      merge(found->second, item.fields, options_);
    }
  }

  void operator()(const AttendeesUpdate& update) {
    std::vector<std::pair<std::string, bool>> keys;
    keys.reserve(update.items.size());
    for (const auto& item : update.items) {
      // Remove items inside a full list describe nothing present: skip them.
      if (update.full && item.mode == ItemMode::Remove) continue;
      if (rejectedId(item.key)) continue;
      keys.emplace_back(item.key, item.mode == ItemMode::Upsert);
    }
    applyToSet(state_.attendees, update.full, keys, options_.max_list_entries);
  }

  void operator()(const SpeakersUpdate& update) {
    std::vector<std::string> pids;
    for (const auto& speaker : update.speakers) {
      if (rejectedId(speaker.pid)) continue;
      if (!speaker.pid.empty() && pids.size() < options_.max_list_entries) {
        pids.push_back(speaker.pid);
      }
    }
    std::sort(pids.begin(), pids.end());
    pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
    if (pids != state_.speakers) {
      ++state_.counters.speaker_changes;
      state_.speakers = std::move(pids);
    }
  }

  void operator()(const NetConditionUpdate& update) {
    if (update.full) {
      const auto changes = replaceList(
          state_.net, update.items, options_.max_list_entries,
          [](NetRecord& record, const NetConditionChange& item) { merge(record, item.figures); });
      countIdsTooLong(changes.ids_too_long);
      return;
    }
    for (const auto& item : update.items) {
      if (item.pid.empty() || rejectedId(item.pid)) continue;
      if (item.mode == ItemMode::Remove) {
        state_.net.erase(item.pid);
        continue;
      }
      auto found = state_.net.find(item.pid);
      if (found == state_.net.end()) {
        if (state_.net.size() >= options_.max_list_entries) continue;
        found = state_.net.emplace(item.pid, NetRecord{}).first;
      }
      merge(found->second, item.figures);
    }
  }

  void operator()(const InviteResults& results) {
    // Decide what a replay already counted before remembering anything: remembering evicts, and
    // must not make a later item of the same message look new.
    std::vector<std::pair<std::string, std::string>> fresh;
    for (const auto& item : results.items) {
      if (item.code.empty()) continue;
      auto call_number = sanitizeText(item.call_number, kMaxCallNumberBytes, false);
      auto code = sanitizeText(item.code, kMaxCallNumberBytes, false);
      if (results.full && state_.invite_memory.contains(call_number, code)) continue;
      fresh.emplace_back(std::move(call_number), std::move(code));
    }
    for (const auto& [call_number, code] : fresh) {
      state_.invite_memory.remember(call_number, code, options_.invite_memory_entries);
      countInviteResult(code);
    }
  }

  void operator()(const WaitingListUpdate& update) {
    std::vector<std::pair<std::string, bool>> keys;
    keys.reserve(update.items.size());
    for (const auto& item : update.items) {
      if (update.full && item.mode == ItemMode::Remove) continue;
      if (rejectedId(item.pid)) continue;
      // Admitted members (WAITINGSTATE 1) are no longer waiting.
      const bool waiting =
          item.mode == ItemMode::Upsert && !(item.waiting_state && *item.waiting_state == 1);
      keys.emplace_back(item.pid, waiting);
    }
    applyToSet(state_.waiting_room, update.full, keys, options_.max_list_entries);
  }

  void operator()(const InterpreterGroupsUpdate& update) {
    std::vector<std::pair<std::string, bool>> keys;
    keys.reserve(update.group_ids.size());
    for (const auto& id : update.group_ids) {
      if (!rejectedId(id)) keys.emplace_back(id, true);
    }
    applyToSet(state_.interpreter_groups, update.full, keys, options_.max_list_entries);
  }

  void operator()(const CustomMultiPic& pic) {
    if (pic.pic_num && *pic.pic_num >= 0) state_.flags.layout_pictures = pic.pic_num;
  }

  void operator()(const CountedOnly&) {}

  void operator()(const SessionStateChanged& changed) {
    state_.session.state = changed.state;
    state_.session.up = changed.up;
    if (changed.state == SessionState::Ended) markEnded(state_.session, at_);
  }

  void operator()(const Subscribed&) {
    ++state_.counters.connects;
    state_.session.ended_at.reset();
  }

  void operator()(const ConnectFailed& failed) {
    increment(state_.counters.connect_failures, indexOf(failed.stage));
    recordError(state_.session, toLabel(failed.stage), failed.detail, at_);
  }

  void operator()(const Disconnected& disconnected) {
    increment(state_.counters.disconnects, indexOf(disconnected.reason));
    recordError(state_.session, toLabel(disconnected.reason), disconnected.detail, at_);
    // The session reports its next state in a separate event; a scrape in between must not show
    // the disconnect counted while the meeting still looks up.
    state_.session.up = false;
  }

  void operator()(const HeartbeatSent&) { ++state_.counters.heartbeats_sent; }

  void operator()(const HeartbeatAnswered& answered) {
    if (std::isfinite(answered.rtt_seconds) && answered.rtt_seconds >= 0) {
      state_.session.heartbeat_rtt_seconds = answered.rtt_seconds;
    }
  }

  void operator()(const TokenRefreshed&) { ++state_.counters.token_refreshes; }

  void operator()(const FrameReceived& frame) {
    increment(state_.counters.messages, messageActionIndex(frame.action));
    state_.session.last_message_at = at_;
  }

  void operator()(const PongReceived&) { state_.session.last_message_at = at_; }

  void operator()(const FrameRejected& rejected) {
    increment(state_.counters.message_errors, indexOf(rejected.reason));
    state_.session.last_message_at = at_;
  }

 private:
  void replaceParticipants(const ParticipantsUpdate& update) {
    const auto changes =
        replaceList(state_.participants, update.items, options_.max_list_entries,
                    [this](ParticipantRecord& record, const ParticipantChange& item) {
                      merge(record, item.fields, options_);
                    });
    state_.counters.participant_joins += changes.added;
    state_.counters.participant_leaves += changes.removed;
    countIdsTooLong(changes.ids_too_long);

    // Figures of pids outside the new list belong to nobody present: drop them (both maps are
    // sorted by pid, one walk).
    const auto& participants = state_.participants;
    auto present = participants.begin();
    for (auto net = state_.net.begin(); net != state_.net.end();) {
      while (present != participants.end() && present->first < net->first) ++present;
      if (present != participants.end() && present->first == net->first) {
        ++net;
      } else {
        net = state_.net.erase(net);
      }
    }
  }

  // An item whose key is longer than kMaxIdBytes is left out (and counted) rather than stored:
  // the rest of its frame still applies.
  bool rejectedId(std::string_view id) {
    if (!idTooLong(id)) return false;
    countIdsTooLong(1);
    return true;
  }

  void countIdsTooLong(std::uint64_t items) {
    state_.counters.items_rejected[static_cast<std::size_t>(ItemRejectReason::IdTooLong)] += items;
  }

  void countInviteResult(const std::string& code) {
    auto& counters = state_.counters;
    if (code == "0") {
      ++counters.invites;
      return;
    }
    static const std::pair<const char*, LeaveReason> kLeaveCodes[] = {
        {"11076010", LeaveReason::Left},
        {"11076002", LeaveReason::RemovedByHost},
        {"11076016", LeaveReason::RemovedByAdmin},
        {"11111001", LeaveReason::McuNoMedia},
        {"11111002", LeaveReason::ClientNoMedia},
        {"11111003", LeaveReason::SipTimeout},
        {"11111004", LeaveReason::WebsocketTimeout}};
    for (const auto& [leave_code, reason] : kLeaveCodes) {
      if (code == leave_code) {
        ++counters.leave_reasons[static_cast<std::size_t>(reason)];
        return;
      }
    }
    // The 11111xxx family is network causes of a leave; unknown members are still leaves.
    if (code.size() == 8 && code.compare(0, 5, "11111") == 0) {
      ++counters.leave_reasons[static_cast<std::size_t>(LeaveReason::Other)];
      return;
    }
    ++counters.invites;
    auto failure = InviteFailure::Other;
    if (code == "11076005") failure = InviteFailure::NoAnswer;
    if (code == "11076007") failure = InviteFailure::Offline;
    if (code == "11076008") failure = InviteFailure::Busy;
    if (code == "11076009") failure = InviteFailure::Rejected;
    ++counters.invite_failures[static_cast<std::size_t>(failure)];
  }

  MeetingState& state_;
  TimePoint at_;
  const ReduceOptions& options_;
};

// Length of the UTF-8 sequence starting at `text[i]`, or 0 when it is not a valid one.
std::size_t utf8SequenceLength(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

}  // namespace

void reduce(MeetingState& state, const Event& event, const ReduceOptions& options) {
  std::visit(Reducer(state, event.at, options), event.body);
}

std::string sanitizeText(std::string_view text, std::size_t max_bytes, bool keep_newlines) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  std::size_t i = 0;
  while (i < text.size()) {
    const auto length = utf8SequenceLength(text, i);
    std::string_view piece;
    if (length == 0) {
      piece = kReplacement;
      i += 1;
    } else {
      piece = text.substr(i, length);
      i += length;
      const auto c = static_cast<unsigned char>(piece[0]);
      if (length == 1 && (c < 0x20 || c == 0x7F) && !(keep_newlines && c == '\n')) piece = " ";
    }
    if (out.size() + piece.size() > max_bytes) break;
    out.append(piece);
  }
  return out;
}

std::string normalizeRating(std::string_view rating) { return shortWordOrOther(rating); }

}  // namespace hme::metrics
