// The simulator against raw Poco clients: REST token flow, WSS subscribe/snapshots/pushes,
// heartbeats, timeouts, meeting end, faults, TLS material. Every socket is on 127.0.0.1:0.

#include "simulator/simulator.h"

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "Poco/Base64Encoder.h"
#include "Poco/Buffer.h"
#include "Poco/Exception.h"
#include "Poco/JSON/Array.h"
#include "Poco/JSON/Object.h"
#include "Poco/JSON/Parser.h"
#include "Poco/Net/Context.h"
#include "Poco/Net/HTTPRequest.h"
#include "Poco/Net/HTTPResponse.h"
#include "Poco/Net/HTTPSClientSession.h"
#include "Poco/Net/NetException.h"
#include "Poco/Net/NetSSL.h"
#include "Poco/Net/WebSocket.h"
#include "Poco/StreamCopier.h"
#include "simulator/pki.h"

namespace {

using namespace hme::simulator;
using namespace std::chrono_literals;
using Poco::JSON::Array;
using Poco::JSON::Object;
using Poco::Net::HTTPRequest;
using Poco::Net::HTTPResponse;
using Poco::Net::WebSocket;

constexpr const char* kMeeting = "900000001";
constexpr const char* kPassword = "correct-horse-battery";
constexpr const char* kPki = HME_TESTDATA_DIR "/pki";
constexpr const char* kAuthFailedBody =
    R"({"error_code":"MMC.111072065","error_msg":"CONF_NOT_FOUND_OR_AUTH_FAILED"})";
constexpr const char* kTokenPath = "/v1/mmc/control/conferences/token?conferenceID=";

SimulatorOptions testOptions() {
  SimulatorOptions o;
  o.cert_file = std::string(kPki) + "/server.pem";
  o.key_file = std::string(kPki) + "/server.key";
  o.tick = 0ms;  // steps only when a test asks
  o.seed = 42;
  return o;
}

MeetingSpec testMeeting(const std::string& id = kMeeting) {
  MeetingSpec spec;
  spec.meeting_id = id;
  spec.host_password = kPassword;
  spec.participants = 6;
  spec.waiting = 2;
  return spec;
}

Poco::Net::Context::Ptr clientContext(const std::string& ca_file) {
  Poco::Net::Context::Params params;
  params.caLocation = ca_file;
  params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
  params.loadDefaultCAs = false;
  return new Poco::Net::Context(Poco::Net::Context::CLIENT_USE, params);
}

Object::Ptr parseObject(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Object::Ptr>();
}

std::string base64(const std::string& raw) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder << raw;
  encoder.close();
  return out.str();
}

constexpr const char* kHexDigits = "0123456789abcdef";
constexpr const char* kBase36Digits = "0123456789abcdefghijklmnopqrstuvwxyz";

bool consistsOf(const std::string& text, const char* alphabet, std::size_t length) {
  return text.size() == length && text.find_first_not_of(alphabet) == std::string::npos;
}

// protocol.md §2.1: `cnr` + 48 hex digits.
bool isToken(const std::string& token) {
  return token.rfind("cnr", 0) == 0 && consistsOf(token.substr(3), kHexDigits, 48);
}

constexpr int kPingFlags = static_cast<int>(WebSocket::FRAME_FLAG_FIN) | WebSocket::FRAME_OP_PING;
constexpr int kPongFlags = static_cast<int>(WebSocket::FRAME_FLAG_FIN) | WebSocket::FRAME_OP_PONG;

struct HttpResult {
  int status = 0;
  std::string body;
};

struct Frame {
  int flags = 0;
  std::string payload;
  int opcode() const { return flags & WebSocket::FRAME_OP_BITMASK; }
  bool closed() const { return flags == 0 && payload.empty(); }
};

Frame receive(WebSocket& ws, std::chrono::milliseconds timeout = 5s) {
  ws.setReceiveTimeout(Poco::Timespan(std::chrono::microseconds(timeout).count()));
  Poco::Buffer<char> buffer(0);
  Frame frame;
  const int n = ws.receiveFrame(buffer, frame.flags);
  frame.payload.assign(buffer.begin(), static_cast<std::size_t>(n));
  return frame;
}

// Text frames until the HeartBeat echo with `sequence`: the server queues its pushes and the
// echo in order, so everything pushed before the heartbeat was sent has arrived by then.
std::vector<Object::Ptr> receiveUntilEcho(WebSocket& ws, const std::string& sequence) {
  std::vector<Object::Ptr> frames;
  while (true) {
    const Frame frame = receive(ws);
    BOOST_REQUIRE_EQUAL(frame.opcode(), WebSocket::FRAME_OP_TEXT);
    Object::Ptr o = parseObject(frame.payload);
    if (o->getValue<std::string>("action") == "HeartBeat" &&
        o->getValue<std::string>("sequence") == sequence) {
      return frames;
    }
    frames.push_back(o);
  }
}

std::string sequence(int n) {
  std::string digits = std::to_string(1700000000000LL + n);
  return std::string(30 - digits.size(), '0') + digits;
}

std::string heartbeat(const std::string& seq) {
  return R"({"action":"HeartBeat","sequence":")" + seq + R"("})";
}

void sendText(WebSocket& ws, const std::string& text) {
  ws.sendFrame(text.data(), static_cast<int>(text.size()), WebSocket::FRAME_TEXT);
}

/// A started simulator plus a raw client trusting the test CA.
class Harness {
 public:
  explicit Harness(SimulatorOptions options = testOptions(),
                   const std::vector<MeetingSpec>& meetings = {testMeeting()})
      : ssl_(), sim(std::move(options)) {
    for (const MeetingSpec& spec : meetings) {
      sim.addMeeting(spec);
    }
    sim.start();
    context = clientContext(std::string(kPki) + "/ca.pem");
  }

  HttpResult get(const std::string& path, const std::map<std::string, std::string>& headers) {
    Poco::Net::HTTPSClientSession session("127.0.0.1", sim.port(), context);
    session.setTimeout(Poco::Timespan(5, 0));
    HTTPRequest request(HTTPRequest::HTTP_GET, path, HTTPRequest::HTTP_1_1);
    for (const auto& [name, value] : headers) {
      request.set(name, value);
    }
    session.sendRequest(request);
    HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    HttpResult result;
    result.status = static_cast<int>(response.getStatus());
    Poco::StreamCopier::copyToString(in, result.body);
    return result;
  }

  HttpResult tokenCall(const std::string& meeting_id, const std::string& password) {
    return get("/v1/mmc/control/conferences/token?conferenceID=" + meeting_id,
               {{"X-Password", password}, {"X-Login-Type", "1"}});
  }

  std::string controlToken(const std::string& meeting_id = kMeeting) {
    const HttpResult result = tokenCall(meeting_id, kPassword);
    BOOST_REQUIRE_EQUAL(result.status, 200);
    return parseObject(result.body)->getObject("data")->getValue<std::string>("token");
  }

  HttpResult wsTokenCall(const std::string& meeting_id, const std::string& authorization) {
    return get("/v1/mmc/control/conferences/wsToken?conferenceID=" + meeting_id,
               {{"X-Conference-Authorization", authorization}});
  }

  std::string wsToken(const std::string& token, const std::string& meeting_id = kMeeting) {
    const HttpResult result = wsTokenCall(meeting_id, token);
    BOOST_REQUIRE_EQUAL(result.status, 200);
    return parseObject(result.body)->getValue<std::string>("webSocketToken");
  }

  std::unique_ptr<WebSocket> connect(const std::string& tmp_token,
                                     const std::string& meeting_id = kMeeting,
                                     HTTPResponse* response_out = nullptr) {
    Poco::Net::HTTPSClientSession session("127.0.0.1", sim.port(), context);
    session.setTimeout(Poco::Timespan(5, 0));
    HTTPRequest request(HTTPRequest::HTTP_GET,
                        "/cms/open/websocket/confctl/increment/conn?confID=" + meeting_id +
                            "&tmpToken=" + tmp_token,
                        HTTPRequest::HTTP_1_1);
    HTTPResponse response;
    try {
      auto ws = std::make_unique<WebSocket>(session, request, response);
      if (response_out != nullptr) {
        *response_out = response;
      }
      return ws;
    } catch (...) {
      if (response_out != nullptr) {
        *response_out = response;
      }
      throw;
    }
  }

  /// Token → wsToken → connect → Subscribe; returns the socket and the control token.
  std::unique_ptr<WebSocket> subscribed(const std::vector<std::string>& types,
                                        Object::Ptr* reply = nullptr,
                                        const std::string& meeting_id = kMeeting) {
    const std::string token = controlToken(meeting_id);
    auto ws = connect(wsToken(token, meeting_id), meeting_id);
    sendText(*ws, subscribeFrame(types, "Basic " + base64(token), sequence(0)));
    const Frame frame = receive(*ws);
    BOOST_REQUIRE_EQUAL(frame.opcode(), WebSocket::FRAME_OP_TEXT);
    Object::Ptr o = parseObject(frame.payload);
    BOOST_REQUIRE_EQUAL(o->getValue<std::string>("action"), "Subscribe");
    BOOST_REQUIRE_EQUAL(o->getObject("data")->getValue<int>("returnCode"), 0);
    if (reply != nullptr) {
      *reply = o;
    }
    return ws;
  }

  static std::string subscribeFrame(const std::vector<std::string>& types,
                                    const std::string& conf_token, const std::string& seq) {
    Object data;
    Array::Ptr names = new Array;
    for (const std::string& type : types) {
      names->add(type);
    }
    data.set("subscribeType", names);
    data.set("confToken", conf_token);
    std::ostringstream data_text;
    data.stringify(data_text);
    Object frame;
    frame.set("action", "Subscribe");
    frame.set("sequence", seq);
    frame.set("data", data_text.str());  // double-encoded, as every client does (§3)
    std::ostringstream out;
    frame.stringify(out);
    return out.str();
  }

 private:
  struct SslInit {
    SslInit() { Poco::Net::initializeSSL(); }
    ~SslInit() { Poco::Net::uninitializeSSL(); }
  } ssl_;

 public:
  Simulator sim;
  Poco::Net::Context::Ptr context;
};

std::vector<std::string> allTypes() {
  return {"ConfBasicInfoNotify",  "ConfDynamicInfoNotify", "ParticipantsNotify",
          "AttendeesNotify",      "SpeakerChangeNotify",   "NetConditionNotify",
          "CustomMultiPicNotify", "InviteResultNotify",    "InterpreterGroupNotify",
          "NetworkQualityNotify", "WaitingListNotify",     "RealTimeSubtitleNotify"};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(simulator)

BOOST_AUTO_TEST_CASE(control_token_happy_path_and_refresh) {
  Harness h;
  const auto before = std::chrono::system_clock::now();
  const HttpResult result = h.tokenCall(kMeeting, kPassword);
  BOOST_REQUIRE_EQUAL(result.status, 200);
  Object::Ptr body = parseObject(result.body);
  Object::Ptr data = body->getObject("data");
  const std::string token = data->getValue<std::string>("token");
  BOOST_TEST(isToken(token));
  BOOST_TEST(data->getValue<std::string>("wsURL") ==
             "wss://127.0.0.1:" + std::to_string(h.sim.port()));
  BOOST_TEST(data->getValue<int>("confTokenExpireTime") == 1800);
  BOOST_TEST(data->getValue<int>("role") == 1);
  const auto expire_ms = data->getValue<std::int64_t>("expireTime");
  const auto expected_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>((before + 1800s).time_since_epoch())
          .count();
  BOOST_TEST(expire_ms >= expected_ms);
  BOOST_TEST(expire_ms < expected_ms + 10000);
  for (const char* key : {"tmpWsToken", "userID", "orgID", "vmrCurrentConfID"}) {
    BOOST_TEST(data->has(key), key);
  }
  BOOST_TEST(data->isArray("supportNotifyType"));
  BOOST_TEST(body->has("addressToken"));
  BOOST_TEST(body->has("gloablPublicIP"));

  // Refresh with the token alone, in the Basic form: a new token.
  const HttpResult refreshed = h.get(std::string(kTokenPath) + kMeeting,
                                     {{"X-Conference-Authorization", "Basic " + base64(token)}});
  BOOST_REQUIRE_EQUAL(refreshed.status, 200);
  const std::string token2 =
      parseObject(refreshed.body)->getObject("data")->getValue<std::string>("token");
  BOOST_TEST(token2 != token);

  // Expired: the token alone no longer works, nor for a wsToken; with the password it does.
  h.sim.expireControlTokens(kMeeting);
  BOOST_TEST(
      h.get(std::string(kTokenPath) + kMeeting, {{"X-Conference-Authorization", token2}}).status ==
      400);
  const HttpResult ws_refused = h.wsTokenCall(kMeeting, token2);
  BOOST_TEST(ws_refused.status == 401);
  BOOST_TEST(parseObject(ws_refused.body)->has("error_code"));
  const HttpResult with_password = h.get(
      std::string(kTokenPath) + kMeeting,
      {{"X-Password", kPassword}, {"X-Login-Type", "1"}, {"X-Conference-Authorization", token2}});
  BOOST_TEST(with_password.status == 200);

  const MeetingObservations obs = h.sim.observations(kMeeting);
  BOOST_TEST(obs.control_tokens_issued == 3u);
  BOOST_TEST(obs.control_token_refreshes == 2u);
  const std::vector<std::string> secrets = h.sim.secrets();
  for (const std::string& secret : {std::string(kPassword), token, token2}) {
    BOOST_TEST((std::find(secrets.begin(), secrets.end(), secret) != secrets.end()));
  }
}

BOOST_AUTO_TEST_CASE(token_call_refused_for_wrong_password_unknown_or_idle_meeting) {
  MeetingSpec idle = testMeeting("900000002");
  idle.started = false;
  Harness h(testOptions(), {testMeeting(), idle});
  for (const HttpResult& r : {h.tokenCall(kMeeting, "wrong"), h.tokenCall("123", kPassword),
                              h.tokenCall("900000002", kPassword)}) {
    BOOST_TEST(r.status == 400);
    BOOST_TEST(r.body == kAuthFailedBody);
  }
  BOOST_TEST(h.get(std::string(kTokenPath) + kMeeting, {{"X-Password", kPassword}}).status ==
             400);  // no X-Login-Type: 1
  BOOST_REQUIRE(h.sim.startMeeting("900000002"));
  BOOST_TEST(h.tokenCall("900000002", kPassword).status == 200);

  SimulatorOptions forbidding = testOptions();
  forbidding.auth_failure_status = 403;
  Harness h403(forbidding);
  const HttpResult r = h403.tokenCall(kMeeting, "wrong");
  BOOST_TEST(r.status == 403);
  BOOST_TEST(r.body == kAuthFailedBody);
}

BOOST_AUTO_TEST_CASE(token_refusals_for_n_calls) {
  Harness h;
  TokenRefusal refusal;
  refusal.endpoint = TokenEndpoint::Control;
  refusal.count = 2;
  h.sim.refuseTokenCalls(refusal);
  for (int i = 0; i < 2; ++i) {
    const HttpResult r = h.tokenCall(kMeeting, kPassword);
    BOOST_TEST(r.status == 429);
    BOOST_TEST(parseObject(r.body)->getValue<std::string>("error_code") == "MMC.100000429");
  }
  const std::string token = h.controlToken();
  refusal.endpoint = TokenEndpoint::WebSocket;
  refusal.status = 500;
  refusal.count = 0;  // until cleared
  h.sim.refuseTokenCalls(refusal);
  BOOST_TEST(h.wsTokenCall(kMeeting, token).status == 500);
  BOOST_TEST(h.wsTokenCall(kMeeting, token).status == 500);
  h.sim.clearTokenRefusals();
  BOOST_TEST(h.wsTokenCall(kMeeting, token).status == 200);
}

BOOST_AUTO_TEST_CASE(ws_token_is_single_use_and_calls_come_in_order) {
  Harness h;
  const std::string token = h.controlToken();
  const std::string tmp = h.wsToken("Basic " + base64(token));
  BOOST_TEST(isToken(tmp));
  auto ws = h.connect(tmp);
  HTTPResponse response;
  BOOST_CHECK_THROW(h.connect(tmp, kMeeting, &response), Poco::Net::WebSocketException);
  BOOST_TEST(static_cast<int>(response.getStatus()) == 401);
  BOOST_CHECK_THROW(h.connect("cnr-not-issued", kMeeting, &response),
                    Poco::Net::WebSocketException);

  const MeetingObservations obs = h.sim.observations(kMeeting);
  BOOST_TEST(obs.ws_tokens_issued == 1u);
  BOOST_TEST(obs.ws_tokens_used == 1u);
  BOOST_TEST(obs.connections_accepted == 1u);
  const std::vector<RestCall> calls = h.sim.restCalls();
  BOOST_REQUIRE_EQUAL(calls.size(), 5u);
  BOOST_TEST((calls[0].kind == RestCall::Kind::ControlToken && calls[0].accepted));
  BOOST_TEST((calls[1].kind == RestCall::Kind::WsToken && calls[1].accepted));
  BOOST_TEST((calls[2].kind == RestCall::Kind::Upgrade && calls[2].status == 101));
  BOOST_TEST((calls[3].kind == RestCall::Kind::Upgrade && !calls[3].accepted));
  BOOST_TEST(calls[3].status == 401);
}

BOOST_AUTO_TEST_CASE(ws_token_expires) {
  SimulatorOptions options = testOptions();
  options.ws_token_lifetime = 0s;
  Harness h(options);
  HTTPResponse response;
  BOOST_CHECK_THROW(h.connect(h.wsToken(h.controlToken()), kMeeting, &response),
                    Poco::Net::WebSocketException);
  BOOST_TEST(static_cast<int>(response.getStatus()) == 401);
}

BOOST_AUTO_TEST_CASE(bad_tmp_token_refused_by_close_frame_when_configured) {
  SimulatorOptions options = testOptions();
  options.ws_reject = WsRejectMode::CloseFrame;
  Harness h(options);
  auto ws = h.connect("cnr-not-issued");
  const Frame frame = receive(*ws);
  BOOST_REQUIRE_EQUAL(frame.opcode(), WebSocket::FRAME_OP_CLOSE);
  BOOST_REQUIRE_GE(frame.payload.size(), 2u);
  const int code = (static_cast<unsigned char>(frame.payload[0]) << 8) |
                   static_cast<unsigned char>(frame.payload[1]);
  BOOST_TEST(code == 1008);
  BOOST_TEST(h.sim.observations(kMeeting).connections_accepted == 0u);
}

BOOST_AUTO_TEST_CASE(subscribe_reply_then_full_snapshots) {
  Harness h;
  Object::Ptr reply;
  auto ws = h.subscribed(allTypes(), &reply);
  BOOST_TEST(reply->getValue<std::string>("sequence") == sequence(0));
  BOOST_TEST(reply->getObject("data")->getValue<std::string>("returnDesc ") == "SUCCESS");

  sendText(*ws, heartbeat(sequence(1)));
  const std::vector<Object::Ptr> frames = receiveUntilEcho(*ws, sequence(1));
  // One full snapshot per subscribed type with a defined state, in the subscribed order.
  std::vector<std::string> expected;
  for (const std::string& type : allTypes()) {
    if (type != "NetworkQualityNotify" && type != "RealTimeSubtitleNotify") {
      expected.push_back(type);
    }
  }
  BOOST_REQUIRE_EQUAL(frames.size(), expected.size());
  const MeetingTruth truth = *h.sim.truth(kMeeting);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const Object::Ptr& f = frames[i];
    BOOST_TEST(f->getValue<std::string>("action") == expected[i]);
    BOOST_TEST(f->getValue<int>("msgMode") == 0);
    BOOST_TEST(f->getValue<std::string>("confID") == kMeeting);
    BOOST_TEST(consistsOf(f->getValue<std::string>("msgID"), kHexDigits, 32));
    BOOST_TEST(f->has("version"));
    BOOST_TEST(f->has("createTime"));
  }
  auto frame = [&](const std::string& action) {
    const auto at = std::find(expected.begin(), expected.end(), action) - expected.begin();
    return frames[static_cast<std::size_t>(at)];
  };
  // Participants: everyone, pinfoMap values all strings, one host.
  Array::Ptr participants = frame("ParticipantsNotify")->getArray("data");
  BOOST_REQUIRE_EQUAL(participants->size(), truth.participants + truth.calling);
  int hosts = 0;
  for (std::size_t i = 0; i < participants->size(); ++i) {
    Object::Ptr item = participants->getObject(static_cast<unsigned>(i));
    BOOST_TEST(consistsOf(item->getValue<std::string>("pid"), kBase36Digits, 32));
    Object::Ptr info = item->getObject("pinfoMap");
    for (const auto& [key, value] : *info) {
      BOOST_TEST(value.isString(), key);
    }
    hosts += info->getValue<std::string>("ROLE") == "1" ? 1 : 0;
  }
  BOOST_TEST(hosts == 1);
  // NetCondition: strings except bandwidth.
  Array::Ptr net = frame("NetConditionNotify")->getArray("data");
  BOOST_REQUIRE_EQUAL(net->size(), truth.participants);
  Object::Ptr first = net->getObject(0);
  BOOST_TEST(first->get("delay").isString());
  BOOST_TEST(first->get("lostPacketRate").isString());
  BOOST_TEST(first->get("bandwidth").isInteger());
  // ConfBasicInfo carries the passwords, as the real service does.
  BOOST_TEST(frame("ConfBasicInfoNotify")->isArray("pwds"));
  BOOST_TEST(frame("ConfDynamicInfoNotify")->getValue<std::string>("state") == "Created");
  BOOST_TEST(frame("WaitingListNotify")->getArray("data")->size() == truth.waiting);

  const MeetingObservations obs = h.sim.observations(kMeeting);
  BOOST_REQUIRE_EQUAL(obs.subscribe_frames.size(), 1u);
  BOOST_TEST(obs.subscribe_frames[0].find("\"action\":\"Subscribe\"") != std::string::npos);
  BOOST_TEST(obs.subscribes_accepted == 1u);
}

BOOST_AUTO_TEST_CASE(pushes_replayed_by_a_client_match_the_ground_truth) {
  Harness h;
  auto ws = h.subscribed({"ParticipantsNotify", "WaitingListNotify", "SpeakerChangeNotify",
                          "InviteResultNotify", "NetConditionNotify"});
  std::map<std::string, std::string> state_by_pid;  // pid -> STATE
  std::set<std::string> waiting, seen, net_pids;
  std::size_t speakers = 0, removes = 0, incremental = 0;
  std::map<std::string, int> invite_codes;
  auto apply = [&](const Object::Ptr& f) {
    const std::string action = f->getValue<std::string>("action");
    const bool full = f->getValue<int>("msgMode") == 0;
    if (!full) {
      ++incremental;
    }
    Array::Ptr data = f->isArray("data") ? f->getArray("data") : Array::Ptr(new Array);
    if (action == "SpeakerChangeNotify") {
      speakers = data->size();
      return;
    }
    if (action == "InviteResultNotify") {
      if (full) {
        return;  // the replay of history: counted already
      }
      for (std::size_t i = 0; i < data->size(); ++i) {
        ++invite_codes[data->getObject(static_cast<unsigned>(i))
                           ->getValue<std::string>("resultCode")];
      }
      return;
    }
    if (full && action == "ParticipantsNotify") {
      state_by_pid.clear();
    }
    if (full && action == "WaitingListNotify") {
      waiting.clear();
    }
    if (full && action == "NetConditionNotify") {
      net_pids.clear();
    }
    for (std::size_t i = 0; i < data->size(); ++i) {
      Object::Ptr item = data->getObject(static_cast<unsigned>(i));
      const bool remove = item->getValue<int>("mode") == 1;
      if (action == "NetConditionNotify") {
        const std::string pid = item->getValue<std::string>("participantID");
        remove ? (void)net_pids.erase(pid) : (void)net_pids.insert(pid);
        continue;
      }
      const std::string pid = item->getValue<std::string>("pid");
      if (action == "WaitingListNotify") {
        remove ? (void)waiting.erase(pid) : (void)waiting.insert(pid);
      } else if (remove) {
        removes += state_by_pid.erase(pid);
      } else {
        seen.insert(pid);
        Object::Ptr info = item->getObject("pinfoMap");
        if (info->has("STATE")) {
          state_by_pid[pid] = info->getValue<std::string>("STATE");
        }
        BOOST_TEST(state_by_pid.count(pid) == 1u);  // an update never precedes the add
      }
    }
  };
  int seq = 1;
  for (int round = 0; round < 40; ++round) {
    BOOST_REQUIRE(h.sim.step(kMeeting));
    sendText(*ws, heartbeat(sequence(seq)));
    for (const Object::Ptr& f : receiveUntilEcho(*ws, sequence(seq))) {
      apply(f);
    }
    ++seq;
  }
  const MeetingTruth truth = *h.sim.truth(kMeeting);
  std::size_t online = 0;
  for (const auto& [pid, state] : state_by_pid) {
    online += state == "0" ? 1u : 0u;
  }
  BOOST_TEST(truth.steps == 40u);
  BOOST_TEST(incremental > 0u);
  BOOST_TEST(online == truth.participants);
  BOOST_TEST(state_by_pid.size() - online == truth.calling);
  BOOST_TEST(waiting.size() == truth.waiting);
  BOOST_TEST(speakers == truth.speakers);
  BOOST_TEST(net_pids.size() == truth.participants);
  BOOST_TEST(seen.size() == truth.joins);
  BOOST_TEST(removes == truth.leaves);
  for (const auto& [code, count] : truth.invite_results) {
    BOOST_TEST(invite_codes[code] == static_cast<int>(count), code);
  }
  BOOST_TEST(truth.leaves > 0u);  // the seed makes people leave within 40 steps
}

BOOST_AUTO_TEST_CASE(scenario_is_deterministic_for_a_seed) {
  auto run = [](std::uint64_t seed) {
    SimulatorOptions options = testOptions();
    options.seed = seed;
    Simulator sim(options);  // never started: the model needs no sockets
    sim.addMeeting(testMeeting());
    for (int i = 0; i < 50; ++i) {
      sim.step(kMeeting);
    }
    return *sim.truth(kMeeting);
  };
  const MeetingTruth a = run(7), b = run(7), c = run(8);
  BOOST_TEST(a.pids == b.pids);
  BOOST_TEST(a.joins == b.joins);
  BOOST_TEST((a.invite_results == b.invite_results));
  BOOST_TEST(a.pids != c.pids);
}

BOOST_AUTO_TEST_CASE(subscribe_with_bad_token_or_forced_rejection_fails) {
  Harness h;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::string token = h.controlToken();
    auto ws = h.connect(h.wsToken(token));
    std::string conf_token = "Basic " + base64(token);
    if (attempt == 0) {
      conf_token = "Basic " + base64("cnr-forged");
    } else {
      h.sim.rejectNextSubscribe(kMeeting, 42);
    }
    sendText(*ws, Harness::subscribeFrame({"ParticipantsNotify"}, conf_token, sequence(9)));
    Object::Ptr reply = parseObject(receive(*ws).payload);
    const int code = reply->getObject("data")->getValue<int>("returnCode");
    BOOST_TEST(code != 0);
    if (attempt == 1) {
      BOOST_TEST(code == 42);
    }
    BOOST_TEST(receive(*ws).opcode() == WebSocket::FRAME_OP_CLOSE);
  }
  BOOST_TEST(h.sim.observations(kMeeting).subscribes_rejected == 2u);
}

BOOST_AUTO_TEST_CASE(heartbeat_echo_and_ping_pong) {
  Harness h;
  auto ws = h.subscribed({"ConfDynamicInfoNotify"});
  receive(*ws);  // the snapshot
  const std::string beat = heartbeat(sequence(5));
  sendText(*ws, beat);
  const Frame echo = receive(*ws);
  BOOST_TEST(echo.payload == beat);
  BOOST_TEST(h.sim.observations(kMeeting).heartbeats.size() == 1u);

  ws->sendFrame("abc", 3, kPingFlags);
  const Frame pong = receive(*ws);
  BOOST_TEST(pong.opcode() == WebSocket::FRAME_OP_PONG);
  BOOST_TEST(pong.payload == "abc");

  h.sim.sendPing(kMeeting, "xyz");
  const Frame ping = receive(*ws);
  BOOST_REQUIRE_EQUAL(ping.opcode(), WebSocket::FRAME_OP_PING);
  ws->sendFrame(ping.payload.data(), static_cast<int>(ping.payload.size()), kPongFlags);
  BOOST_TEST(h.sim.waitFor([&] { return h.sim.observations(kMeeting).pongs_received == 1u; }, 5s));
}

BOOST_AUTO_TEST_CASE(silence_timeout_closes_the_socket) {
  Harness h;
  h.sim.setSilenceTimeout(400ms);
  auto ws = h.subscribed({"ConfDynamicInfoNotify"});
  const auto start = std::chrono::steady_clock::now();
  receive(*ws);  // the snapshot
  const Frame close = receive(*ws, 5s);
  BOOST_TEST(close.opcode() == WebSocket::FRAME_OP_CLOSE);
  BOOST_TEST((std::chrono::steady_clock::now() - start >= 300ms));
  ws->shutdown();  // answer the close frame
  BOOST_TEST(
      h.sim.waitFor([&] { return h.sim.observations(kMeeting).connections_open == 0u; }, 5s));
}

BOOST_AUTO_TEST_CASE(meeting_end_pushes_destroyed_then_closes) {
  Harness h;
  auto ws = h.subscribed({"ConfDynamicInfoNotify"});
  BOOST_TEST(parseObject(receive(*ws).payload)->getValue<std::string>("state") == "Created");
  BOOST_REQUIRE(h.sim.endMeeting(kMeeting));
  Object::Ptr destroyed = parseObject(receive(*ws).payload);
  BOOST_TEST(destroyed->getValue<std::string>("action") == "ConfDynamicInfoNotify");
  BOOST_TEST(destroyed->getValue<std::string>("state") == "Destroyed");
  const Frame close = receive(*ws);
  BOOST_TEST(close.opcode() == WebSocket::FRAME_OP_CLOSE);
  BOOST_TEST(h.tokenCall(kMeeting, kPassword).status == 400);
  BOOST_TEST(!h.sim.truth(kMeeting)->started);
}

BOOST_AUTO_TEST_CASE(meeting_ends_by_itself_after_its_duration) {
  MeetingSpec spec = testMeeting();
  spec.duration = 300ms;
  Harness h(testOptions(), {spec});
  BOOST_TEST(h.sim.waitFor([&] { return !h.sim.truth(kMeeting)->started; }, 5s));
}

BOOST_AUTO_TEST_CASE(ticker_steps_lively_meetings) {
  SimulatorOptions options = testOptions();
  options.tick = 10ms;
  MeetingSpec frozen = testMeeting("900000002");
  frozen.lively = false;
  Harness h(options, {testMeeting(), frozen});
  BOOST_TEST(h.sim.waitFor([&] { return h.sim.truth(kMeeting)->steps >= 5u; }, 5s));
  BOOST_TEST(h.sim.truth("900000002")->steps == 0u);
}

BOOST_AUTO_TEST_CASE(many_concurrent_connections_each_get_their_pushes) {
  SimulatorOptions options = testOptions();
  options.tick = 10ms;
  std::vector<MeetingSpec> meetings;
  meetings.reserve(20);
  for (int i = 0; i < 20; ++i) {
    meetings.push_back(testMeeting(std::to_string(910000000 + i)));
  }
  Harness h(options, meetings);
  std::vector<std::unique_ptr<WebSocket>> sockets;
  sockets.reserve(meetings.size());
  for (const MeetingSpec& spec : meetings) {
    sockets.push_back(h.subscribed({"NetConditionNotify"}, nullptr, spec.meeting_id));
  }
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    WebSocket& ws = *sockets[i];
    Object::Ptr snapshot = parseObject(receive(ws).payload);
    BOOST_TEST(snapshot->getValue<int>("msgMode") == 0);
    Object::Ptr update = parseObject(receive(ws).payload);  // the ticker keeps them coming
    BOOST_TEST(update->getValue<int>("msgMode") == 1);
    BOOST_TEST(update->getValue<std::string>("confID") == meetings[i].meeting_id);
  }
  BOOST_TEST(h.sim.observations(meetings[0].meeting_id).connections_open == 1u);
}

BOOST_AUTO_TEST_CASE(fault_frames_and_drops) {
  Harness h;
  auto ws = h.subscribed({"ConfDynamicInfoNotify"});
  receive(*ws);  // the snapshot
  h.sim.sendBinary(kMeeting, std::string("\x01\x02", 2));
  const Frame binary = receive(*ws);
  BOOST_TEST(binary.opcode() == WebSocket::FRAME_OP_BINARY);
  BOOST_TEST(binary.payload.size() == 2u);
  h.sim.sendOversized(kMeeting, 200000);
  const Frame big = receive(*ws);
  BOOST_TEST(big.payload.size() == 200000u);
  BOOST_TEST(parseObject(big.payload)->has("action"));
  h.sim.sendMalformed(kMeeting);
  BOOST_CHECK_THROW(parseObject(receive(*ws).payload), Poco::Exception);
  h.sim.sendText(kMeeting, R"({"action":"SomethingNew"})");
  BOOST_TEST(receive(*ws).payload == R"({"action":"SomethingNew"})");

  h.sim.dropConnections(kMeeting, DropMode::CloseFrame, 4000);
  const Frame close = receive(*ws);
  BOOST_REQUIRE_EQUAL(close.opcode(), WebSocket::FRAME_OP_CLOSE);
  BOOST_TEST(((static_cast<unsigned char>(close.payload[0]) << 8) |
              static_cast<unsigned char>(close.payload[1])) == 4000);

  auto ws2 = h.subscribed({"ConfDynamicInfoNotify"});
  receive(*ws2);
  h.sim.dropConnections(kMeeting, DropMode::TcpClose);
  try {
    BOOST_TEST(receive(*ws2).closed());  // EOF without a close frame
  } catch (const Poco::Net::NetException&) {
    // or a reset: also a TCP close without a close frame
  }
}

BOOST_AUTO_TEST_CASE(silent_server_stops_answering_until_restored) {
  Harness h;
  auto ws = h.subscribed({"ConfDynamicInfoNotify"});
  receive(*ws);  // the snapshot
  h.sim.setSilent(kMeeting, true);
  sendText(*ws, heartbeat(sequence(3)));
  BOOST_CHECK_THROW(receive(*ws, 300ms), Poco::TimeoutException);
  BOOST_TEST(h.sim.observations(kMeeting).heartbeats.empty());
  h.sim.setSilent(kMeeting, false);
  BOOST_TEST(receive(*ws).payload == heartbeat(sequence(3)));
}

BOOST_AUTO_TEST_CASE(stop_closes_open_connections) {
  auto h = std::make_unique<Harness>();
  auto ws = h->subscribed({"ConfDynamicInfoNotify"});
  receive(*ws);  // the snapshot
  const auto start = std::chrono::steady_clock::now();
  int opcode = 0;
  std::thread closer([&] {  // Boost.Test assertions stay on the main thread
    opcode = receive(*ws).opcode();
    ws->shutdown();  // answer the close so the server need not wait
  });
  h->sim.stop();
  closer.join();
  BOOST_TEST(opcode == WebSocket::FRAME_OP_CLOSE);
  BOOST_TEST((std::chrono::steady_clock::now() - start < 3s));
  h.reset();
}

BOOST_AUTO_TEST_CASE(generated_pki_verifies_strictly) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("hme-pki-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const PkiFiles files = generatePki(dir.string());
  BOOST_TEST(((std::filesystem::status(files.key_file).permissions() &
               std::filesystem::perms::others_read) == std::filesystem::perms::none));
  SimulatorOptions options = testOptions();
  options.cert_file = files.cert_file;
  options.key_file = files.key_file;
  {
    Harness h(options);
    h.context = clientContext(files.ca_file);
    BOOST_TEST(h.tokenCall(kMeeting, kPassword).status == 200);
    auto ws = h.subscribed({"ConfBasicInfoNotify"});
    BOOST_TEST(receive(*ws).opcode() == WebSocket::FRAME_OP_TEXT);
    // The committed test CA did not sign this certificate: a strict client refuses it.
    h.context = clientContext(std::string(kPki) + "/ca.pem");
    BOOST_CHECK_THROW(h.tokenCall(kMeeting, kPassword), Poco::Exception);
  }
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(pushes_use_the_official_member_order_at_least_as_often_as_any_other) {
  // protocol.md §4: official examples put `data` first and `action` last; the simulator must not
  // send only the envelope-first order a decoder might be tuned for.
  MeetingSpec spec;
  spec.meeting_id = "900000042";
  spec.host_password = "pw";
  constexpr std::int64_t kNow = 1'700'000'000'000;
  Meeting meeting(spec, 7, kNow);
  std::size_t official = 0;
  std::size_t envelope_first = 0;
  for (int round = 0; round < 10; ++round) {
    for (const PushType type : allPushTypes()) {
      const auto push = meeting.snapshot(type, kNow);
      if (!push) continue;
      const std::string& text = push->text;
      const std::string action_last = std::string(R"("action":")") + actionName(type) + "\"}";
      const bool ends_with_action =
          text.size() > action_last.size() &&
          text.compare(text.size() - action_last.size(), action_last.size(), action_last) == 0;
      const bool has_data = parseObject(text)->has("data");
      if (ends_with_action && (!has_data || text.rfind(R"({"data":)", 0) == 0)) {
        ++official;
      } else {
        BOOST_TEST(text.rfind(R"({"action":)", 0) == 0u, text.substr(0, 80));
        ++envelope_first;
      }
    }
  }
  BOOST_TEST(envelope_first > 0u);
  BOOST_TEST(official >= envelope_first);
}

BOOST_AUTO_TEST_SUITE_END()
