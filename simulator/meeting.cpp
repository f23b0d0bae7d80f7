#include "simulator/meeting.h"

#include <algorithm>
#include <array>
#include <set>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "Poco/JSON/Array.h"
#include "Poco/JSON/Object.h"

namespace hme::simulator {

namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr std::size_t kInviteHistory = 200;  // bounds the InviteResult replay in snapshots
constexpr const char* kBase36 = "0123456789abcdefghijklmnopqrstuvwxyz";
constexpr const char* kHex = "0123456789abcdef";

// Leave codes with their weights (protocol.md, InviteResultNotify): most people leave by
// themselves; the four network causes are rarer.
constexpr std::array<std::pair<const char*, int>, 7> kLeaveCodes{{{"11076010", 60},
                                                                  {"11076002", 10},
                                                                  {"11076016", 6},
                                                                  {"11111001", 6},
                                                                  {"11111002", 6},
                                                                  {"11111003", 6},
                                                                  {"11111004", 6}}};
constexpr std::array<const char*, 4> kInviteFailureCodes{"11076005", "11076007", "11076008",
                                                         "11076009"};
constexpr std::array<const char*, 16> kFirstNames{"Wei",  "Fang",  "Min",   "Jing",  "Lei", "Yan",
                                                  "Tao",  "Hui",   "Alex",  "Maria", "Sam", "Priya",
                                                  "Olga", "Kenji", "Amara", "Lucas"};
constexpr std::array<const char*, 16> kLastNames{
    "Zhang", "Wang",   "Li",    "Liu",     "Chen", "Yang",   "Huang", "Zhao",
    "Smith", "Garcia", "Kumar", "Ivanova", "Sato", "Okafor", "Silva", "Novak"};

Object::Ptr newObject() { return new Object(Poco::JSON_PRESERVE_KEY_ORDER); }

std::string text(const Object::Ptr& object) {
  std::ostringstream out;
  object->stringify(out);
  return out.str();
}

const char* flag(bool on) { return on ? "1" : "0"; }

std::string padded(std::uint64_t value, std::size_t width) {
  std::string digits = std::to_string(value);
  if (digits.size() < width) {
    digits.insert(0, width - digits.size(), '0');
  }
  return digits;
}

// The default poor-network thresholds of interface.md: loss > 5 % (500 in 0.01 %),
// RTT > 300 ms, jitter > 50 ms.
bool crossesPoorThresholds(int delay, int jitter, int out_jitter,
                           std::initializer_list<int> losses) {
  if (delay > 300 || jitter > 50 || out_jitter > 50) {
    return true;
  }
  return std::any_of(losses.begin(), losses.end(), [](int loss) { return loss > 500; });
}

}  // namespace

const char* actionName(PushType type) {
  switch (type) {
    case PushType::ConfBasicInfo:
      return "ConfBasicInfoNotify";
    case PushType::ConfDynamicInfo:
      return "ConfDynamicInfoNotify";
    case PushType::Participants:
      return "ParticipantsNotify";
    case PushType::Attendees:
      return "AttendeesNotify";
    case PushType::SpeakerChange:
      return "SpeakerChangeNotify";
    case PushType::NetCondition:
      return "NetConditionNotify";
    case PushType::CustomMultiPic:
      return "CustomMultiPicNotify";
    case PushType::InviteResult:
      return "InviteResultNotify";
    case PushType::InterpreterGroup:
      return "InterpreterGroupNotify";
    case PushType::NetworkQuality:
      return "NetworkQualityNotify";
    case PushType::WaitingList:
      return "WaitingListNotify";
    case PushType::RealTimeSubtitle:
      return "RealTimeSubtitleNotify";
  }
  return "";
}

const std::vector<PushType>& allPushTypes() {
  static const std::vector<PushType> types{
      PushType::ConfBasicInfo,  PushType::ConfDynamicInfo, PushType::Participants,
      PushType::Attendees,      PushType::SpeakerChange,   PushType::NetCondition,
      PushType::CustomMultiPic, PushType::InviteResult,    PushType::InterpreterGroup,
      PushType::NetworkQuality, PushType::WaitingList,     PushType::RealTimeSubtitle};
  return types;
}

std::optional<PushType> pushTypeFromAction(const std::string& action) {
  for (PushType type : allPushTypes()) {
    if (action == actionName(type)) {
      return type;
    }
  }
  return std::nullopt;
}

Meeting::Meeting(MeetingSpec spec, std::uint64_t seed, std::int64_t now_ms)
    : spec_(std::move(spec)) {
  if (spec_.meeting_id.empty()) {
    throw std::invalid_argument("meeting spec without meeting_id");
  }
  spec_.participants = std::max(1, spec_.participants);
  spec_.max_participants = std::max(spec_.participants, spec_.max_participants);
  // FNV-1a of the meeting ID: each meeting gets its own stream from one simulator seed.
  std::uint64_t hash = 1469598103934665603ULL;
  for (char c : spec_.meeting_id) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  }
  rng_.seed(seed ^ hash);
  id_rng_.seed(~(seed ^ hash));
  guest_password_ = "Gp" + randomText(rng_, kBase36, 14);  // distinctive: tests grep for it
  org_id_ = "org" + randomText(rng_, kHex, 12);
  if (spec_.started) {
    start(now_ms);
  } else if (spec_.start_delay.count() > 0) {
    next_start_ms_ = now_ms + spec_.start_delay.count();
  }
}

std::uint64_t Meeting::rand(std::uint64_t bound) { return rng_() % bound; }

bool Meeting::chance(int percent) { return rand(100) < static_cast<std::uint64_t>(percent); }

std::string Meeting::randomText(std::mt19937_64& rng, const char* alphabet, std::size_t length) {
  const std::size_t size = std::char_traits<char>::length(alphabet);
  std::string out(length, '0');
  for (char& c : out) {
    c = alphabet[rng() % size];
  }
  return out;
}

std::string Meeting::nextName() {
  ++name_counter_;
  return std::string(kFirstNames[rand(kFirstNames.size())]) + " " +
         kLastNames[rand(kLastNames.size())];
}

// Unique within the meeting, so an InviteResult (callNumber, code) pair is never repeated.
std::string Meeting::nextTel() { return "+8657100" + padded(++tel_counter_, 6); }

std::string Meeting::pickClient() {
  const std::uint64_t r = rand(100);
  if (r < 50) {
    return "Desktop";
  }
  if (r < 80) {
    return "Mobile";
  }
  if (r < 90) {
    return "Pad";
  }
  return "OtherType";
}

Meeting::NetFigures Meeting::makeNet(bool poor, bool sharing) {
  auto between = [this](int lo, int hi) {
    const int span = hi - lo + 1;
    return lo + static_cast<int>(rand(static_cast<std::uint64_t>(span)));
  };
  NetFigures n;
  n.poor = poor;
  if (poor) {
    n.delay = between(320, 900);
    n.jitter = between(60, 200);
    n.out_jitter = between(55, 150);
    n.loss_up = between(600, 2000);
    n.loss_down = between(550, 1500);
    n.video_loss_up = between(600, 2500);
    n.video_loss_down = between(600, 2500);
  } else {
    n.delay = between(20, 120);
    n.jitter = between(0, 20);
    n.out_jitter = between(0, 20);
    n.loss_up = between(0, 80);
    n.loss_down = between(0, 80);
    n.video_loss_up = between(0, 100);
    n.video_loss_down = between(0, 100);
  }
  n.screen_loss_up = sharing ? between(0, poor ? 1500 : 100) : 0;
  n.screen_loss_down = sharing ? between(0, poor ? 1500 : 100) : 0;
  n.flux_in = between(280, 360);
  n.flux_out = between(280, 360);
  n.video_flux_in = between(3000, 12000);
  n.video_flux_out = between(2000, 9000);
  n.screen_flux_in = sharing ? between(2000, 8000) : 0;
  n.screen_flux_out = sharing ? between(2000, 8000) : 0;
  static constexpr std::array<int, 3> kBandwidths{61440, 122880, 245760};
  n.bandwidth = kBandwidths[rand(kBandwidths.size())];
  return n;
}

Meeting::Participant Meeting::makeParticipant(int role, int state, std::int64_t now_ms) {
  Participant p;
  p.pid = randomText(rng_, kBase36, 32);
  p.name = nextName();
  p.tel = nextTel();
  p.role = role;
  p.state = state;
  p.muted = chance(60);
  p.video = chance(50);
  p.client = pickClient();
  p.add_time_ms = now_ms;
  p.account_id = "user" + randomText(rng_, kHex, 10);
  p.called_at_step = counters_.steps;
  if (state == 0) {
    p.net = makeNet(false, false);
  }
  return p;
}

Meeting::WaitingMember Meeting::makeWaiting(std::int64_t now_ms) {
  WaitingMember w;
  w.pid = randomText(rng_, kHex, 32);
  w.name = nextName();
  w.client = pickClient();
  w.add_time_ms = now_ms;
  return w;
}

Meeting::Attendee Meeting::makeAttendee() {
  static constexpr std::array<const char*, 4> kTypes{"normal", "terminal", "outside", "mobile"};
  Attendee a;
  a.user_uuid = randomText(rng_, kHex, 32);
  a.name = nextName();
  a.phone = nextTel();
  a.email = "user" + std::to_string(name_counter_) + "@example.com";
  a.type = kTypes[rand(kTypes.size())];
  a.dept_name = "Dept " + std::to_string(1 + rand(5));
  return a;
}

void Meeting::populate(std::int64_t now_ms) {
  participants_.clear();
  waiting_.clear();
  attendees_.clear();
  invites_.clear();
  speakers_.clear();
  Participant host = makeParticipant(1, 0, now_ms);
  host.muted = false;
  participants_.push_back(std::move(host));
  for (int i = 1; i < spec_.participants; ++i) {
    Participant p = makeParticipant(0, 0, now_ms);
    p.cohost = (i == 1 && spec_.participants >= 3);
    participants_.push_back(std::move(p));
  }
  for (int i = 0; i < spec_.waiting; ++i) {
    waiting_.push_back(makeWaiting(now_ms));
  }
  for (int i = 0; i < spec_.attendees; ++i) {
    attendees_.push_back(makeAttendee());
    if (i == 0) {
      attendees_.back().role = 1;
    }
  }
  flags_ = {{"lock", 0},
            {"mute", 0},
            {"lockSharing", 0},
            {"canUnmute", 1},
            {"recState", 0},
            {"recOccurred", 0},
            {"forbiddenChat", 0},
            {"realTimeSubtitle", 0},
            {"vas", 0},
            {"picNum", 4},
            {"partViewNum", 4},
            {"maxPartViewNum", 25},
            {"chairView", 0},
            {"waitingRoomState", 1},
            {"audienceTotalCount", 0}};
  counters_ = MeetingTruth{};
  counters_.joins = participants_.size();
}

void Meeting::start(std::int64_t now_ms) {
  if (started_) {
    return;
  }
  started_ = true;
  state_ = "Created";
  start_ms_ = now_ms;
  next_start_ms_ = 0;
  ++runs_;
  end_ms_ = now_ms +
            (spec_.duration.count() > 0 ? spec_.duration.count() : std::int64_t{2} * 3600 * 1000);
  populate(now_ms);
}

std::vector<Push> Meeting::end(std::int64_t now_ms) {
  if (!started_) {
    return {};
  }
  started_ = false;
  state_ = "Destroyed";
  end_ms_ = now_ms;
  if (spec_.restart_after.count() > 0) {
    next_start_ms_ = now_ms + spec_.restart_after.count();
  }
  std::vector<Push> out{dynamicPush({}, now_ms)};
  participants_.clear();
  waiting_.clear();
  speakers_.clear();
  return out;
}

bool Meeting::dueToEnd(std::int64_t now_ms) const {
  return started_ && spec_.duration.count() > 0 && now_ms - start_ms_ >= spec_.duration.count();
}

bool Meeting::dueToStart(std::int64_t now_ms) const {
  return !started_ && next_start_ms_ != 0 && now_ms >= next_start_ms_;
}

// ---------------------------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------------------------

std::string Meeting::pushText(const JsonObject& push) {
  // protocol.md §4: every official example lists the payload first, then confID, msgID,
  // msgMode, version, createTime, and `action` last. Two pushes in three go out in that order,
  // the third envelope first (as built), so a client that depends on either order shows up.
  static constexpr std::array<const char*, 6> kEnvelopeOrder = {"confID",  "msgID",      "msgMode",
                                                                "version", "createTime", "action"};
  if (pushes_serialized_++ % 3 == 2) return text(push);
  Object::Ptr ordered = newObject();
  for (const std::string& name : push->getNames()) {
    const bool envelope_member = std::any_of(kEnvelopeOrder.begin(), kEnvelopeOrder.end(),
                                             [&name](const char* key) { return name == key; });
    if (!envelope_member) ordered->set(name, push->get(name));
  }
  for (const char* key : kEnvelopeOrder) {
    if (push->has(key)) ordered->set(key, push->get(key));
  }
  return text(ordered);
}

Meeting::JsonObject Meeting::envelope(PushType type, int msg_mode, std::int64_t now_ms) {
  Object::Ptr o = newObject();
  o->set("action", actionName(type));
  o->set("confID", spec_.meeting_id);
  o->set("msgID", randomText(id_rng_, kHex, 32));
  o->set("msgMode", msg_mode);
  // protocol.md §4: a full message carries its generation time, an incremental one a counter.
  o->set("version", msg_mode == 0 ? now_ms : ++version_);
  o->set("createTime", now_ms);
  return o;
}

Push Meeting::participantsPush(const std::vector<const Participant*>& items, bool full,
                               std::int64_t now_ms) {
  Object::Ptr o = envelope(PushType::Participants, full ? 0 : 1, now_ms);
  Array::Ptr data = new Array;
  for (const Participant* p : items) {
    Object::Ptr item = newObject();
    item->set("pid", p->pid);
    item->set("mode", 0);
    Object::Ptr info = newObject();
    info->set("NAME", p->name);
    info->set("TEL", p->tel);
    info->set("ROLE", std::to_string(p->role));
    info->set("STATE", std::to_string(p->state));
    info->set("MUTE", flag(p->muted));
    info->set("VIDEO", flag(p->video));
    info->set("CAMERASTATE", flag(p->video));
    info->set("HAND", flag(p->hand));
    info->set("SHARE", flag(p->share));
    info->set("BROADCAST", "0");
    info->set("ROLLCALL", "0");
    info->set("IS_COHOST", flag(p->cohost));
    info->set("ADDTIME", std::to_string(p->add_time_ms));
    info->set("ANONYMOUS", "0");
    info->set("LOCALREC", "0");
    info->set("CLIENT_LOGIN_TYPE", p->client);
    info->set("VIEW_TYPE", "0");
    info->set("M", "0");
    info->set("T", "0");
    info->set("ORG_ID", org_id_);
    info->set("ACCOUNT_ID", p->account_id);
    info->set("ACCOUNT", p->account_id);
    info->set("THIRDACCOUNT", "");
    info->set("RTC_USER_ID", p->account_id);
    item->set("pinfoMap", info);
    data->add(item);
  }
  o->set("data", data);
  return {PushType::Participants, pushText(o)};
}

Push Meeting::participantChange(const Participant& p,
                                const std::map<std::string, std::string>& keys,
                                std::int64_t now_ms) {
  Object::Ptr o = envelope(PushType::Participants, 1, now_ms);
  Object::Ptr item = newObject();
  item->set("pid", p.pid);
  item->set("mode", 0);
  Object::Ptr info = newObject();
  for (const auto& [key, value] : keys) {
    info->set(key, value);
  }
  item->set("pinfoMap", info);
  Array::Ptr data = new Array;
  data->add(item);
  o->set("data", data);
  return {PushType::Participants, pushText(o)};
}

Push Meeting::netPush(const std::vector<const Participant*>& items, bool full,
                      std::int64_t now_ms) {
  Object::Ptr o = envelope(PushType::NetCondition, full ? 0 : 1, now_ms);
  Array::Ptr data = new Array;
  for (const Participant* p : items) {
    const NetFigures& n = p->net;
    Object::Ptr item = newObject();
    item->set("participantID", p->pid);
    item->set("mode", 0);
    item->set("netInfo", n.poor ? "bad" : "good");
    // Every figure is a string on the wire except bandwidth (protocol.md, NetConditionNotify).
    item->set("delay", std::to_string(n.delay));
    item->set("jitter", std::to_string(n.jitter));
    item->set("outJitter", std::to_string(n.out_jitter));
    item->set("lostPacketRate", std::to_string(n.loss_up));
    item->set("audioOutLossPacketRate", std::to_string(n.loss_down));
    item->set("videoInLossPacketRate", std::to_string(n.video_loss_up));
    item->set("videoOutLossPacketRate", std::to_string(n.video_loss_down));
    item->set("assistVideoInLossPacketRate", std::to_string(n.screen_loss_up));
    item->set("assistVideoOutLossPacketRate", std::to_string(n.screen_loss_down));
    item->set("fluxIn", std::to_string(n.flux_in));
    item->set("fluxOut", std::to_string(n.flux_out));
    item->set("videoFluxIn", std::to_string(n.video_flux_in));
    item->set("videoFluxOut", std::to_string(n.video_flux_out));
    item->set("assistVideoFluxIn", std::to_string(n.screen_flux_in));
    item->set("assistVideoFluxOut", std::to_string(n.screen_flux_out));
    item->set("bandwidth", n.bandwidth);
    item->set("audioCodecType", "AACLD");
    item->set("videoCodecType", "H264HP");
    data->add(item);
  }
  o->set("data", data);
  return {PushType::NetCondition, pushText(o)};
}

Push Meeting::removePush(PushType type, const std::string& id, std::int64_t now_ms) {
  Object::Ptr o = envelope(type, 1, now_ms);
  Object::Ptr item = newObject();
  item->set(type == PushType::NetCondition ? "participantID" : "pid", id);
  item->set("mode", 1);
  if (type == PushType::WaitingList) {
    item->set("delType", 1);
  }
  Array::Ptr data = new Array;
  data->add(item);
  o->set("data", data);
  return {type, pushText(o)};
}

Push Meeting::invitePush(const std::vector<InviteItem>& items, bool full, std::int64_t now_ms) {
  Object::Ptr o = envelope(PushType::InviteResult, full ? 0 : 1, now_ms);
  Array::Ptr data = new Array;
  for (const InviteItem& i : items) {
    Object::Ptr item = newObject();
    item->set("callNumber", i.call_number);
    item->set("resultCode", i.code);
    data->add(item);
  }
  o->set("data", data);
  return {PushType::InviteResult, pushText(o)};
}

Push Meeting::speakersPush(std::int64_t now_ms) {
  Object::Ptr o = envelope(PushType::SpeakerChange, 0, now_ms);
  // protocol.md: an absent `data` and an empty array both mean nobody is speaking; send both.
  if (!speakers_.empty() || version_ % 2 == 0) {
    Array::Ptr data = new Array;
    for (const SpeakerItem& s : speakers_) {
      Object::Ptr item = newObject();
      item->set("pid", s.pid);
      item->set("name", s.name);
      // The volume arrives as a number or as a string; odd volumes go out as strings.
      if (s.volume % 2 == 1) {
        item->set("speakingVolume", std::to_string(s.volume));
      } else {
        item->set("speakingVolume", s.volume);
      }
      data->add(item);
    }
    o->set("data", data);
  }
  return {PushType::SpeakerChange, pushText(o)};
}

Push Meeting::waitingPush(const std::vector<const WaitingMember*>& items, bool full,
                          std::int64_t now_ms) {
  Object::Ptr o = envelope(PushType::WaitingList, full ? 0 : 1, now_ms);
  Array::Ptr data = new Array;
  for (const WaitingMember* w : items) {
    Object::Ptr item = newObject();
    item->set("pid", w->pid);
    item->set("mode", 0);
    item->set("delType", 0);
    Object::Ptr info = newObject();
    info->set("NAME", w->name);
    info->set("CLIENT_LOGIN_TYPE", w->client);
    info->set("ADDTIME", std::to_string(w->add_time_ms));
    info->set("WAITINGSTATE", "0");
    item->set("pinfoMap", info);
    data->add(item);
  }
  o->set("data", data);
  return {PushType::WaitingList, pushText(o)};
}

Push Meeting::attendeesPush(const std::vector<const Attendee*>& items, bool full,
                            std::int64_t now_ms) {
  Object::Ptr o = envelope(PushType::Attendees, full ? 0 : 1, now_ms);
  Array::Ptr data = new Array;
  for (const Attendee* a : items) {
    Object::Ptr item = newObject();
    item->set("userUUID", a->user_uuid);
    item->set("participantID", a->phone);
    item->set("mode", 0);
    item->set("name", a->name);
    item->set("phone", a->phone);
    item->set("email", a->email);
    item->set("role", a->role);
    item->set("isMute", 0);
    item->set("isAutoInvite", 1);
    item->set("type", a->type);
    item->set("deptName", a->dept_name);
    item->set("orgID", org_id_);
    data->add(item);
  }
  o->set("data", data);
  return {PushType::Attendees, pushText(o)};
}

// `changed` empty: the full message (every field, msgMode 0); otherwise an incremental message
// with only those flags.
Push Meeting::dynamicPush(const std::vector<std::string>& changed, std::int64_t now_ms) {
  Object::Ptr o = envelope(PushType::ConfDynamicInfo, changed.empty() ? 0 : 1, now_ms);
  if (changed.empty()) {
    o->set("state", state_);
    o->set("endTime", std::to_string(end_ms_));
    o->set("mode", "FREE");
    for (const auto& [key, value] : flags_) {
      o->set(key, value);
    }
    Object::Ptr multi_pic = newObject();
    multi_pic->set("picNum", flags_["picNum"]);
    multi_pic->set("mode", 1);
    multi_pic->set("subscriberInPics", Array::Ptr(new Array));
    o->set("multiPic", multi_pic);
  } else {
    for (const std::string& key : changed) {
      o->set(key, flags_[key]);
    }
  }
  return {PushType::ConfDynamicInfo, pushText(o)};
}

Push Meeting::basicPush(std::int64_t now_ms) {
  Object::Ptr o = envelope(PushType::ConfBasicInfo, 0, now_ms);
  const Participant* host = participants_.empty() ? nullptr : &participants_.front();
  o->set("displayID", spec_.meeting_id);
  o->set("title", spec_.title);
  o->set("startTime", std::to_string(start_ms_));
  o->set("scheduledStartTime", std::to_string(start_ms_ - std::int64_t{5} * 60 * 1000));
  o->set("recType", 0);
  o->set("media", 2);
  o->set("owner", host ? host->name : std::string());
  o->set("ownerID", host ? host->account_id : std::string());
  o->set("confMode", "COMMON");
  o->set("callInRestriction", 0);
  o->set("realTimeSubtitle", 0);
  o->set("supportWatermark", 0);
  o->set("supportWaitingRoom", true);
  o->set("webinar", false);
  o->set("guestJoinUri", "https://meeting.example.invalid/#/j/" + spec_.meeting_id);
  // The real service sends the meeting passwords here: clients must never expose them.
  Array::Ptr pwds = new Array;
  Object::Ptr host_pwd = newObject();
  host_pwd->set("role", 1);
  host_pwd->set("pwd", spec_.host_password);
  pwds->add(host_pwd);
  Object::Ptr guest_pwd = newObject();
  guest_pwd->set("role", 0);
  guest_pwd->set("pwd", guest_password_);
  pwds->add(guest_pwd);
  o->set("pwds", pwds);
  o->set("userType", 2);
  o->set("orgID", org_id_);
  return {PushType::ConfBasicInfo, pushText(o)};
}

Push Meeting::multiPicPush(std::int64_t now_ms) {
  Object::Ptr o = envelope(PushType::CustomMultiPic, 0, now_ms);
  const int pic_num = flags_["picNum"];
  o->set("picNum", pic_num);
  o->set("picMode", 0);
  Array::Ptr pics = new Array;
  for (int i = 0; i < pic_num && i < static_cast<int>(participants_.size()); ++i) {
    Object::Ptr pic = newObject();
    pic->set("index", i + 1);
    pic->set("id", participants_[static_cast<std::size_t>(i)].pid);
    pics->add(pic);
  }
  o->set("picInfos", pics);
  o->set("picLayout", "2x2");
  o->set("vas", 0);
  o->set("portalPicNum", pic_num);
  o->set("portalPicMode", 0);
  return {PushType::CustomMultiPic, pushText(o)};
}

Push Meeting::interpreterPush(std::int64_t now_ms) {
  Object::Ptr o = envelope(PushType::InterpreterGroup, 0, now_ms);
  Array::Ptr data = new Array;
  static constexpr std::array<std::pair<const char*, const char*>, 3> kPairs{
      {{"zh-CN", "en-US"}, {"en-US", "fr-FR"}, {"zh-CN", "ja-JP"}}};
  for (int i = 0; i < spec_.interpreter_groups; ++i) {
    const auto& [first, second] = kPairs[static_cast<std::size_t>(i) % kPairs.size()];
    Object::Ptr group = newObject();
    group->set("groupId", "group" + std::to_string(i + 1));
    group->set("groupName", std::string(first) + "/" + second);
    group->set("firstLanguage", first);
    group->set("secondLanguage", second);
    group->set("groupType", "MANUAL");
    Array::Ptr interpreters = new Array;
    Object::Ptr interpreter = newObject();
    interpreter->set("name", "Interpreter " + std::to_string(i + 1));
    interpreter->set("userID", "interp" + std::to_string(i + 1));
    interpreter->set("callNumber", "+865710099" + padded(static_cast<std::uint64_t>(i), 4));
    interpreter->set("interpreterType", 0);
    interpreters->add(interpreter);
    group->set("interpreters", interpreters);
    data->add(group);
  }
  o->set("data", data);
  return {PushType::InterpreterGroup, pushText(o)};
}

Push Meeting::subtitlePush(const Participant& speaker, std::int64_t now_ms) {
  Object::Ptr o = envelope(PushType::RealTimeSubtitle, 1, now_ms);
  // protocol.md §4: this type sends version and createTime as strings, and its documented
  // example has keys with trailing spaces.
  o->set("version", std::to_string(version_));
  o->set("createTime", std::to_string(now_ms));
  Object::Ptr data = newObject();
  Array::Ptr msgs = new Array;
  Object::Ptr msg = newObject();
  msg->set("translateText", "simulated caption " + std::to_string(version_));
  msgs->add(msg);
  data->set("msgs ", msgs);
  data->set("participantID", speaker.pid);
  data->set("isFinal ", true);
  o->set("data", data);
  return {PushType::RealTimeSubtitle, pushText(o)};
}

std::optional<Push> Meeting::snapshot(PushType type, std::int64_t now_ms) {
  switch (type) {
    case PushType::ConfBasicInfo:
      return basicPush(now_ms);
    case PushType::ConfDynamicInfo:
      return dynamicPush({}, now_ms);
    case PushType::Participants: {
      std::vector<const Participant*> all;
      for (const Participant& p : participants_) {
        all.push_back(&p);
      }
      return participantsPush(all, true, now_ms);
    }
    case PushType::Attendees: {
      std::vector<const Attendee*> all;
      for (const Attendee& a : attendees_) {
        all.push_back(&a);
      }
      return attendeesPush(all, true, now_ms);
    }
    case PushType::SpeakerChange:
      return speakersPush(now_ms);
    case PushType::NetCondition: {
      std::vector<const Participant*> online;
      for (const Participant& p : participants_) {
        if (p.state == 0) {
          online.push_back(&p);
        }
      }
      return netPush(online, true, now_ms);
    }
    case PushType::CustomMultiPic:
      return multiPicPush(now_ms);
    case PushType::InviteResult:
      return invitePush(invites_, true, now_ms);
    case PushType::InterpreterGroup:
      return interpreterPush(now_ms);
    case PushType::WaitingList: {
      std::vector<const WaitingMember*> all;
      for (const WaitingMember& w : waiting_) {
        all.push_back(&w);
      }
      return waitingPush(all, true, now_ms);
    }
    case PushType::NetworkQuality:
    case PushType::RealTimeSubtitle:
      return std::nullopt;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Scenario
// ---------------------------------------------------------------------------------------------

std::vector<Meeting::Participant*> Meeting::inMeeting(bool include_host) {
  std::vector<Participant*> out;
  for (Participant& p : participants_) {
    if (p.state == 0 && (include_host || p.role != 1)) {
      out.push_back(&p);
    }
  }
  return out;
}

void Meeting::recordInvite(const std::string& call_number, const std::string& code,
                           std::vector<Push>& out, std::int64_t now_ms) {
  invites_.push_back({call_number, code});
  if (invites_.size() > kInviteHistory) {
    invites_.erase(invites_.begin());
  }
  ++counters_.invite_results[code];
  out.push_back(invitePush({invites_.back()}, false, now_ms));
}

void Meeting::addParticipant(Participant p, std::vector<Push>& out, std::int64_t now_ms) {
  participants_.push_back(std::move(p));
  ++counters_.joins;
  const Participant& added = participants_.back();
  out.push_back(participantsPush({&added}, false, now_ms));
  if (added.state == 0) {
    out.push_back(netPush({&added}, false, now_ms));
  }
}

void Meeting::removeParticipant(const std::string& pid, std::vector<Push>& out,
                                std::int64_t now_ms) {
  auto it = std::find_if(participants_.begin(), participants_.end(),
                         [&](const Participant& p) { return p.pid == pid; });
  if (it == participants_.end()) {
    return;
  }
  const bool had_net = it->state == 0;
  participants_.erase(it);
  ++counters_.leaves;
  out.push_back(removePush(PushType::Participants, pid, now_ms));
  if (had_net) {
    out.push_back(removePush(PushType::NetCondition, pid, now_ms));
  }
  speakerGone(pid, out, now_ms);
}

void Meeting::join(std::vector<Push>& out, std::int64_t now_ms) {
  const std::uint64_t r = rand(100);
  if (r < 25 && flags_["waitingRoomState"] == 1) {
    waiting_.push_back(makeWaiting(now_ms));
    out.push_back(waitingPush({&waiting_.back()}, false, now_ms));
  } else if (r < 45) {
    addParticipant(makeParticipant(0, 1, now_ms), out, now_ms);  // called out: STATE "1"
  } else {
    addParticipant(makeParticipant(0, 0, now_ms), out, now_ms);
  }
}

void Meeting::leave(std::vector<Push>& out, std::int64_t now_ms) {
  std::vector<Participant*> candidates = inMeeting(false);
  if (candidates.empty()) {
    return;
  }
  const Participant& leaver = *candidates[rand(candidates.size())];
  int total = 0;
  for (const auto& [code, weight] : kLeaveCodes) {
    total += weight;
  }
  auto pick = static_cast<int>(rand(static_cast<std::uint64_t>(total)));
  std::string code = kLeaveCodes.front().first;
  for (const auto& [candidate, weight] : kLeaveCodes) {
    if (pick < weight) {
      code = candidate;
      break;
    }
    pick -= weight;
  }
  // protocol.md: the leave reason arrives as an InviteResult before the participant goes.
  const std::string pid = leaver.pid;
  recordInvite(leaver.tel, code, out, now_ms);
  removeParticipant(pid, out, now_ms);
}

void Meeting::resolveCalls(std::vector<Push>& out, std::int64_t now_ms) {
  std::vector<std::string> calling;
  for (const Participant& p : participants_) {
    if (p.state == 1 && p.called_at_step < counters_.steps) {
      calling.push_back(p.pid);
    }
  }
  for (const std::string& pid : calling) {
    auto it = std::find_if(participants_.begin(), participants_.end(),
                           [&](const Participant& p) { return p.pid == pid; });
    if (chance(70)) {
      it->state = 0;
      it->net = makeNet(false, false);
      const std::string tel = it->tel;
      out.push_back(participantChange(*it, {{"STATE", "0"}}, now_ms));
      const Participant& answered = *it;
      out.push_back(netPush({&answered}, false, now_ms));
      recordInvite(tel, "0", out, now_ms);
    } else {
      const std::string tel = it->tel;
      recordInvite(tel, kInviteFailureCodes[rand(kInviteFailureCodes.size())], out, now_ms);
      removeParticipant(pid, out, now_ms);
    }
  }
}

void Meeting::waitingRoom(std::vector<Push>& out, std::int64_t now_ms) {
  if (waiting_.empty() || !chance(40)) {
    return;
  }
  const WaitingMember member = waiting_.front();
  const bool admit = chance(85);
  if (admit && static_cast<int>(participants_.size()) >= spec_.max_participants) {
    return;
  }
  waiting_.erase(waiting_.begin());
  out.push_back(removePush(PushType::WaitingList, member.pid, now_ms));
  if (admit) {
    Participant p = makeParticipant(0, 0, now_ms);
    p.name = member.name;
    p.client = member.client;
    addParticipant(std::move(p), out, now_ms);
  }
}

void Meeting::toggle(const std::string& key, std::vector<Push>& out, std::int64_t now_ms) {
  std::vector<Participant*> online = inMeeting(true);
  if (online.empty()) {
    return;
  }
  Participant& p = *online[rand(online.size())];
  std::map<std::string, std::string> keys;
  if (key == "MUTE") {
    p.muted = !p.muted;
    keys["MUTE"] = flag(p.muted);
  } else if (key == "VIDEO") {
    p.video = !p.video;
    keys["VIDEO"] = flag(p.video);
    keys["CAMERASTATE"] = flag(p.video);
  } else {
    p.hand = !p.hand;
    keys["HAND"] = flag(p.hand);
  }
  const std::string pid = p.pid;
  const bool muted = p.muted;
  out.push_back(participantChange(p, keys, now_ms));
  if (key == "MUTE" && muted) {
    speakerGone(pid, out, now_ms);
  }
}

void Meeting::toggleShare(std::vector<Push>& out, std::int64_t now_ms) {
  for (Participant& p : participants_) {
    if (p.share) {
      p.share = false;
      out.push_back(participantChange(p, {{"SHARE", "0"}}, now_ms));
      return;
    }
  }
  std::vector<Participant*> online = inMeeting(true);
  if (online.empty()) {
    return;
  }
  Participant& sharer = *online[rand(online.size())];
  sharer.share = true;
  out.push_back(participantChange(sharer, {{"SHARE", "1"}}, now_ms));
}

void Meeting::changeFlags(std::vector<Push>& out, std::int64_t now_ms) {
  static constexpr std::array<const char*, 5> kFlags{"lock", "recState", "forbiddenChat",
                                                     "lockSharing", "mute"};
  const std::string key = kFlags[rand(kFlags.size())];
  flags_[key] = flags_[key] == 0 ? 1 : 0;
  std::vector<std::string> changed{key};
  if (key == "recState" && flags_[key] == 1 && flags_["recOccurred"] == 0) {
    flags_["recOccurred"] = 1;
    changed.emplace_back("recOccurred");
  }
  out.push_back(dynamicPush(changed, now_ms));
}

void Meeting::inviteFailure(std::vector<Push>& out, std::int64_t now_ms) {
  recordInvite(nextTel(), kInviteFailureCodes[rand(kInviteFailureCodes.size())], out, now_ms);
}

void Meeting::subtitle(std::vector<Push>& out, std::int64_t now_ms) {
  std::vector<Participant*> talking;
  for (Participant* p : inMeeting(true)) {
    if (!p->muted) {
      talking.push_back(p);
    }
  }
  if (talking.empty()) {
    return;
  }
  out.push_back(subtitlePush(*talking[rand(talking.size())], now_ms));
}

void Meeting::addAttendee(std::vector<Push>& out, std::int64_t now_ms) {
  attendees_.push_back(makeAttendee());
  out.push_back(attendeesPush({&attendees_.back()}, false, now_ms));
}

void Meeting::updateNetwork(std::vector<Push>& out, std::int64_t now_ms) {
  std::vector<const Participant*> changed;
  for (Participant* p : inMeeting(true)) {
    if (!chance(35)) {
      continue;
    }
    const bool poor = p->net.poor ? !chance(30) : chance(4);
    p->net = makeNet(poor, p->share);
    changed.push_back(p);
  }
  if (!changed.empty()) {
    out.push_back(netPush(changed, false, now_ms));
  }
}

void Meeting::updateSpeakers(std::vector<Push>& out, std::int64_t now_ms) {
  if (!chance(50)) {
    return;
  }
  std::vector<Participant*> talking;
  for (Participant* p : inMeeting(true)) {
    if (!p->muted) {
      talking.push_back(p);
    }
  }
  const std::size_t count = std::min<std::size_t>(rand(4), talking.size());
  for (std::size_t i = 0; i < count; ++i) {  // partial Fisher–Yates with the scenario rng
    std::swap(talking[i], talking[i + rand(talking.size() - i)]);
  }
  std::vector<SpeakerItem> next;
  for (std::size_t i = 0; i < count; ++i) {
    next.push_back({talking[i]->pid, talking[i]->name, 1 + static_cast<int>(rand(100))});
  }
  std::set<std::string> before, after;
  for (const SpeakerItem& s : speakers_) {
    before.insert(s.pid);
  }
  for (const SpeakerItem& s : next) {
    after.insert(s.pid);
  }
  const bool changed = before != after;
  if (!changed && !chance(30)) {
    return;  // same people: only sometimes re-sent with new volumes
  }
  speakers_ = std::move(next);
  if (changed) {
    ++counters_.speaker_changes;
  }
  out.push_back(speakersPush(now_ms));
}

void Meeting::speakerGone(const std::string& pid, std::vector<Push>& out, std::int64_t now_ms) {
  auto it = std::find_if(speakers_.begin(), speakers_.end(),
                         [&](const SpeakerItem& s) { return s.pid == pid; });
  if (it == speakers_.end()) {
    return;
  }
  speakers_.erase(it);
  ++counters_.speaker_changes;
  out.push_back(speakersPush(now_ms));
}

std::vector<Push> Meeting::step(std::int64_t now_ms) {
  std::vector<Push> out;
  if (!started_) {
    return out;
  }
  ++counters_.steps;
  resolveCalls(out, now_ms);
  waitingRoom(out, now_ms);

  enum class Action {
    Join,
    Leave,
    Mute,
    Video,
    Hand,
    Share,
    Flags,
    InviteFailure,
    Subtitle,
    NewAttendee
  };
  std::vector<std::pair<Action, int>> actions;
  if (static_cast<int>(participants_.size()) < spec_.max_participants) {
    actions.emplace_back(Action::Join, 10);
  }
  if (inMeeting(false).size() >= 2) {
    actions.emplace_back(Action::Leave, 8);
  }
  actions.insert(actions.end(), {{Action::Mute, 15},
                                 {Action::Video, 5},
                                 {Action::Hand, 6},
                                 {Action::Share, 4},
                                 {Action::Flags, 2},
                                 {Action::InviteFailure, 3},
                                 {Action::Subtitle, 3},
                                 {Action::NewAttendee, 1}});
  int total = 0;
  for (const auto& entry : actions) {
    total += entry.second;
  }
  const std::uint64_t count = 1 + rand(3);
  for (std::uint64_t i = 0; i < count; ++i) {
    auto pick = static_cast<int>(rand(static_cast<std::uint64_t>(total)));
    Action action = actions.front().first;
    for (const auto& [candidate, weight] : actions) {
      if (pick < weight) {
        action = candidate;
        break;
      }
      pick -= weight;
    }
    switch (action) {
      case Action::Join:
        if (static_cast<int>(participants_.size()) < spec_.max_participants) {
          join(out, now_ms);
        }
        break;
      case Action::Leave:
        if (inMeeting(false).size() >= 2) {
          leave(out, now_ms);
        }
        break;
      case Action::Mute:
        toggle("MUTE", out, now_ms);
        break;
      case Action::Video:
        toggle("VIDEO", out, now_ms);
        break;
      case Action::Hand:
        toggle("HAND", out, now_ms);
        break;
      case Action::Share:
        toggleShare(out, now_ms);
        break;
      case Action::Flags:
        changeFlags(out, now_ms);
        break;
      case Action::InviteFailure:
        inviteFailure(out, now_ms);
        break;
      case Action::Subtitle:
        subtitle(out, now_ms);
        break;
      case Action::NewAttendee:
        addAttendee(out, now_ms);
        break;
    }
  }
  updateSpeakers(out, now_ms);
  updateNetwork(out, now_ms);
  return out;
}

MeetingTruth Meeting::truth() const {
  MeetingTruth t = counters_;
  t.started = started_;
  t.state = state_;
  for (const Participant& p : participants_) {
    t.pids.push_back(p.pid);
    if (p.state != 0) {
      ++t.calling;
      continue;
    }
    ++t.participants;
    if (p.role == 1) {
      ++t.hosts;
    }
    if (p.role == 0 && p.cohost) {
      ++t.cohosts;
    }
    ++t.by_client[p.client];
    t.muted += p.muted ? 1 : 0;
    t.video += p.video ? 1 : 0;
    t.hand_raised += p.hand ? 1 : 0;
    t.sharing += p.share ? 1 : 0;
    const NetFigures& n = p.net;
    if (crossesPoorThresholds(n.delay, n.jitter, n.out_jitter,
                              {n.loss_up, n.loss_down, n.video_loss_up, n.video_loss_down,
                               n.screen_loss_up, n.screen_loss_down})) {
      ++t.poor_network;
      t.poor_pids.push_back(p.pid);
    }
  }
  t.attendees = attendees_.size();
  t.waiting = waiting_.size();
  t.speakers = speakers_.size();
  t.interpreter_groups =
      started_ ? static_cast<std::size_t>(std::max(0, spec_.interpreter_groups)) : 0;
  return t;
}

}  // namespace hme::simulator
