#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "metrics/meeting_state.h"
#include "metrics/reduce.h"
#include "plugin/protocol/decoder.h"

namespace {

namespace m = hme::metrics;
using hme::protocol::decode;
using hme::protocol::Decoded;
using hme::protocol::HeartbeatEcho;
using hme::protocol::Push;
using hme::protocol::Rejection;
using hme::protocol::SubscribeReply;

// Participant ids used in the fixtures.
constexpr std::string_view kP0 = "3j7oh261teueeqx6la7t0pq2g6e9vpyj";
constexpr std::string_view kP1 = "y8l8hhu6gsabv8bs6qbdx4rs5kuiglvj";
constexpr std::string_view kP2 = "j4bxx72lwll0zom6bkoyfpv7c37y1qr0";
constexpr std::string_view kP3 = "y6wc9rlqwvtb9f7hzblt7as61rgxf16v";
constexpr std::string_view kP4 = "co86boecn4lvqxqzhj0gg6hni5o5sh9l";
// Waiting-room ids (32 hex digits).
constexpr std::string_view kW0 = "c9df0ed8ccf723941b9554ec23c156e5";
constexpr std::string_view kW1 = "5c7ded848bd9387b177c7b736b51f6ce";
constexpr std::string_view kW2 = "9acebe1aa091e7e2b0861b34dc63f215";

std::filesystem::path framesDir() { return std::filesystem::path(HME_TESTDATA_DIR) / "frames"; }

std::string readFixture(const std::string& name) {
  std::ifstream in(framesDir() / name, std::ios::binary);
  BOOST_TEST_REQUIRE(in.good(), "cannot open fixture " << name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Decoded decodeFixture(const std::string& name) { return decode(readFixture(name)); }

// Returns a copy, so that `const auto& x = pushOf<T>(decode(...))` does not dangle.
template <typename T>
T pushOf(const Decoded& decoded) {
  const auto* push = std::get_if<Push>(&decoded.message);
  if (push == nullptr) {
    const auto* rejection = std::get_if<Rejection>(&decoded.message);
    BOOST_TEST_REQUIRE(
        false, "not a push; rejection: " << (rejection != nullptr ? rejection->detail : "none"));
  }
  const T* event = std::get_if<T>(&push->event);
  BOOST_TEST_REQUIRE(event != nullptr, "push holds event alternative " << push->event.index());
  return *event;
}

Rejection rejectionOf(const Decoded& decoded) {
  const auto* rejection = std::get_if<Rejection>(&decoded.message);
  BOOST_TEST_REQUIRE(rejection != nullptr, "frame was not rejected");
  return *rejection;
}

std::string clientName(const std::optional<m::ClientType>& client) {
  if (!client) {
    return "unset";
  }
  switch (*client) {
    case m::ClientType::Desktop:
      return "Desktop";
    case m::ClientType::Mobile:
      return "Mobile";
    case m::ClientType::Pad:
      return "Pad";
    case m::ClientType::Other:
      return "Other";
  }
  return "?";
}

std::string modeName(m::ItemMode mode) { return mode == m::ItemMode::Upsert ? "upsert" : "remove"; }

std::string reasonName(m::RejectReason reason) { return m::toLabel(reason); }

}  // namespace

// Checks an optional is set and equals `expected`, naming the field on failure.
#define CHECK_OPT(opt, expected)                               \
  do {                                                         \
    BOOST_TEST((opt).has_value(), #opt " is set");             \
    if ((opt).has_value()) {                                   \
      BOOST_TEST(*(opt) == (expected), #opt " == " #expected); \
    }                                                          \
  } while (false)

#define CHECK_UNSET(opt) BOOST_TEST(!(opt).has_value(), #opt " is unset")

BOOST_AUTO_TEST_SUITE(protocol)

// --- conference info ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(conf_basic_info_full_maps_top_level_fields) {
  const Decoded d = decodeFixture("ConfBasicInfoNotify-full.json");
  BOOST_TEST(d.action == "ConfBasicInfoNotify");
  BOOST_TEST(!d.unrecognized_shape.has_value());
  const auto& info = pushOf<m::ConfBasicInfo>(d);
  CHECK_OPT(info.display_id, "988712345");
  CHECK_OPT(info.title, "Weekly platform sync");
  CHECK_OPT(info.start_time_ms, 1702458900000);
  CHECK_OPT(info.scheduled_start_time_ms, 1702458600000);
  CHECK_OPT(info.conf_mode, "RTC");
  CHECK_OPT(info.media, 2);
}

BOOST_AUTO_TEST_CASE(conf_basic_info_accepts_fields_nested_under_data) {
  const Decoded d = decodeFixture("quirk-confbasicinfo-nested-data.json");
  BOOST_TEST(d.action == "ConfBasicInfoNotify");
  const auto& info = pushOf<m::ConfBasicInfo>(d);
  CHECK_OPT(info.display_id, "988712345");
  CHECK_OPT(info.title, "Nested title");
  CHECK_OPT(info.start_time_ms, 1702458900000);  // a number where the doc says string
  CHECK_OPT(info.media, 1);                      // a string where the doc says int
  CHECK_OPT(info.conf_mode, "COMMON");
  CHECK_UNSET(info.scheduled_start_time_ms);
}

BOOST_AUTO_TEST_CASE(conf_dynamic_info_full_maps_every_field) {
  const Decoded d = decodeFixture("ConfDynamicInfoNotify-full.json");
  BOOST_TEST(d.action == "ConfDynamicInfoNotify");
  const auto& info = pushOf<m::ConfDynamicInfo>(d);
  CHECK_OPT(info.state, "Created");
  CHECK_OPT(info.end_time_ms, 1702462500000);
  CHECK_OPT(info.lock, 0);
  CHECK_OPT(info.mute, 1);
  CHECK_OPT(info.lock_sharing, 0);
  CHECK_OPT(info.rec_state, 0);
  CHECK_OPT(info.forbidden_chat, 0);
  CHECK_OPT(info.audience_total_count, 0);
  CHECK_OPT(info.pic_num, 4);
}

BOOST_AUTO_TEST_CASE(conf_dynamic_info_incremental_sets_only_what_it_carries) {
  const auto& info =
      pushOf<m::ConfDynamicInfo>(decodeFixture("ConfDynamicInfoNotify-incremental.json"));
  CHECK_OPT(info.lock, 1);
  CHECK_OPT(info.rec_state, 1);
  CHECK_UNSET(info.state);
  CHECK_UNSET(info.end_time_ms);
  CHECK_UNSET(info.mute);
  CHECK_UNSET(info.lock_sharing);
  CHECK_UNSET(info.forbidden_chat);
  CHECK_UNSET(info.audience_total_count);
  CHECK_UNSET(info.pic_num);
}

BOOST_AUTO_TEST_CASE(conf_dynamic_info_destroyed) {
  const auto& info =
      pushOf<m::ConfDynamicInfo>(decodeFixture("ConfDynamicInfoNotify-destroyed.json"));
  CHECK_OPT(info.state, "Destroyed");
  CHECK_OPT(info.end_time_ms, 1702462500000);
  CHECK_UNSET(info.lock);
}

BOOST_AUTO_TEST_CASE(numbers_as_strings_are_accepted) {
  const Decoded d = decodeFixture("quirk-string-numbers.json");
  BOOST_TEST(d.action == "ConfDynamicInfoNotify");
  const auto& info = pushOf<m::ConfDynamicInfo>(d);
  CHECK_OPT(info.lock, 1);
  CHECK_OPT(info.mute, 0);
  CHECK_OPT(info.pic_num, 9);
  CHECK_OPT(info.audience_total_count, 120);
  CHECK_OPT(info.end_time_ms, 1702462500000);
  CHECK_OPT(info.rec_state, 1);  // " 1 ": surrounding blanks are tolerated
}

// --- participants ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(participants_full_maps_pinfo_map) {
  const Decoded d = decodeFixture("ParticipantsNotify-full.json");
  BOOST_TEST(d.action == "ParticipantsNotify");
  const auto& update = pushOf<m::ParticipantsUpdate>(d);
  BOOST_TEST(update.full);
  BOOST_TEST_REQUIRE(update.items.size() == 3u);

  const auto& host = update.items[0];
  BOOST_TEST(host.pid == kP0);
  BOOST_TEST(modeName(host.mode) == "upsert");
  CHECK_OPT(host.fields.name, "Li Wei");
  CHECK_OPT(host.fields.role, 1);
  CHECK_OPT(host.fields.state, 0);
  CHECK_OPT(host.fields.muted, true);
  CHECK_OPT(host.fields.video, true);
  CHECK_OPT(host.fields.hand_raised, false);
  CHECK_OPT(host.fields.sharing, false);
  CHECK_OPT(host.fields.is_cohost, false);
  BOOST_TEST(clientName(host.fields.client) == "Desktop");

  const auto& mobile = update.items[1];
  BOOST_TEST(mobile.pid == kP1);
  CHECK_OPT(mobile.fields.name, "Zhang Min");
  CHECK_OPT(mobile.fields.role, 0);
  CHECK_OPT(mobile.fields.muted, false);
  CHECK_OPT(mobile.fields.video, false);
  CHECK_OPT(mobile.fields.hand_raised, true);
  BOOST_TEST(clientName(mobile.fields.client) == "Mobile");

  const auto& pad = update.items[2];
  BOOST_TEST(pad.pid == kP2);
  CHECK_OPT(pad.fields.sharing, true);
  CHECK_OPT(pad.fields.is_cohost, true);
  CHECK_OPT(pad.fields.muted, true);
  BOOST_TEST(clientName(pad.fields.client) == "Pad");
}

BOOST_AUTO_TEST_CASE(participants_incremental_sets_only_changed_keys) {
  const auto& update =
      pushOf<m::ParticipantsUpdate>(decodeFixture("ParticipantsNotify-incremental.json"));
  BOOST_TEST(!update.full);
  BOOST_TEST_REQUIRE(update.items.size() == 3u);

  const auto& mute = update.items[0];
  BOOST_TEST(mute.pid == kP1);
  BOOST_TEST(modeName(mute.mode) == "upsert");
  CHECK_OPT(mute.fields.muted, true);
  CHECK_UNSET(mute.fields.name);
  CHECK_UNSET(mute.fields.role);
  CHECK_UNSET(mute.fields.state);
  CHECK_UNSET(mute.fields.video);
  CHECK_UNSET(mute.fields.hand_raised);
  CHECK_UNSET(mute.fields.sharing);
  CHECK_UNSET(mute.fields.is_cohost);
  BOOST_TEST(clientName(mute.fields.client) == "unset");

  const auto& leave = update.items[1];
  BOOST_TEST(leave.pid == kP2);
  BOOST_TEST(modeName(leave.mode) == "remove");
  CHECK_UNSET(leave.fields.name);
  CHECK_UNSET(leave.fields.muted);

  const auto& join = update.items[2];
  BOOST_TEST(join.pid == kP3);
  BOOST_TEST(modeName(join.mode) == "upsert");
  CHECK_OPT(join.fields.name, "Chen Jie");
  CHECK_OPT(join.fields.state, 1);
  BOOST_TEST(clientName(join.fields.client) == "Other");  // "OtherType"
}

BOOST_AUTO_TEST_CASE(keys_are_trimmed_at_every_level) {
  const Decoded d = decodeFixture("quirk-trailing-space-keys.json");
  BOOST_TEST(d.action == "ParticipantsNotify");  // "action "
  const auto& update = pushOf<m::ParticipantsUpdate>(d);
  BOOST_TEST(!update.full);                              // "msgMode "
  BOOST_TEST_REQUIRE(update.items.size() == 1u);         // "data "
  BOOST_TEST(update.items[0].pid == kP1);                // " pid "
  CHECK_OPT(update.items[0].fields.muted, false);        // "MUTE " inside "pinfoMap "
  CHECK_OPT(update.items[0].fields.name, "Zhang Min");   // " NAME"
  CHECK_OPT(update.items[0].fields.hand_raised, false);  // "HAND\t"
}

BOOST_AUTO_TEST_CASE(pinfo_map_values_may_be_numbers_and_bools) {
  const auto& update = pushOf<m::ParticipantsUpdate>(decodeFixture("quirk-pinfomap-numbers.json"));
  BOOST_TEST_REQUIRE(update.items.size() == 1u);
  const auto& item = update.items[0];
  BOOST_TEST(item.pid == kP3);
  BOOST_TEST(modeName(item.mode) == "upsert");  // "mode":"0"
  CHECK_OPT(item.fields.name, "13800138003");   // a string field sent as a number
  CHECK_OPT(item.fields.role, 1);
  CHECK_OPT(item.fields.state, 0);
  CHECK_OPT(item.fields.muted, false);
  CHECK_OPT(item.fields.video, true);
  CHECK_OPT(item.fields.hand_raised, true);  // JSON true
  CHECK_OPT(item.fields.sharing, false);
  CHECK_OPT(item.fields.is_cohost, false);
}

BOOST_AUTO_TEST_CASE(misspelt_client_login_type_key_is_accepted) {
  const auto& update =
      pushOf<m::ParticipantsUpdate>(decodeFixture("quirk-clicent-login-type.json"));
  BOOST_TEST_REQUIRE(update.items.size() == 1u);
  BOOST_TEST(update.items[0].pid == kP4);
  BOOST_TEST(clientName(update.items[0].fields.client) == "Mobile");  // "mobile", any case
  CHECK_OPT(update.items[0].fields.name, "Zhao Lei");
}

BOOST_AUTO_TEST_CASE(item_mode_absent_means_upsert) {
  const Decoded d =
      decode(R"({"action":"ParticipantsNotify","msgMode":1,"data":[)"
             R"({"pid":"3j7oh261teueeqx6la7t0pq2g6e9vpyj","pinfoMap":{"MUTE":"1"}}]})");
  const auto& update = pushOf<m::ParticipantsUpdate>(d);
  BOOST_TEST_REQUIRE(update.items.size() == 1u);
  BOOST_TEST(modeName(update.items[0].mode) == "upsert");
  CHECK_OPT(update.items[0].fields.muted, true);
}

BOOST_AUTO_TEST_CASE(full_list_may_be_empty) {
  const auto& update = pushOf<m::ParticipantsUpdate>(
      decode(R"({"action":"ParticipantsNotify","msgMode":0,"data":[]})"));
  BOOST_TEST(update.full);
  BOOST_TEST(update.items.empty());
}

// --- attendees ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(attendees_full_keys_by_first_non_empty_id) {
  const Decoded d = decodeFixture("AttendeesNotify-full.json");
  BOOST_TEST(d.action == "AttendeesNotify");
  const auto& update = pushOf<m::AttendeesUpdate>(d);
  BOOST_TEST(update.full);
  BOOST_TEST_REQUIRE(update.items.size() == 3u);
  BOOST_TEST(update.items[0].key == kP0);                                 // participantID
  BOOST_TEST(update.items[1].key == "ff80808170a1b2c30170a1b2c3d40002");  // empty participantID
  BOOST_TEST(update.items[2].key == "+862988776655");                     // phone only
  for (const auto& item : update.items) {
    BOOST_TEST(modeName(item.mode) == "upsert");
  }
}

BOOST_AUTO_TEST_CASE(attendees_incremental) {
  const auto& update =
      pushOf<m::AttendeesUpdate>(decodeFixture("AttendeesNotify-incremental.json"));
  BOOST_TEST(!update.full);
  BOOST_TEST_REQUIRE(update.items.size() == 2u);
  BOOST_TEST(update.items[0].key == "ff80808170a1b2c30170a1b2c3d40002");
  BOOST_TEST(modeName(update.items[0].mode) == "remove");
  BOOST_TEST(update.items[1].key == "guest@example.org");  // email before name
  BOOST_TEST(modeName(update.items[1].mode) == "upsert");
}

// --- speakers ----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(speakers_volume_as_string_or_number) {
  const Decoded d = decodeFixture("SpeakerChangeNotify-full.json");
  BOOST_TEST(d.action == "SpeakerChangeNotify");
  const auto& update = pushOf<m::SpeakersUpdate>(d);
  BOOST_TEST_REQUIRE(update.speakers.size() == 2u);
  BOOST_TEST(update.speakers[0].pid == kP0);
  BOOST_TEST(update.speakers[0].volume == 87.0);
  BOOST_TEST(update.speakers[1].pid == kP1);
  BOOST_TEST(update.speakers[1].volume == 45.0);
}

BOOST_AUTO_TEST_CASE(speakers_without_data_means_nobody_speaking) {
  for (const char* name : {"quirk-speaker-no-data.json", "quirk-speaker-empty-data.json"}) {
    BOOST_TEST_CONTEXT(name) {
      const Decoded d = decodeFixture(name);
      BOOST_TEST(d.action == "SpeakerChangeNotify");
      BOOST_TEST(pushOf<m::SpeakersUpdate>(d).speakers.empty());
    }
  }
}

// --- net condition -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(net_condition_full_maps_every_figure_in_wire_units) {
  const Decoded d = decodeFixture("NetConditionNotify-full.json");
  BOOST_TEST(d.action == "NetConditionNotify");
  const auto& update = pushOf<m::NetConditionUpdate>(d);
  BOOST_TEST(update.full);
  BOOST_TEST_REQUIRE(update.items.size() == 2u);
  const auto& a = update.items[0];
  BOOST_TEST(a.pid == kP0);
  BOOST_TEST(modeName(a.mode) == "upsert");
  CHECK_OPT(a.figures.net_info, "good");
  CHECK_OPT(a.figures.delay_ms, 37.0);
  CHECK_OPT(a.figures.jitter_up_ms, 4.0);
  CHECK_OPT(a.figures.jitter_down_ms, 6.0);
  CHECK_OPT(a.figures.audio_loss_up, 0.0);
  CHECK_OPT(a.figures.audio_loss_down, 10.0);
  CHECK_OPT(a.figures.video_loss_up, 25.0);
  CHECK_OPT(a.figures.video_loss_down, 130.0);
  CHECK_OPT(a.figures.screen_loss_up, 0.0);
  CHECK_OPT(a.figures.screen_loss_down, 0.0);
  CHECK_OPT(a.figures.audio_flux_up, 3.0);    // fluxOut
  CHECK_OPT(a.figures.audio_flux_down, 2.0);  // fluxIn
  CHECK_OPT(a.figures.video_flux_up, 12000.0);
  CHECK_OPT(a.figures.video_flux_down, 9800.0);
  CHECK_OPT(a.figures.screen_flux_up, 0.0);
  CHECK_OPT(a.figures.screen_flux_down, 0.0);

  const auto& b = update.items[1];
  BOOST_TEST(b.pid == kP1);
  CHECK_OPT(b.figures.delay_ms, 112.0);
  CHECK_OPT(b.figures.jitter_up_ms, 18.0);
  CHECK_OPT(b.figures.jitter_down_ms, 21.0);
  CHECK_OPT(b.figures.audio_loss_up, 1000.0);  // 10 %, still in 0.01 % units
  CHECK_OPT(b.figures.audio_loss_down, 250.0);
  CHECK_OPT(b.figures.video_loss_up, 300.0);
  CHECK_OPT(b.figures.video_loss_down, 420.0);
  CHECK_OPT(b.figures.screen_loss_up, 15.0);
  CHECK_OPT(b.figures.screen_loss_down, 35.0);
  CHECK_OPT(b.figures.audio_flux_up, 5.0);
  CHECK_OPT(b.figures.audio_flux_down, 4.0);
  CHECK_OPT(b.figures.video_flux_up, 1536.0);
  CHECK_OPT(b.figures.video_flux_down, 2048.0);
  CHECK_OPT(b.figures.screen_flux_up, 256.0);
  CHECK_OPT(b.figures.screen_flux_down, 512.0);
}

BOOST_AUTO_TEST_CASE(net_condition_incremental_sets_only_sent_figures) {
  const auto& update =
      pushOf<m::NetConditionUpdate>(decodeFixture("NetConditionNotify-incremental.json"));
  BOOST_TEST(!update.full);
  BOOST_TEST_REQUIRE(update.items.size() == 2u);
  const auto& a = update.items[0];
  BOOST_TEST(a.pid == kP0);
  CHECK_OPT(a.figures.net_info, "good");
  CHECK_OPT(a.figures.delay_ms, 41.0);
  CHECK_OPT(a.figures.jitter_up_ms, 0.0);
  CHECK_OPT(a.figures.audio_loss_up, 0.0);
  CHECK_OPT(a.figures.audio_flux_down, 2.0);
  CHECK_UNSET(a.figures.jitter_down_ms);
  CHECK_UNSET(a.figures.audio_flux_up);
  CHECK_UNSET(a.figures.video_loss_up);
  CHECK_UNSET(a.figures.screen_flux_down);
  BOOST_TEST(update.items[1].pid == kP1);
  BOOST_TEST(modeName(update.items[1].mode) == "remove");
}

BOOST_AUTO_TEST_CASE(double_encoded_data_is_accepted) {
  const Decoded d = decodeFixture("quirk-data-double-encoded.json");
  BOOST_TEST(d.action == "NetConditionNotify");
  const auto& update = pushOf<m::NetConditionUpdate>(d);
  BOOST_TEST(!update.full);
  BOOST_TEST_REQUIRE(update.items.size() == 1u);
  BOOST_TEST(update.items[0].pid == kP0);
  CHECK_OPT(update.items[0].figures.delay_ms, 55.0);
}

BOOST_AUTO_TEST_CASE(empty_string_figure_is_unset) {
  const auto& update =
      pushOf<m::NetConditionUpdate>(decodeFixture("quirk-netcondition-empty-string-figure.json"));
  BOOST_TEST_REQUIRE(update.items.size() == 1u);
  CHECK_UNSET(update.items[0].figures.delay_ms);
  CHECK_OPT(update.items[0].figures.jitter_up_ms, 12.0);
}

BOOST_AUTO_TEST_CASE(network_quality_with_net_condition_items_is_mapped) {
  const Decoded d = decodeFixture("NetworkQualityNotify-full.json");
  BOOST_TEST(d.action == "NetworkQualityNotify");
  BOOST_TEST(!d.unrecognized_shape.has_value());
  const auto& update = pushOf<m::NetConditionUpdate>(d);
  BOOST_TEST(update.full);
  BOOST_TEST_REQUIRE(update.items.size() == 2u);
  BOOST_TEST(update.items[0].pid == kP0);  // "pid"
  CHECK_OPT(update.items[0].figures.delay_ms, 42.0);
  CHECK_OPT(update.items[0].figures.jitter_up_ms, 3.0);
  CHECK_OPT(update.items[0].figures.audio_loss_up, 120.0);
  BOOST_TEST(update.items[1].pid == kP1);  // "participantID"
  CHECK_OPT(update.items[1].figures.delay_ms, 95.0);
  CHECK_OPT(update.items[1].figures.video_loss_up, 40.0);
}

BOOST_AUTO_TEST_CASE(network_quality_of_unknown_shape_is_counted_with_its_shape) {
  const Decoded d = decodeFixture("quirk-networkquality-unknown-shape.json");
  BOOST_TEST(d.action == "NetworkQualityNotify");
  pushOf<m::CountedOnly>(d);
  BOOST_TEST_REQUIRE(d.unrecognized_shape.has_value());
  const std::string& shape = *d.unrecognized_shape;
  BOOST_TEST(shape.find("qualityLevel:number") != std::string::npos, shape);
  BOOST_TEST(shape.find("userList:[{level:string,name:string,userId:string}]") != std::string::npos,
             shape);
  // Key names and types only: no values.
  BOOST_TEST(shape.find(kP0) == std::string::npos);
  BOOST_TEST(shape.find("Li Wei") == std::string::npos);
  BOOST_TEST(shape.find("988712345") == std::string::npos);
  BOOST_TEST(shape.find("NetworkQualityNotify") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(network_quality_items_without_figures_are_not_guessed) {
  const Decoded d = decode(R"({"action":"NetworkQualityNotify","data":[{"pid":"abc","level":2}]})");
  BOOST_TEST(d.action == "NetworkQualityNotify");
  pushOf<m::CountedOnly>(d);
  BOOST_TEST_REQUIRE(d.unrecognized_shape.has_value());
  BOOST_TEST(*d.unrecognized_shape == "{action:string,data:[{level:number,pid:string}]}");
}

// --- invite results, waiting list, interpreters, pictures, subtitles ---------------------------

BOOST_AUTO_TEST_CASE(invite_results_full_and_incremental) {
  const Decoded full = decodeFixture("InviteResultNotify-full.json");
  BOOST_TEST(full.action == "InviteResultNotify");
  const auto& results = pushOf<m::InviteResults>(full);
  BOOST_TEST(results.full);
  BOOST_TEST_REQUIRE(results.items.size() == 3u);
  BOOST_TEST(results.items[0].call_number == "+8613800138001");
  BOOST_TEST(results.items[0].code == "0");
  BOOST_TEST(results.items[1].call_number == "+8613800138004");
  BOOST_TEST(results.items[1].code == "11076010");
  BOOST_TEST(results.items[2].call_number == "sip:room3f@example.com");
  BOOST_TEST(results.items[2].code == "11111004");

  const auto& inc = pushOf<m::InviteResults>(decodeFixture("InviteResultNotify-incremental.json"));
  BOOST_TEST(!inc.full);
  BOOST_TEST_REQUIRE(inc.items.size() == 1u);
  BOOST_TEST(inc.items[0].call_number == "+8613800138005");
  BOOST_TEST(inc.items[0].code == "11076008");
}

BOOST_AUTO_TEST_CASE(invite_results_accept_error_code_and_numbers) {
  const auto& results =
      pushOf<m::InviteResults>(decodeFixture("quirk-inviteresult-errorcode.json"));
  BOOST_TEST_REQUIRE(results.items.size() == 2u);
  BOOST_TEST(results.items[0].call_number == "+8613800138006");
  BOOST_TEST(results.items[0].code == "11076009");              // errorCode
  BOOST_TEST(results.items[1].call_number == "8613800138007");  // number as string field
  BOOST_TEST(results.items[1].code == "11076005");              // number as string field
}

BOOST_AUTO_TEST_CASE(waiting_list_full_and_incremental) {
  const Decoded full = decodeFixture("WaitingListNotify-full.json");
  BOOST_TEST(full.action == "WaitingListNotify");
  const auto& update = pushOf<m::WaitingListUpdate>(full);
  BOOST_TEST(update.full);
  BOOST_TEST_REQUIRE(update.items.size() == 2u);
  BOOST_TEST(update.items[0].pid == kW0);
  CHECK_OPT(update.items[0].waiting_state, 0);
  BOOST_TEST(update.items[1].pid == kW1);
  CHECK_OPT(update.items[1].waiting_state, 0);

  const auto& inc =
      pushOf<m::WaitingListUpdate>(decodeFixture("WaitingListNotify-incremental.json"));
  BOOST_TEST(!inc.full);
  BOOST_TEST_REQUIRE(inc.items.size() == 2u);
  BOOST_TEST(inc.items[0].pid == kW0);
  BOOST_TEST(modeName(inc.items[0].mode) == "upsert");
  CHECK_OPT(inc.items[0].waiting_state, 1);
  BOOST_TEST(inc.items[1].pid == kW1);
  BOOST_TEST(modeName(inc.items[1].mode) == "remove");
  CHECK_UNSET(inc.items[1].waiting_state);
}

BOOST_AUTO_TEST_CASE(msg_mode_absent_means_full) {
  const auto& update = pushOf<m::WaitingListUpdate>(decodeFixture("quirk-msgmode-absent.json"));
  BOOST_TEST(update.full);
  BOOST_TEST_REQUIRE(update.items.size() == 1u);
  BOOST_TEST(update.items[0].pid == kW2);
  BOOST_TEST(modeName(update.items[0].mode) == "upsert");  // item mode absent too
  CHECK_OPT(update.items[0].waiting_state, 0);
}

BOOST_AUTO_TEST_CASE(interpreter_groups) {
  const Decoded d = decodeFixture("InterpreterGroupNotify-full.json");
  BOOST_TEST(d.action == "InterpreterGroupNotify");
  const auto& update = pushOf<m::InterpreterGroupsUpdate>(d);
  BOOST_TEST(update.full);
  const std::vector<std::string> expected{"g-zh-en", "g-zh-fr"};
  BOOST_TEST(update.group_ids == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(custom_multi_pic_top_level_or_nested) {
  const Decoded top = decodeFixture("CustomMultiPicNotify-full.json");
  BOOST_TEST(top.action == "CustomMultiPicNotify");
  CHECK_OPT(pushOf<m::CustomMultiPic>(top).pic_num, 4);
  CHECK_OPT(
      pushOf<m::CustomMultiPic>(decodeFixture("quirk-custommultipic-nested-data.json")).pic_num, 6);
}

BOOST_AUTO_TEST_CASE(subtitles_are_counted_only) {
  for (const char* name :
       {"RealTimeSubtitleNotify-full.json", "quirk-subtitle-string-version.json"}) {
    BOOST_TEST_CONTEXT(name) {
      const Decoded d = decodeFixture(name);
      BOOST_TEST(d.action == "RealTimeSubtitleNotify");
      pushOf<m::CountedOnly>(d);
      BOOST_TEST(!d.unrecognized_shape.has_value());
    }
  }
}

// --- replies to our frames ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(subscribe_reply_with_trailing_space_key) {
  const Decoded d = decodeFixture("Subscribe-reply.json");
  BOOST_TEST(d.action == "Subscribe");
  const auto* reply = std::get_if<SubscribeReply>(&d.message);
  BOOST_TEST_REQUIRE(reply != nullptr);
  BOOST_TEST(reply->sequence == "000000000000000001702459164879");
  BOOST_TEST(reply->return_code == 0);
  BOOST_TEST(reply->return_desc == "SUCCESS");  // from "returnDesc "
}

BOOST_AUTO_TEST_CASE(subscribe_reply_with_data_as_string) {
  const Decoded d = decodeFixture("quirk-subscribe-data-string.json");
  const auto* reply = std::get_if<SubscribeReply>(&d.message);
  BOOST_TEST_REQUIRE(reply != nullptr);
  BOOST_TEST(reply->return_code == 0);  // "0"
  BOOST_TEST(reply->return_desc == "SUCCESS");
}

BOOST_AUTO_TEST_CASE(subscribe_failure_reply) {
  const Decoded d = decodeFixture("quirk-subscribe-failure.json");
  const auto* reply = std::get_if<SubscribeReply>(&d.message);
  BOOST_TEST_REQUIRE(reply != nullptr);
  BOOST_TEST(reply->sequence == "000000000000000001702459164880");
  BOOST_TEST(reply->return_code == 1010);
  BOOST_TEST(reply->return_desc == "AUTH FAILED");
}

BOOST_AUTO_TEST_CASE(subscribe_reply_code_at_top_level) {
  const Decoded d =
      decode(R"({"action":"Subscribe","sequence":"7","returnCode":1011,"returnDesc":"DENIED"})");
  const auto* reply = std::get_if<SubscribeReply>(&d.message);
  BOOST_TEST_REQUIRE(reply != nullptr);
  BOOST_TEST(reply->sequence == "7");
  BOOST_TEST(reply->return_code == 1011);
  BOOST_TEST(reply->return_desc == "DENIED");
}

BOOST_AUTO_TEST_CASE(heartbeat_echo) {
  const Decoded d = decodeFixture("HeartBeat-echo.json");
  BOOST_TEST(d.action == "HeartBeat");
  const auto* echo = std::get_if<HeartbeatEcho>(&d.message);
  BOOST_TEST_REQUIRE(echo != nullptr);
  BOOST_TEST(echo->sequence == "000000000000000001702459224879");
}

// --- unknown and malformed frames --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(unknown_action_is_counted_with_a_value_free_shape) {
  const Decoded d = decodeFixture("quirk-unknown-action.json");
  BOOST_TEST(d.action == "unknown");
  pushOf<m::CountedOnly>(d);
  BOOST_TEST_REQUIRE(d.unrecognized_shape.has_value());
  BOOST_TEST(*d.unrecognized_shape ==
             "{action:string,confID:string,createTime:number,data:[{pid:string,text:string}],"
             "msgID:string,msgMode:number,version:number}");
}

BOOST_AUTO_TEST_CASE(shape_description_is_bounded) {
  std::string frame = R"({"action":"SomethingNew")";
  for (int i = 0; i < 2000; ++i) {
    frame += ",\"key_" + std::to_string(i) + "\":[[[[[{\"x\":1}]]]]]";
  }
  frame += "}";
  const Decoded d = decode(frame);
  BOOST_TEST(d.action == "unknown");
  BOOST_TEST_REQUIRE(d.unrecognized_shape.has_value());
  BOOST_TEST(d.unrecognized_shape->size() <= 403u);
  BOOST_TEST(d.unrecognized_shape->find("[[[[...]]]]") != std::string::npos, *d.unrecognized_shape);
}

BOOST_AUTO_TEST_CASE(shape_description_sanitises_key_names) {
  const Decoded d = decode(R"({"action":"X","we\"ird key\n":1})");
  BOOST_TEST_REQUIRE(d.unrecognized_shape.has_value());
  BOOST_TEST(*d.unrecognized_shape == "{action:string,we?ird?key:number}");
}

struct BadFixture {
  const char* name;
  m::RejectReason reason;
};

BOOST_AUTO_TEST_CASE(malformed_fixtures_are_rejected_with_the_expected_reason) {
  using R = m::RejectReason;
  const BadFixture cases[] = {
      {"bad-truncated.json", R::InvalidJson},
      {"bad-not-object.json", R::InvalidJson},
      {"bad-scalar.json", R::InvalidJson},
      {"bad-empty.json", R::InvalidJson},
      {"bad-invalid-utf8.json", R::InvalidJson},
      {"bad-no-action.json", R::InvalidMessage},
      {"bad-action-not-string.json", R::InvalidMessage},
      {"bad-participants-data-number.json", R::InvalidMessage},
      {"bad-participants-no-data.json", R::InvalidMessage},
      {"bad-participants-item-no-pid.json", R::InvalidMessage},
      {"bad-participants-item-not-object.json", R::InvalidMessage},
      {"bad-participants-pinfomap-not-object.json", R::InvalidMessage},
      {"bad-participants-role-not-number.json", R::InvalidMessage},
      {"bad-item-mode-invalid.json", R::InvalidMessage},
      {"bad-msgmode-invalid.json", R::InvalidMessage},
      {"bad-attendees-no-key.json", R::InvalidMessage},
      {"bad-netcondition-delay-object.json", R::InvalidMessage},
      {"bad-inviteresult-no-code.json", R::InvalidMessage},
      {"bad-confdynamicinfo-data-array.json", R::InvalidMessage},
      {"bad-double-encoded-garbage.json", R::InvalidMessage},
      {"bad-heartbeat-no-sequence.json", R::InvalidMessage},
      {"bad-subscribe-no-return-code.json", R::InvalidMessage},
      {"bad-fuzz-pid-control-character.json", R::InvalidMessage},
  };
  std::size_t bad_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(framesDir())) {
    if (entry.path().filename().string().rfind("bad-", 0) == 0) {
      ++bad_files;
    }
  }
  BOOST_TEST(bad_files == std::size(cases), "every bad-*.json fixture has an expected reason");

  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      const std::string text = readFixture(c.name);
      const Decoded d = decode(text);
      BOOST_TEST(d.action.empty());
      BOOST_TEST(!d.unrecognized_shape.has_value());
      const Rejection r = rejectionOf(d);
      BOOST_TEST(reasonName(r.reason) == reasonName(c.reason));
      BOOST_TEST(!r.detail.empty());
      // The detail is for logs: it never quotes frame content.
      for (std::string_view secret :
           {kP0, kP1, std::string_view("988712345"), std::string_view("+86")}) {
        BOOST_TEST(r.detail.find(secret) == std::string::npos, r.detail);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(rejection_detail_names_the_type_and_the_problem) {
  const Rejection r = rejectionOf(decodeFixture("bad-participants-item-no-pid.json"));
  BOOST_TEST(r.detail == "ParticipantsNotify: a data item has no pid");
  const Decoded unknown = decode(R"({"action":"Secret-Action-Name","x":1})");
  BOOST_TEST(unknown.action == "unknown");
}

BOOST_AUTO_TEST_CASE(every_good_fixture_decodes) {
  std::size_t checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(framesDir())) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".json" || name.rfind("bad-", 0) == 0) {
      continue;
    }
    BOOST_TEST_CONTEXT(name) {
      const Decoded d = decodeFixture(name);
      BOOST_TEST(std::get_if<Rejection>(&d.message) == nullptr);
      BOOST_TEST(!d.action.empty());
      // Fixtures named after a type decode as that type.
      const std::string type = name.substr(0, name.find('-'));
      if (name.rfind("quirk-", 0) != 0) {
        BOOST_TEST(d.action == type);
      }
      ++checked;
    }
  }
  BOOST_TEST(checked >= 38u);
}

BOOST_AUTO_TEST_CASE(official_order_snapshot_with_a_long_pid_applies_every_other_item) {
  const auto update =
      pushOf<m::ParticipantsUpdate>(decodeFixture("quirk-participants-id-too-long.json"));
  BOOST_TEST(update.full);
  BOOST_TEST_REQUIRE(update.items.size() == 4u);
  BOOST_TEST(update.items[1].pid.size() == 65u);
  BOOST_TEST(update.items[3].pid.size() == 64u);

  // The reduce leaves out the 65-byte id alone and counts it; the 64-byte one is kept.
  m::MeetingState state;
  m::reduce(state, m::Event{m::TimePoint{}, update}, m::ReduceOptions{});
  BOOST_TEST(state.participants.size() == 3u);
  BOOST_TEST(state.participants.count(std::string(kP0)) == 1u);
  BOOST_TEST(state.participants.count(std::string(kP1)) == 1u);
  BOOST_TEST(state.participants.count(update.items[3].pid) == 1u);
  BOOST_TEST(state.participants.count(update.items[1].pid) == 0u);
  BOOST_TEST(state.counters.participant_joins == 3u);
  BOOST_TEST(
      state.counters.items_rejected[static_cast<std::size_t>(m::ItemRejectReason::IdTooLong)] ==
      1u);
}

// --- hostile input -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(deep_nesting_is_rejected_without_overflowing_the_stack) {
  const std::size_t depth = 10000;
  const std::string arrays = std::string(depth, '[') + std::string(depth, ']');
  BOOST_TEST(reasonName(rejectionOf(decode(arrays)).reason) == "invalid_json");

  std::string objects;
  for (std::size_t i = 0; i < depth; ++i) {
    objects += R"({"a":)";
  }
  objects += "1" + std::string(depth, '}');
  BOOST_TEST(reasonName(rejectionOf(decode(objects)).reason) == "invalid_json");

  // Inside a known frame, and inside double-encoded data.
  const std::string in_frame = R"({"action":"ParticipantsNotify","data":)" + arrays + "}";
  BOOST_TEST(reasonName(rejectionOf(decode(in_frame)).reason) == "invalid_json");
  const std::string in_string = R"({"action":"ParticipantsNotify","data":")" + arrays + "\"}";
  BOOST_TEST(reasonName(rejectionOf(decode(in_string)).reason) == "invalid_message");
}

BOOST_AUTO_TEST_CASE(invalid_utf8_anywhere_is_invalid_json) {
  const std::string frames[] = {
      "{\"action\":\"HeartBeat\",\"sequence\":\"1\",\"k\xff\":1}",         // in a key
      "{\"action\":\"HeartBeat\",\"sequence\":\"1\xc0\xaf\"}",             // overlong
      "{\"action\":\"HeartBeat\",\"sequence\":\"\xed\xa0\x80\"}",          // surrogate
      R"({"action":"HeartBeat","sequence":"\ud800"})",                     // lone escape
      std::string("{\"action\":\"HeartBeat\",\"sequence\":\"1\"}\0", 38),  // trailing NUL
  };
  for (const std::string& frame : frames) {
    BOOST_TEST_CONTEXT(frame.size()) {
      BOOST_TEST(reasonName(rejectionOf(decode(frame)).reason) == "invalid_json");
    }
  }
  // Valid multi-byte UTF-8 is fine.
  const Decoded ok = decode("{\"action\":\"HeartBeat\",\"sequence\":\"\xe4\xbc\x9a\xe8\xae\xae\"}");
  const auto* echo = std::get_if<HeartbeatEcho>(&ok.message);
  BOOST_TEST_REQUIRE(echo != nullptr);
  BOOST_TEST(echo->sequence == "\xe4\xbc\x9a\xe8\xae\xae");
}

BOOST_AUTO_TEST_CASE(moderate_nesting_in_unknown_payloads_is_accepted) {
  const std::string nested = std::string(50, '[') + std::string(50, ']');
  const Decoded d = decode(R"({"action":"Mystery","data":)" + nested + "}");
  BOOST_TEST(d.action == "unknown");
  BOOST_TEST(std::get_if<Push>(&d.message) != nullptr);
}

BOOST_AUTO_TEST_CASE(huge_arrays_decode) {
  const std::size_t count = 50000;
  std::string frame = R"({"action":"ParticipantsNotify","msgMode":0,"data":[)";
  for (std::size_t i = 0; i < count; ++i) {
    frame += (i == 0 ? "" : ",");
    frame += R"({"pid":"p)" + std::to_string(i) + R"(","mode":0,"pinfoMap":{"MUTE":"1"}})";
  }
  frame += "]}";
  const auto& update = pushOf<m::ParticipantsUpdate>(decode(frame));
  BOOST_TEST_REQUIRE(update.items.size() == count);
  BOOST_TEST(update.items.back().pid == "p49999");
  CHECK_OPT(update.items.back().fields.muted, true);
}

BOOST_AUTO_TEST_CASE(out_of_range_numbers_are_rejected) {
  // An int field beyond int range cannot be applied.
  BOOST_TEST(reasonName(rejectionOf(decode(R"({"action":"ParticipantsNotify","data":[)"
                                           R"({"pid":"a","pinfoMap":{"ROLE":"99999999999"}}]})"))
                            .reason) == "invalid_message");
  BOOST_TEST(reasonName(rejectionOf(decode(R"({"action":"ConfDynamicInfoNotify","picNum":1.5})"))
                            .reason) == "invalid_message");
  // Poco 1.11 cannot represent numbers beyond 64 bits: the frame does not parse at all.
  BOOST_TEST(reasonName(rejectionOf(decode(R"({"action":"HeartBeat","sequence":"1","x":)"
                                           R"(123456789012345678901234567890})"))
                            .reason) == "invalid_json");
  // Non-finite figures are not numbers.
  BOOST_TEST(reasonName(rejectionOf(decode(R"({"action":"NetConditionNotify","data":[)"
                                           R"({"participantID":"a","delay":"inf"}]})"))
                            .reason) == "invalid_message");
}

BOOST_AUTO_TEST_CASE(integral_doubles_are_integers) {
  const auto& info = pushOf<m::ConfDynamicInfo>(
      decode(R"({"action":"ConfDynamicInfoNotify","picNum":4.0,"lock":"1.0","endTime":1.7e12})"));
  CHECK_OPT(info.pic_num, 4);
  CHECK_OPT(info.lock, 1);
  CHECK_OPT(info.end_time_ms, 1700000000000);
}

BOOST_AUTO_TEST_CASE(mutated_fixtures_never_throw) {
  // Deterministic corruption of every fixture: truncations and byte flips must all come back
  // as a Decoded value, never an exception or a crash.
  std::uint32_t state = 12345;
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  std::size_t decoded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(framesDir())) {
    const std::string text = readFixture(entry.path().filename().string());
    for (int i = 0; i < 40 && !text.empty(); ++i) {
      std::string mutated = text;
      if (i % 2 == 0) {
        mutated.resize(next() % text.size());
      } else {
        for (int flips = 0; flips < 3; ++flips) {
          mutated[next() % mutated.size()] = static_cast<char>(next() & 0xff);
        }
      }
      BOOST_CHECK_NO_THROW(decode(mutated));
      ++decoded;
    }
  }
  BOOST_TEST(decoded > 1000u);
}

BOOST_AUTO_TEST_SUITE_END()
