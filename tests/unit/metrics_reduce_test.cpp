#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "metrics/events.h"
#include "metrics/meeting_state.h"
#include "metrics/reduce.h"

namespace hme::metrics {
namespace {

TimePoint at(std::int64_t seconds) { return TimePoint(std::chrono::seconds(seconds)); }

ParticipantFields inMeeting(int role = 0) {
  ParticipantFields fields;
  fields.role = role;
  fields.state = 0;
  fields.muted = false;
  fields.client = ClientType::Desktop;
  return fields;
}

ParticipantChange upsert(std::string pid, ParticipantFields fields = inMeeting()) {
  return ParticipantChange{std::move(pid), ItemMode::Upsert, std::move(fields)};
}

ParticipantChange removal(std::string pid) {
  return ParticipantChange{std::move(pid), ItemMode::Remove, {}};
}

ParticipantsUpdate participants(bool full, std::vector<ParticipantChange> items) {
  return ParticipantsUpdate{full, std::move(items)};
}

// Applies events at increasing times, as a session would.
struct Fixture {
  MeetingState state;
  ReduceOptions options;
  std::int64_t clock = 1700000000;

  void apply(EventBody body) { reduce(state, Event{at(++clock), std::move(body)}, options); }

  std::uint64_t joins() const { return state.counters.participant_joins; }
  std::uint64_t leaves() const { return state.counters.participant_leaves; }
  // The catalogue's invariant: joins − leaves = participants + calling.
  bool balanced() const {
    return joins() - leaves() == state.onlineParticipants() + state.callingParticipants();
  }
};

std::uint64_t leaveReason(const MeetingState& state, LeaveReason reason) {
  return state.counters.leave_reasons[static_cast<std::size_t>(reason)];
}

std::uint64_t inviteFailure(const MeetingState& state, InviteFailure reason) {
  return state.counters.invite_failures[static_cast<std::size_t>(reason)];
}

NetConditionChange netItem(std::string pid, NetFigures figures) {
  return NetConditionChange{std::move(pid), ItemMode::Upsert, std::move(figures)};
}

// The full-snapshot rule written the plain way (a new list built from scratch, then compared with
// the old one): the reference `reduce` must match, whatever the order, duplicates or cap.
struct SnapshotModel {
  std::map<std::string, ParticipantRecord> participants;
  std::set<std::string> net;
  std::uint64_t joins = 0;
  std::uint64_t leaves = 0;

  void applyFull(const ParticipantsUpdate& update, std::size_t cap, bool keep_names) {
    std::map<std::string, ParticipantRecord> next;
    for (const auto& item : update.items) {
      if (item.pid.empty() || item.mode == ItemMode::Remove) continue;
      auto found = next.find(item.pid);
      if (found == next.end()) {
        if (next.size() >= cap) continue;
        found = next.emplace(item.pid, ParticipantRecord{}).first;
      }
      auto& record = found->second;
      const auto& fields = item.fields;
      if (fields.name && keep_names) record.name = *fields.name;
      if (fields.role) record.wire_role = static_cast<std::int8_t>(*fields.role);
      if (fields.state) record.calling = *fields.state == 1;
      if (fields.muted) record.muted = *fields.muted;
      if (fields.video) record.video = *fields.video;
      if (fields.hand_raised) record.hand_raised = *fields.hand_raised;
      if (fields.client) record.client = *fields.client;
    }
    for (const auto& entry : next) joins += participants.count(entry.first) == 0 ? 1u : 0u;
    for (const auto& entry : participants) leaves += next.count(entry.first) == 0 ? 1u : 0u;
    for (auto it = net.begin(); it != net.end();) {
      it = next.count(*it) == 0 ? net.erase(it) : std::next(it);
    }
    participants = std::move(next);
  }
};

bool sameRecords(const std::map<std::string, ParticipantRecord>& a,
                 const std::map<std::string, ParticipantRecord>& b) {
  if (a.size() != b.size()) return false;
  return std::equal(a.begin(), a.end(), b.begin(), [](const auto& x, const auto& y) {
    const auto& r = x.second;
    const auto& s = y.second;
    return x.first == y.first && r.name == s.name && r.wire_role == s.wire_role &&
           r.calling == s.calling && r.muted == s.muted && r.video == s.video &&
           r.hand_raised == s.hand_raised && r.client == s.client;
  });
}
}  // namespace

BOOST_AUTO_TEST_SUITE(metrics_reduce)

BOOST_FIXTURE_TEST_CASE(first_full_snapshot_counts_everyone_present, Fixture) {
  apply(participants(true, {upsert("a", inMeeting(1)), upsert("b"), upsert("c")}));
  BOOST_TEST(joins() == 3u);
  BOOST_TEST(leaves() == 0u);
  BOOST_TEST(state.participants.size() == 3u);
  BOOST_TEST(balanced());
}

BOOST_FIXTURE_TEST_CASE(incremental_upsert_merges_only_the_fields_it_carries, Fixture) {
  auto host = inMeeting(1);
  host.muted = true;
  host.video = true;
  host.client = ClientType::Mobile;
  apply(participants(true, {upsert("a", host)}));

  ParticipantFields unmute;
  unmute.muted = false;
  apply(participants(false, {upsert("a", unmute)}));

  const auto& record = state.participants.at("a");
  BOOST_TEST(!record.muted);
  BOOST_TEST(record.video);  // untouched by the partial update
  BOOST_TEST(record.wire_role == 1);
  BOOST_TEST((record.client == ClientType::Mobile));
  BOOST_TEST(joins() == 1u);  // a merge into a known pid is no join
}

BOOST_FIXTURE_TEST_CASE(incremental_unknown_pid_joins_and_remove_leaves, Fixture) {
  apply(participants(true, {upsert("a")}));
  NetFigures figures;
  figures.delay_ms = 40;
  apply(NetConditionUpdate{false, {netItem("b", figures)}});
  apply(participants(false, {upsert("b")}));
  BOOST_TEST(joins() == 2u);
  BOOST_TEST(state.net.count("b") == 1u);

  apply(participants(false, {removal("b")}));
  BOOST_TEST(leaves() == 1u);
  BOOST_TEST(state.participants.count("b") == 0u);
  BOOST_TEST(state.net.count("b") == 0u);  // figures go with the participant at once

  apply(participants(false, {removal("never-seen"), removal("b")}));
  BOOST_TEST(leaves() == 1u);  // removing an unknown pid is not a leave
  BOOST_TEST(balanced());
}

BOOST_FIXTURE_TEST_CASE(full_snapshot_after_reconnect_counts_only_differences, Fixture) {
  apply(participants(true, {upsert("a"), upsert("b"), upsert("c")}));
  apply(Subscribed{});
  // Same snapshot again: nothing changed, nothing counted.
  apply(participants(true, {upsert("a"), upsert("b"), upsert("c")}));
  BOOST_TEST(joins() == 3u);
  BOOST_TEST(leaves() == 0u);
  // While disconnected, a left and d joined: the next snapshot shows exactly that.
  apply(Subscribed{});
  apply(participants(true, {upsert("b"), upsert("c"), upsert("d")}));
  BOOST_TEST(joins() == 4u);
  BOOST_TEST(leaves() == 1u);
  BOOST_TEST(state.participants.count("a") == 0u);
  BOOST_TEST(balanced());
}

BOOST_FIXTURE_TEST_CASE(full_snapshot_replaces_records_and_prunes_orphan_figures, Fixture) {
  auto host = inMeeting(1);
  host.hand_raised = true;
  apply(participants(true, {upsert("a", host), upsert("b")}));
  NetFigures figures;
  figures.delay_ms = 10;
  apply(NetConditionUpdate{true,
                           {netItem("a", figures), netItem("b", figures), netItem("x", figures)}});
  BOOST_TEST(state.net.size() == 3u);  // x may be a participant announced later

  apply(participants(true, {upsert("a", inMeeting(1))}));
  BOOST_TEST(!state.participants.at("a").hand_raised);  // replaced, not merged
  BOOST_TEST(state.net.count("a") == 1u);
  BOOST_TEST(state.net.count("b") == 0u);
  BOOST_TEST(state.net.count("x") == 0u);
  BOOST_TEST(balanced());
}

BOOST_FIXTURE_TEST_CASE(calling_participants_are_counted_apart, Fixture) {
  ParticipantFields calling = inMeeting();
  calling.state = 1;
  apply(participants(true, {upsert("a"), upsert("b", calling)}));
  BOOST_TEST(state.onlineParticipants() == 1u);
  BOOST_TEST(state.callingParticipants() == 1u);
  BOOST_TEST(joins() == 2u);  // joins count pids, calling ones too: the invariant needs it
  // The callee answers: same pid, STATE 0. Not a second join.
  ParticipantFields answered;
  answered.state = 0;
  apply(participants(false, {upsert("b", answered)}));
  BOOST_TEST(state.onlineParticipants() == 2u);
  BOOST_TEST(joins() == 2u);
  BOOST_TEST(balanced());
}

BOOST_AUTO_TEST_CASE(roles_follow_the_counting_rules) {
  const auto role = [](std::optional<int> wire, std::optional<bool> cohost) {
    MeetingState state;
    ParticipantFields fields;
    fields.role = wire;
    fields.is_cohost = cohost;
    reduce(state, Event{at(1), ParticipantsUpdate{true, {upsert("p", fields)}}}, {});
    return state.participants.at("p").role();
  };
  BOOST_TEST((role(1, std::nullopt) == Role::Host));
  BOOST_TEST((role(1, true) == Role::Host));
  BOOST_TEST((role(2, std::nullopt) == Role::Audience));
  BOOST_TEST((role(0, true) == Role::Cohost));
  BOOST_TEST((role(0, false) == Role::Participant));
  BOOST_TEST((role(0, std::nullopt) == Role::Participant));
  BOOST_TEST((role(7, true) == Role::Participant));  // unknown ROLE values are not cohosts
  BOOST_TEST((role(std::nullopt, std::nullopt) == Role::Participant));
  BOOST_TEST(std::string(toLabel(Role::Cohost)) == "cohost");
}

BOOST_AUTO_TEST_CASE(records_stay_compact) {
  // Per participant: a map node with ParticipantRecord, one with NetRecord, two pid strings of
  // 32 characters. These bounds keep the whole well under 1 KiB per participant.
  BOOST_TEST(sizeof(ParticipantRecord) <= 48u);
  BOOST_TEST(sizeof(NetRecord) <= 160u);
}

BOOST_FIXTURE_TEST_CASE(names_are_kept_only_when_asked_for, Fixture) {
  auto named = inMeeting();
  named.name = "Alice";
  apply(participants(true, {upsert("a", named)}));
  BOOST_TEST(state.participants.at("a").name.empty());
  options.keep_participant_names = true;
  apply(participants(false, {upsert("a", named)}));
  BOOST_TEST(state.participants.at("a").name == "Alice");
}

BOOST_FIXTURE_TEST_CASE(ids_over_64_bytes_are_rejected_per_item_and_counted, Fixture) {
  const std::string fits(kMaxIdBytes, 'a');
  const std::string too_long(kMaxIdBytes + 1, 'b');
  const auto rejected = [this] {
    return state.counters.items_rejected[static_cast<std::size_t>(ItemRejectReason::IdTooLong)];
  };
  BOOST_TEST(std::string(toLabel(ItemRejectReason::IdTooLong)) == "id_too_long");

  // Participants, full and incremental: the other items of the frame still apply.
  apply(participants(true, {upsert("p1"), upsert(too_long), upsert(fits)}));
  BOOST_TEST(state.participants.size() == 2u);
  BOOST_TEST(state.participants.count(fits) == 1u);
  BOOST_TEST(rejected() == 1u);
  apply(participants(false, {upsert(too_long), upsert("p2"), removal(too_long)}));
  BOOST_TEST(state.participants.size() == 3u);
  BOOST_TEST(rejected() == 3u);
  BOOST_TEST(joins() == 3u);
  BOOST_TEST(balanced());

  // Network figures, full and incremental.
  NetFigures figures;
  figures.delay_ms = 40;
  apply(NetConditionUpdate{true, {netItem(too_long, figures), netItem("p1", figures)}});
  BOOST_TEST(state.net.size() == 1u);
  apply(NetConditionUpdate{false, {netItem(too_long, figures), netItem(fits, figures)}});
  BOOST_TEST(state.net.size() == 2u);
  BOOST_TEST(rejected() == 5u);

  // Attendees, waiting room, speakers, interpreter groups.
  apply(AttendeesUpdate{true, {{too_long, ItemMode::Upsert}, {"att", ItemMode::Upsert}}});
  BOOST_TEST(state.attendees == std::set<std::string>{"att"});
  apply(WaitingListUpdate{true, {{too_long, ItemMode::Upsert, 0}, {fits, ItemMode::Upsert, 0}}});
  BOOST_TEST(state.waiting_room == std::set<std::string>{fits});
  apply(SpeakersUpdate{{{too_long, 80}, {"p1", 60}}});
  BOOST_TEST(state.speakers == std::vector<std::string>{"p1"});
  apply(InterpreterGroupsUpdate{true, {too_long, "g1"}});
  BOOST_TEST(state.interpreter_groups == std::set<std::string>{"g1"});
  BOOST_TEST(rejected() == 9u);
  // Items rejected this way are not frame errors.
  BOOST_TEST(state.counters.messageErrorsTotal() == 0u);
}

BOOST_FIXTURE_TEST_CASE(list_sizes_are_bounded, Fixture) {
  options.max_list_entries = 2;
  apply(participants(true, {upsert("a"), upsert("b"), upsert("c")}));
  apply(participants(false, {upsert("d")}));
  BOOST_TEST(state.participants.size() == 2u);
  BOOST_TEST(joins() == 2u);
  BOOST_TEST(balanced());
  apply(AttendeesUpdate{
      true, {{"k1", ItemMode::Upsert}, {"k2", ItemMode::Upsert}, {"k3", ItemMode::Upsert}}});
  BOOST_TEST(state.attendees.size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(invite_result_codes_are_classified, Fixture) {
  const std::vector<std::string> codes = {"0",        "0",        "11076005", "11076007",
                                          "11076008", "11076009", "123",      "11076010",
                                          "11076002", "11076016", "11111001", "11111002",
                                          "11111003", "11111004", "11111999", ""};
  std::vector<InviteResult> items;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    items.push_back({"+86100" + std::to_string(i), codes[i]});
  }
  apply(InviteResults{false, items});
  // "0" ×2 and the five failures are invites; leave codes are not; an empty code is ignored.
  BOOST_TEST(state.counters.invites == 7u);
  BOOST_TEST(inviteFailure(state, InviteFailure::NoAnswer) == 1u);
  BOOST_TEST(inviteFailure(state, InviteFailure::Offline) == 1u);
  BOOST_TEST(inviteFailure(state, InviteFailure::Busy) == 1u);
  BOOST_TEST(inviteFailure(state, InviteFailure::Rejected) == 1u);
  BOOST_TEST(inviteFailure(state, InviteFailure::Other) == 1u);  // "123"
  BOOST_TEST(leaveReason(state, LeaveReason::Left) == 1u);
  BOOST_TEST(leaveReason(state, LeaveReason::RemovedByHost) == 1u);
  BOOST_TEST(leaveReason(state, LeaveReason::RemovedByAdmin) == 1u);
  BOOST_TEST(leaveReason(state, LeaveReason::McuNoMedia) == 1u);
  BOOST_TEST(leaveReason(state, LeaveReason::ClientNoMedia) == 1u);
  BOOST_TEST(leaveReason(state, LeaveReason::SipTimeout) == 1u);
  BOOST_TEST(leaveReason(state, LeaveReason::WebsocketTimeout) == 1u);
  BOOST_TEST(leaveReason(state, LeaveReason::Other) == 1u);  // 11111999
}

BOOST_FIXTURE_TEST_CASE(full_invite_results_replay_is_not_counted_twice, Fixture) {
  apply(InviteResults{true, {{"+861", "0"}, {"+862", "11076008"}, {"+863", "11076010"}}});
  BOOST_TEST(state.counters.invites == 2u);
  // An incremental repeat is a new event (the same number can be busy twice).
  apply(InviteResults{false, {{"+862", "11076008"}}});
  BOOST_TEST(state.counters.invites == 3u);
  // After a re-subscribe the server replays everything plus one new result.
  apply(Subscribed{});
  apply(InviteResults{
      true, {{"+861", "0"}, {"+862", "11076008"}, {"+863", "11076010"}, {"+862", "11076009"}}});
  BOOST_TEST(state.counters.invites == 4u);
  BOOST_TEST(inviteFailure(state, InviteFailure::Busy) == 2u);
  BOOST_TEST(inviteFailure(state, InviteFailure::Rejected) == 1u);
  BOOST_TEST(leaveReason(state, LeaveReason::Left) == 1u);
}

BOOST_FIXTURE_TEST_CASE(invite_replay_memory_is_bounded_fifo, Fixture) {
  options.invite_memory_entries = 2;
  apply(InviteResults{false, {{"+861", "0"}, {"+862", "0"}, {"+863", "0"}}});
  BOOST_TEST(state.invite_memory.size() == 2u);
  BOOST_TEST(!state.invite_memory.contains("+861", "0"));  // the oldest was forgotten
  BOOST_TEST(state.invite_memory.contains("+863", "0"));
  apply(InviteResults{true, {{"+861", "0"}, {"+862", "0"}, {"+863", "0"}}});
  // +861 was forgotten and counts again (documented limit); +862 and +863 do not, even though
  // remembering +861 evicts +862 while the replay is being processed.
  BOOST_TEST(state.counters.invites == 4u);
}

BOOST_FIXTURE_TEST_CASE(speaker_changes_count_set_changes_only, Fixture) {
  apply(SpeakersUpdate{});  // nobody → nobody
  BOOST_TEST(state.counters.speaker_changes == 0u);
  apply(SpeakersUpdate{{{"a", 80}, {"b", 40}}});
  apply(SpeakersUpdate{{{"b", 90}, {"a", 10}}});  // same set, other order and volumes
  BOOST_TEST(state.counters.speaker_changes == 1u);
  apply(SpeakersUpdate{{{"a", 50}}});
  apply(SpeakersUpdate{});
  BOOST_TEST(state.counters.speaker_changes == 3u);
  BOOST_TEST(state.speakers.empty());
}

BOOST_FIXTURE_TEST_CASE(network_figures_are_converted_to_base_units, Fixture) {
  NetFigures figures;
  figures.net_info = "Good";
  figures.delay_ms = 37;
  figures.jitter_up_ms = 12;
  figures.jitter_down_ms = 5;
  figures.audio_loss_up = 1000;  // 10 %
  figures.audio_loss_down = 25;  // 0.25 %
  figures.video_loss_up = 1;
  figures.video_loss_down = 10000;
  figures.screen_loss_up = 0;
  figures.screen_loss_down = 300;
  figures.audio_flux_up = 2;      // 200 bit/s = 25 B/s
  figures.audio_flux_down = 640;  // 64 kbit/s = 8000 B/s
  figures.video_flux_up = 15;
  figures.video_flux_down = 0;
  figures.screen_flux_up = 1;
  figures.screen_flux_down = 3;
  apply(NetConditionUpdate{true, {netItem("p", figures)}});

  const auto& net = state.net.at("p");
  constexpr auto kUp = 0u;
  constexpr auto kDown = 1u;
  BOOST_TEST(net.quality == "good");
  BOOST_TEST(net.rtt_seconds == 0.037);
  BOOST_TEST(net.jitter_seconds[kUp] == 0.012);
  BOOST_TEST(net.jitter_seconds[kDown] == 0.005);
  BOOST_TEST(net.loss_ratio[0][kUp] == 0.1);
  BOOST_TEST(net.loss_ratio[0][kDown] == 0.0025);
  BOOST_TEST(net.loss_ratio[1][kUp] == 0.0001);
  BOOST_TEST(net.loss_ratio[1][kDown] == 1.0);
  BOOST_TEST(net.loss_ratio[2][kUp] == 0.0);
  BOOST_TEST(net.loss_ratio[2][kDown] == 0.03);
  BOOST_TEST(net.throughput_bytes_per_second[0][kUp] == 25.0);
  BOOST_TEST(net.throughput_bytes_per_second[0][kDown] == 8000.0);
  BOOST_TEST(net.throughput_bytes_per_second[1][kUp] == 187.5);
  BOOST_TEST(net.throughput_bytes_per_second[1][kDown] == 0.0);
  BOOST_TEST(net.throughput_bytes_per_second[2][kUp] == 12.5);
  BOOST_TEST(net.throughput_bytes_per_second[2][kDown] == 37.5);

  // Incremental: merge what is carried; nonsense figures count as not reported.
  NetFigures update;
  update.delay_ms = 250;
  update.jitter_up_ms = -1;
  update.audio_loss_up = std::numeric_limits<double>::infinity();
  apply(NetConditionUpdate{false, {netItem("p", update)}});
  BOOST_TEST(state.net.at("p").rtt_seconds == 0.25);
  BOOST_TEST(state.net.at("p").jitter_seconds[kUp] == 0.012);
  BOOST_TEST(state.net.at("p").loss_ratio[0][kUp] == 0.1);
  BOOST_TEST(state.net.at("p").quality == "good");

  apply(NetConditionUpdate{false, {NetConditionChange{"p", ItemMode::Remove, {}}}});
  BOOST_TEST(state.net.count("p") == 0u);
}

BOOST_AUTO_TEST_CASE(ratings_are_normalised) {
  BOOST_TEST(normalizeRating("Good") == "good");
  BOOST_TEST(normalizeRating("POOR") == "poor");
  BOOST_TEST(normalizeRating("very-bad") == "other");
  BOOST_TEST(normalizeRating("") == "other");
  BOOST_TEST(normalizeRating("abcdefghijklmnop") == "abcdefghijklmnop");  // 16 letters
  BOOST_TEST(normalizeRating("abcdefghijklmnopq") == "other");            // 17
  BOOST_TEST(normalizeRating("g\xC3\xBCt") == "other");
}

BOOST_AUTO_TEST_CASE(wire_text_is_sanitised) {
  BOOST_TEST(sanitizeText("plain", 100, false) == "plain");
  BOOST_TEST(sanitizeText("a\nb\tc", 100, false) == "a b c");
  BOOST_TEST(sanitizeText("a\nb", 100, true) == "a\nb");
  BOOST_TEST(sanitizeText("x\xFFy", 100, false) == "x\xEF\xBF\xBDy");
  // A surrogate: each byte of the ill-formed sequence is replaced (as WHATWG decoders do).
  BOOST_TEST(sanitizeText("\xED\xA0\x80", 100, false) == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  // "é" is two bytes: cutting at 2 bytes must not split it.
  BOOST_TEST(sanitizeText("a\xC3\xA9", 2, false) == "a");
  BOOST_TEST(sanitizeText("a\xC3\xA9", 3, false) == "a\xC3\xA9");
}

BOOST_FIXTURE_TEST_CASE(basic_and_dynamic_info_are_normalised, Fixture) {
  ConfBasicInfo basic;
  basic.display_id = "900487914";
  basic.title = "Weekly \"sync\"";
  basic.start_time_ms = 1611988486336;
  basic.scheduled_start_time_ms = 1611988200000;
  basic.conf_mode = "RTC";
  basic.media = 2;
  apply(basic);
  BOOST_TEST(state.info.received);
  BOOST_TEST(state.info.title == "Weekly \"sync\"");
  BOOST_TEST(state.info.conf_mode == "rtc");
  BOOST_TEST(state.info.media == "video");
  BOOST_TEST(*state.info.start_timestamp_seconds == 1611988486.336);
  BOOST_TEST(*state.info.scheduled_start_timestamp_seconds == 1611988200.0);

  ConfBasicInfo partial;  // a later message without title keeps the title
  partial.media = 1;
  partial.start_time_ms = 0;
  apply(partial);
  BOOST_TEST(state.info.title == "Weekly \"sync\"");
  BOOST_TEST(state.info.media == "voice");
  BOOST_TEST(*state.info.start_timestamp_seconds == 1611988486.336);

  ConfDynamicInfo dynamic;
  dynamic.state = "Created";
  dynamic.lock = 1;
  dynamic.mute = 0;
  dynamic.lock_sharing = 1;
  dynamic.rec_state = 1;
  dynamic.forbidden_chat = 0;
  dynamic.audience_total_count = 120;
  dynamic.pic_num = 4;
  dynamic.end_time_ms = 1611995686000;
  apply(dynamic);
  BOOST_TEST((*state.flags.phase == MeetingPhase::Created));
  BOOST_TEST(*state.flags.locked);
  BOOST_TEST(!*state.flags.mute_on_join);
  BOOST_TEST(*state.flags.screen_share_locked);
  BOOST_TEST(*state.flags.recording);
  BOOST_TEST(!*state.flags.chat_forbidden);
  BOOST_TEST(*state.flags.audience_members == 120);
  BOOST_TEST(*state.flags.layout_pictures == 4);
  BOOST_TEST(*state.flags.end_timestamp_seconds == 1611995686.0);
  BOOST_TEST(!state.session.ended_at);

  apply(CustomMultiPic{9});
  BOOST_TEST(*state.flags.layout_pictures == 9);
  ConfDynamicInfo odd;
  odd.state = "Paused";  // unknown states leave the phase alone
  apply(odd);
  BOOST_TEST((*state.flags.phase == MeetingPhase::Created));
}

BOOST_FIXTURE_TEST_CASE(destroyed_meeting_ends_until_the_next_subscription, Fixture) {
  ConfDynamicInfo destroyed;
  destroyed.state = "Destroyed";
  apply(destroyed);
  const auto ended = at(clock);
  BOOST_TEST((state.session.ended_at == ended));
  BOOST_TEST((*state.flags.phase == MeetingPhase::Destroyed));
  // The session reporting `ended` later keeps the first end time.
  apply(SessionStateChanged{SessionState::Ended, false});
  BOOST_TEST((state.session.ended_at == ended));
  apply(SessionStateChanged{SessionState::Backoff, false});
  BOOST_TEST((state.session.ended_at == ended));
  apply(Subscribed{});
  BOOST_TEST(!state.session.ended_at);
  BOOST_TEST(state.counters.connects == 1u);
  // A session that ends without a Destroyed push still starts the retention clock.
  apply(SessionStateChanged{SessionState::Ended, false});
  BOOST_TEST((state.session.ended_at == at(clock)));
}

BOOST_FIXTURE_TEST_CASE(session_events_update_counters_and_status, Fixture) {
  apply(SessionStateChanged{SessionState::Connecting, false});
  apply(ConnectFailed{ConnectStage::ControlToken, "HTTP 401 MMC.111072065"});
  apply(ConnectFailed{ConnectStage::Handshake, ""});
  apply(ConnectFailed{ConnectStage::Handshake, "TLS\nerror"});
  apply(Subscribed{});
  apply(SessionStateChanged{SessionState::Subscribed, true});
  apply(HeartbeatSent{});
  apply(HeartbeatSent{});
  apply(HeartbeatAnswered{0.042});
  apply(HeartbeatAnswered{-1});  // nonsense keeps the last good value
  apply(TokenRefreshed{});
  apply(FrameReceived{"ParticipantsNotify"});
  apply(FrameReceived{"HeartBeat"});
  apply(FrameReceived{"SomethingNew"});
  apply(FrameReceived{"unknown"});
  apply(FrameRejected{RejectReason::TooLarge});
  const auto last_frame = at(clock);
  apply(Disconnected{DisconnectReason::HeartbeatTimeout, "no echo for 90s"});

  const auto& counters = state.counters;
  BOOST_TEST(counters.connect_failures[0] == 1u);  // control_token
  BOOST_TEST(counters.connect_failures[2] == 2u);  // handshake
  BOOST_TEST(counters.connects == 1u);
  BOOST_TEST(counters.heartbeats_sent == 2u);
  BOOST_TEST(*state.session.heartbeat_rtt_seconds == 0.042);
  BOOST_TEST(counters.token_refreshes == 1u);
  BOOST_TEST(counters.messages[messageActionIndex("ParticipantsNotify")] == 1u);
  BOOST_TEST(counters.messages[messageActionIndex("HeartBeat")] == 1u);
  BOOST_TEST(counters.messages[messageActionIndex("unknown")] == 2u);
  BOOST_TEST(messageActionIndex("SomethingNew") == kMessageActions.size() - 1);
  BOOST_TEST(counters.message_errors[2] == 1u);  // too_large
  BOOST_TEST(counters.messageErrorsTotal() == 1u);
  BOOST_TEST(counters.disconnects[1] == 1u);  // heartbeat_timeout
  BOOST_TEST((state.session.last_message_at == last_frame));
  BOOST_TEST(state.session.last_error == "heartbeat_timeout: no echo for 90s");
  BOOST_TEST(!state.session.up);  // at once, before the session reports its next state
  BOOST_TEST((state.session.state == SessionState::Subscribed));
}

BOOST_FIXTURE_TEST_CASE(connect_failure_detail_is_one_line, Fixture) {
  apply(ConnectFailed{ConnectStage::Handshake, "TLS\nerror"});
  BOOST_TEST(state.session.last_error == "handshake: TLS error");
  apply(ConnectFailed{ConnectStage::WsToken, ""});
  BOOST_TEST(state.session.last_error == "ws_token");
}

BOOST_FIXTURE_TEST_CASE(attendees_waiting_room_and_interpreters, Fixture) {
  apply(AttendeesUpdate{
      true, {{"u1", ItemMode::Upsert}, {"u2", ItemMode::Upsert}, {"u3", ItemMode::Remove}}});
  BOOST_TEST(state.attendees.size() == 2u);
  apply(AttendeesUpdate{false, {{"u3", ItemMode::Upsert}, {"u1", ItemMode::Remove}}});
  BOOST_TEST(state.attendees.size() == 2u);
  BOOST_TEST(state.attendees.count("u3") == 1u);

  apply(WaitingListUpdate{
      true,
      {{"w1", ItemMode::Upsert, 0}, {"w2", ItemMode::Upsert, 0}, {"w3", ItemMode::Upsert, 1}}});
  BOOST_TEST(state.waiting_room.size() == 2u);  // w3 is admitted, not waiting
  apply(WaitingListUpdate{
      false,
      {{"w1", ItemMode::Upsert, 1}, {"w2", ItemMode::Remove, {}}, {"w4", ItemMode::Upsert, {}}}});
  BOOST_TEST(state.waiting_room.size() == 1u);
  BOOST_TEST(state.waiting_room.count("w4") == 1u);

  apply(InterpreterGroupsUpdate{true, {"g1", "g2", "g2", ""}});
  BOOST_TEST(state.interpreter_groups.size() == 2u);
  apply(InterpreterGroupsUpdate{true, {"g3"}});
  BOOST_TEST(state.interpreter_groups.size() == 1u);
}

BOOST_AUTO_TEST_CASE(full_snapshots_match_the_rebuild_from_scratch_rule) {
  // Random snapshots over a small pid space: repeated pids (merged in wire order into a fresh
  // record), Remove and empty-pid items (ignored), a cap that drops pids already present
  // (counted as leaves), names kept. Deterministic seed. Full network lists likewise.
  std::mt19937 random(12345);
  const auto pick = [&random](int n) {
    return std::uniform_int_distribution<int>(0, n - 1)(random);
  };
  for (const std::size_t cap : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{100}}) {
    MeetingState state;
    ReduceOptions options;
    options.max_list_entries = cap;
    options.keep_participant_names = true;
    SnapshotModel model;
    for (int round = 0; round < 300; ++round) {
      // Network figures for a few pids, present or not, so that pruning is exercised; every
      // other round a full list, checked against the same rule (a fresh record per listed pid,
      // the last delay in wire order wins, the first `cap` distinct pids kept).
      NetConditionUpdate net{round % 2 == 0, {}};
      std::map<std::string, double> expected_rtt;
      for (int i = pick(6); i > 0; --i) {
        NetConditionChange change;
        change.pid = pick(10) == 0 ? std::string() : "p" + std::to_string(pick(8));
        change.mode = pick(6) == 0 ? ItemMode::Remove : ItemMode::Upsert;
        if (pick(2) == 0) change.figures.delay_ms = pick(100);
        net.items.push_back(change);
        if (change.pid.empty() || change.mode == ItemMode::Remove) continue;
        auto found = expected_rtt.find(change.pid);
        if (found == expected_rtt.end()) {
          if (expected_rtt.size() >= cap) continue;
          found = expected_rtt.emplace(change.pid, NetRecord::kUnset).first;
        }
        if (change.figures.delay_ms) found->second = *change.figures.delay_ms / 1000.0;
      }
      reduce(state, Event{at(round), net}, options);
      if (net.full) {
        BOOST_TEST_REQUIRE(state.net.size() == expected_rtt.size());
        for (const auto& [pid, rtt] : expected_rtt) {
          BOOST_TEST_REQUIRE(state.net.count(pid) == 1u);
          const double stored = state.net.at(pid).rtt_seconds;
          BOOST_TEST_REQUIRE((std::isnan(rtt) ? std::isnan(stored) : stored == rtt));
        }
      }
      model.net.clear();
      for (const auto& entry : state.net) model.net.insert(entry.first);

      ParticipantsUpdate update{true, {}};
      for (int i = pick(9); i > 0; --i) {
        ParticipantChange item;
        item.pid = pick(10) == 0 ? std::string() : "p" + std::to_string(pick(8));
        item.mode = pick(6) == 0 ? ItemMode::Remove : ItemMode::Upsert;
        if (pick(2) == 0) item.fields.name = "n" + std::to_string(pick(3));
        if (pick(2) == 0) item.fields.role = pick(3);
        if (pick(2) == 0) item.fields.state = pick(2);
        if (pick(2) == 0) item.fields.muted = pick(2) == 0;
        if (pick(2) == 0) item.fields.hand_raised = pick(2) == 0;
        update.items.push_back(item);
      }
      model.applyFull(update, cap, true);
      reduce(state, Event{at(round), update}, options);

      BOOST_TEST_REQUIRE(sameRecords(state.participants, model.participants),
                         "cap " << cap << " round " << round);
      BOOST_TEST_REQUIRE(state.counters.participant_joins == model.joins);
      BOOST_TEST_REQUIRE(state.counters.participant_leaves == model.leaves);
      std::set<std::string> net_pids;
      for (const auto& entry : state.net) net_pids.insert(entry.first);
      BOOST_TEST_REQUIRE((net_pids == model.net));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace hme::metrics
