#pragma once
/// The pure heart of the exporter: `reduce(state, event)` folds one domain event into a meeting's
/// state. Deterministic, no I/O, no clock other than `event.at`.

#include <cstddef>
#include <string>
#include <string_view>

#include "metrics/events.h"
#include "metrics/meeting_state.h"

namespace hme::metrics {

/// Knobs of `reduce`. Defaults suit production.
struct ReduceOptions {
  /// Store participants' `NAME` (only needed when names are rendered: `participant_names`).
  bool keep_participant_names = false;
  /// Upper bound on entries of each list (participants, network figures, attendees, waiting
  /// room, speakers, interpreter groups) of one meeting. New keys beyond it are ignored, so a
  /// misbehaving server cannot exhaust memory; joins are not counted for ignored pids.
  std::size_t max_list_entries = 100000;
  /// Capacity of the per-meeting invite replay memory (see InviteMemory).
  std::size_t invite_memory_entries = 10000;
};

/// Folds `event` into `state`.
///
/// Lists: a `full` update replaces the list and the difference to the previous one is counted
/// (new pids = joins, vanished pids = leaves), so the first snapshot counts everyone and a snapshot
/// after a reconnect counts only what changed; an incremental update merges items by key (an
/// unknown pid is a join, `Remove` a leave that also drops the pid's network figures). An item
/// whose key (pid, participantID, attendee key, speaker pid, groupId) is longer than kMaxIdBytes
/// is left out and counted in `counters.items_rejected`; the rest of the update applies.
/// Network figures are stored in base units (ms ÷ 1000, 0.01 % ÷ 10000, 100 bit/s × 100 ÷ 8);
/// negative or non-finite figures are treated as not reported.
/// InviteResults: see InviteMemory for the replay rule; codes are classified per the catalogue.
/// Session events update the session status and counters; `Subscribed` clears `ended_at`.
/// Never throws except std::bad_alloc. Not thread-safe: callers serialise access to `state`.
void reduce(MeetingState& state, const Event& event, const ReduceOptions& options);

/// Text from the wire made safe for a label or the status page: invalid UTF-8 sequences become
/// U+FFFD, control characters become spaces (a newline is kept only if `keep_newlines`), and the
/// result is cut at a character boundary to at most `max_bytes` bytes. Pure; never throws except
/// std::bad_alloc.
std::string sanitizeText(std::string_view text, std::size_t max_bytes, bool keep_newlines);

/// The `quality` label for a `netInfo` rating: lower-cased; `other` unless it then matches
/// `^[a-z]{1,16}$`. (The process-wide "ninth distinct rating → other" rule is applied at render
/// time by the Collector.) Pure.
std::string normalizeRating(std::string_view rating);

}  // namespace hme::metrics
