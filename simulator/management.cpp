#include "simulator/management.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <tuple>

#include "Poco/Exception.h"
#include "Poco/JSON/Array.h"
#include "Poco/JSON/Object.h"
#include "Poco/JSON/Parser.h"
#include "Poco/Net/Context.h"
#include "Poco/Net/HTTPClientSession.h"
#include "Poco/Net/HTTPRequest.h"
#include "Poco/Net/HTTPResponse.h"
#include "Poco/Net/HTTPSClientSession.h"
#include "Poco/Net/HTTPServerRequest.h"
#include "Poco/Net/HTTPServerResponse.h"
#include "Poco/String.h"
#include "Poco/URI.h"
#include "simulator/http_json.h"

namespace hme::simulator {
namespace {

using detail::errorBody;
using detail::newObject;
using detail::queryParam;
using detail::sendJson;
using detail::toText;
using Poco::JSON::Array;
using Poco::JSON::Object;
using WallClock = std::chrono::system_clock;

constexpr std::size_t kMaxRecorded = 100000;
constexpr std::size_t kMaxRequestBytes = std::size_t{64} * 1024;
constexpr const char* kLoginPath = "/v2/usg/acs/auth/appauth";
constexpr const char* kOnlinePath = "/v1/mmc/management/conferences/online";
constexpr const char* kDetailPath = "/v1/mmc/management/conferences/online/confDetail";
constexpr const char* kWebinarPath = "/v1/wss/webinar/open/conferences/ongoing";

template <class T>
void append(std::vector<T>& list, T item) {
  if (list.size() >= kMaxRecorded) {
    list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(kMaxRecorded / 2));
  }
  list.push_back(std::move(item));
}

std::int64_t unixMs(WallClock::time_point at) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

// The simulator's own HMAC, independent of the exporter's code under test.
std::string hmacHex(const std::string& key, const std::string& data, bool upper) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  const char* hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0x0f];
  }
  return out;
}

std::string lower(std::string text) {
  for (char& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

std::optional<std::int64_t> number(const std::string& text) {
  try {
    std::size_t used = 0;
    const long long n = std::stoll(text, &used);
    if (used != text.size()) {
      return std::nullopt;
    }
    return n;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// "2021-08-24 10:00" in UTC, the list's startTime format.
std::string formatTime(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M", &tm);
  return buffer;
}

std::string windowText(std::chrono::milliseconds window) {
  if (window.count() % 60000 == 0) {
    const auto minutes = window.count() / 60000;
    return std::to_string(minutes) + (minutes == 1 ? " minute" : " minutes");
  }
  const auto seconds = std::max<std::int64_t>(1, window.count() / 1000);
  return std::to_string(seconds) + (seconds == 1 ? " second" : " seconds");
}

}  // namespace

std::string conferenceUuid(const std::string& meeting_id, std::uint64_t run) {
  // FNV-1a over "<id>#<run>", twice with different offsets: 128 stable bits.
  const std::string text = meeting_id + "#" + std::to_string(run);
  std::uint64_t a = 1469598103934665603ULL;
  std::uint64_t b = 1099511628211ULL * 7919ULL;
  for (char c : text) {
    a = (a ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    b = (b ^ static_cast<unsigned char>(c)) * 1469598103934665603ULL;
  }
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(a >> 32), static_cast<unsigned>((a >> 16) & 0xffff),
                static_cast<unsigned>(a & 0xffff), static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buffer;
}

struct Management::Impl {
  Impl(ManagementOptions opts, std::function<std::vector<ConferenceView>()> list,
       std::function<void()> notify)
      : options(std::move(opts)),
        conferences(std::move(list)),
        changed(std::move(notify)),
        rng(std::random_device{}()) {
    sender = std::thread([this] { sendLoop(); });
  }

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    queue_cv.notify_all();
    sender.join();
  }

  struct Token {
    WallClock::time_point expires;
  };

  ManagementOptions options;  // switches change under `mutex`
  const std::function<std::vector<ConferenceView>()> conferences;
  const std::function<void()> changed;

  mutable std::mutex mutex;
  std::map<std::string, Token> tokens;
  std::deque<std::string> token_order;  // the administrator's live tokens, oldest first
  std::vector<std::string> issued;
  ManagementCounters counters;
  std::vector<ManagementCall> calls;
  std::vector<MeetingRun> runs;
  std::vector<WebhookDelivery> deliveries;
  std::map<ManagementApi, ManagementRefusal> refusals;
  std::map<ManagementApi, std::deque<WallClock::time_point>> rate_windows;
  std::mt19937_64 rng;

  std::condition_variable queue_cv;
  std::deque<WebhookEvent> queue;
  bool stopping = false;
  std::thread sender;

  // ------------------------------------------------------------------------------------------
  // Requests
  // ------------------------------------------------------------------------------------------

  // Requires `mutex`. Counts the call against the API's window; returns the header value and
  // whether the call is over the limit.
  std::pair<std::string, bool> rateLimit(ManagementApi api, WallClock::time_point now) {
    auto& window = rate_windows[api];
    while (!window.empty() && window.front() + options.rate_window <= now) {
      window.pop_front();
    }
    const bool over = static_cast<int>(window.size()) >= options.rate_limit;
    if (!over) {
      window.push_back(now);
    }
    const int remain = std::max(0, options.rate_limit - static_cast<int>(window.size()));
    return {"remain:" + std::to_string(remain) + ",limit:" + std::to_string(options.rate_limit) +
                ",time:" + windowText(options.rate_window),
            over};
  }

  void record(ManagementApi api, int status, const std::string& error_code, std::int64_t offset,
              std::int64_t limit, std::size_t items) {
    ManagementCall call;
    call.api = api;
    call.status = status;
    call.error_code = error_code;
    call.offset = offset;
    call.limit = limit;
    call.items = items;
    call.at = WallClock::now();
    append(calls, std::move(call));
  }

  void handle(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
              const Poco::URI& uri) {
    const std::string& path = uri.getPath();
    const ManagementApi api = path == kLoginPath    ? ManagementApi::Login
                              : path == kOnlinePath ? ManagementApi::OnlineList
                              : path == kDetailPath ? ManagementApi::ConfDetail
                                                    : ManagementApi::WebinarList;
    std::string body;
    if (api == ManagementApi::Login) {
      std::istream& in = request.stream();
      char chunk[4096];
      while (body.size() <= kMaxRequestBytes && in) {
        in.read(chunk, sizeof chunk);
        body.append(chunk, static_cast<std::size_t>(in.gcount()));
      }
    }
    // The running meetings are read before `mutex` is taken (the reader takes the simulator's
    // lock, which is held while meetingStarted/meetingEnded take `mutex`).
    const std::vector<ConferenceView> running =
        api == ManagementApi::Login ? std::vector<ConferenceView>{} : conferences();

    int status = 200;
    std::string answer;
    std::string header;
    {
      std::lock_guard<std::mutex> lock(mutex);
      const auto now = WallClock::now();
      auto [rate_header, over] = rateLimit(api, now);
      header = std::move(rate_header);
      std::string code;
      std::int64_t offset = 0;
      std::int64_t limit = 0;
      std::size_t items = 0;
      auto refusal = refusals.find(api);
      if (api == ManagementApi::OnlineList) {
        ++counters.list_calls;
      }
      if (api == ManagementApi::ConfDetail) {
        ++counters.detail_calls;
      }
      if (api == ManagementApi::WebinarList) {
        ++counters.webinar_calls;
      }
      if (refusal != refusals.end()) {
        status = refusal->second.status;
        code = refusal->second.error_code;
        answer = errorBody(code, "REFUSED_BY_TEST");
        if (status == 429) {
          ++counters.rate_limited;
        }
        if (--refusal->second.count <= 0) {
          refusals.erase(refusal);
        }
      } else if (over) {
        status = 429;
        code = "MMC.100000429";
        answer = errorBody(code, "FLOW_CONTROL");
        ++counters.rate_limited;
      } else if (api == ManagementApi::Login) {
        std::tie(status, answer, code) = login(request, body, now);
      } else if (!validToken(request.get("X-Access-Token", ""), now)) {
        status = 401;
        code = "USG.000000004";
        answer = errorBody(code, "TOKEN_INVALID");
        ++counters.invalid_token;
      } else if (api == ManagementApi::ConfDetail) {
        std::tie(status, answer, code) = detail(queryParam(uri, "conferenceID"), running);
      } else {
        const auto asked_offset =
            number(queryParam(uri, "offset").empty() ? "0" : queryParam(uri, "offset"));
        const auto asked_limit =
            number(queryParam(uri, "limit").empty() ? "20" : queryParam(uri, "limit"));
        if (!asked_offset || !asked_limit || *asked_offset < 0 || *asked_limit < 1 ||
            *asked_limit > 500) {
          status = 400;
          code = "MMC.111000001";
          answer = errorBody(code, "PARAM_INVALID");
        } else {
          offset = *asked_offset;
          limit = *asked_limit;
          std::tie(answer, items) =
              api == ManagementApi::OnlineList
                  ? onlinePage(running, offset, limit, queryParam(uri, "queryAll") == "true")
                  : webinarPage(running, offset, limit);
        }
      }
      record(api, status, code, offset, limit, items);
    }
    changed();
    try {
      response.set("X-APIG-Ratelimit-Api", header);
      sendJson(response, status, answer);
    } catch (const Poco::Exception&) {
      // The client went away.
    }
  }

  using Reply = std::tuple<int, std::string, std::string>;  // status, body, error code

  // Requires `mutex`.
  Reply login(Poco::Net::HTTPServerRequest& request, const std::string& body,
              WallClock::time_point now) {
    const auto refuse = [this](int status, const char* code, const char* message) {
      ++counters.logins_refused;
      return Reply{status, errorBody(code, message), code};
    };
    if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_POST) {
      return refuse(405, "USG.000000400", "METHOD_NOT_ALLOWED");
    }
    Object::Ptr object;
    try {
      Poco::JSON::Parser parser;
      Poco::Dynamic::Var parsed = parser.parse(body);
      if (parsed.type() == typeid(Object::Ptr)) {
        object = parsed.extract<Object::Ptr>();
      }
    } catch (const Poco::Exception&) {
    }
    if (!object) {
      return refuse(400, "USG.000000400", "BODY_INVALID");
    }
    const std::string app_id = object->optValue<std::string>("appId", "");
    const std::string user_id = object->optValue<std::string>("userId", "");
    const std::string nonce = object->optValue<std::string>("nonce", "");
    std::int64_t expire_time = 0;
    try {
      expire_time = object->get("expireTime").convert<std::int64_t>();
    } catch (const Poco::Exception&) {
      return refuse(400, "USG.000000400", "EXPIRE_TIME_INVALID");
    }
    if (!object->has("clientType")) {
      return refuse(400, "USG.000000400", "CLIENT_TYPE_MISSING");
    }
    if (nonce.size() < 32 || nonce.size() > 64) {
      return refuse(400, "USG.000000400", "NONCE_INVALID");
    }
    if (!user_id.empty()) {
      return refuse(400, "USG.000000400", "ONLY_ADMIN_SIMULATED");
    }
    if (app_id != options.app_id) {
      return refuse(401, "USG.000000001", "APP_ID_INVALID");
    }
    const std::int64_t now_s = unixMs(now) / 1000;
    if (expire_time <= now_s) {
      return refuse(401, "USG.000000005", "SIGNATURE_EXPIRED");
    }
    const std::string header = Poco::trim(request.get("Authorization", ""));
    const std::string prefix = "hmac-sha256 signature=";
    if (header.size() <= prefix.size() || lower(header.substr(0, prefix.size())) != prefix) {
      return refuse(401, "USG.000000003", "SIGNATURE_MISSING");
    }
    const std::string expected =
        hmacHex(options.app_key,
                app_id + ":" + user_id + ":" + std::to_string(expire_time) + ":" + nonce, false);
    if (lower(header.substr(prefix.size())) != expected) {
      return refuse(401, "USG.000000003", "SIGNATURE_INVALID");
    }

    // The quota: a user holds at most token_quota live tokens; the oldest goes first.
    for (auto it = token_order.begin(); it != token_order.end();) {
      auto token = tokens.find(*it);
      if (token == tokens.end() || token->second.expires <= now) {
        if (token != tokens.end()) {
          tokens.erase(token);
        }
        it = token_order.erase(it);
      } else {
        ++it;
      }
    }
    while (!token_order.empty() && token_order.size() >= options.token_quota) {
      tokens.erase(token_order.front());
      token_order.pop_front();
      ++counters.tokens_evicted;
    }
    static constexpr const char* kHex = "0123456789abcdef";
    std::string token = "sim-at-";
    for (int i = 0; i < 48; ++i) {
      token += kHex[rng() % 16];
    }
    const auto expires = now + options.access_token_lifetime;
    tokens[token] = {expires};
    token_order.push_back(token);
    append(issued, token);
    ++counters.logins;

    Object::Ptr user = newObject();
    user->set("userId", std::string("admin"));
    user->set("name", options.admin_name);
    user->set("adminType", 2);
    user->set("corpId", std::string("hme-sim-corp"));
    Object::Ptr answer = newObject();
    answer->set("accessToken", token);
    answer->set("tokenType", 1);
    answer->set("validPeriod", static_cast<std::int64_t>(options.access_token_lifetime.count()));
    answer->set("expireTime", unixMs(expires) / 1000);
    answer->set("createTime", unixMs(now));
    answer->set("clientType", 72);
    answer->set("user", user);
    return {200, toText(answer), ""};
  }

  // Requires `mutex`.
  bool validToken(const std::string& token, WallClock::time_point now) const {
    auto found = tokens.find(token);
    return found != tokens.end() && found->second.expires > now;
  }

  // Requires `mutex`.
  bool chairVisible(const ConferenceView& conference) const {
    return conference.scheduler.empty() || !options.withhold_chair_for_others;
  }

  // Requires `mutex`.
  Object::Ptr conferenceInfo(const ConferenceView& conference, bool in_list) const {
    Object::Ptr o = newObject();
    o->set("conferenceID", conference.meeting_id);
    o->set("confUUID", conference.conf_uuid);
    o->set("subject", conference.subject);
    o->set("conferenceState", std::string("Created"));
    o->set("startTime", formatTime(conference.start_ms));
    o->set("userUUID",
           "sim-user-" + std::to_string(std::hash<std::string>{}(conference.scheduler.empty()
                                                                     ? options.admin_name
                                                                     : conference.scheduler) %
                                        100000));
    o->set("scheduserName",
           conference.scheduler.empty() ? options.admin_name : conference.scheduler);
    o->set("confMode", std::string("COMMON"));
    o->set("webinar", conference.webinar);
    o->set("vmrFlag", 0);
    o->set("onlineAttendeeAmount", static_cast<std::int64_t>(conference.participants));
    Array::Ptr entries = new Array;
    if (chairVisible(conference) && (!in_list || options.chair_password_in_list)) {
      Object::Ptr chair = newObject();
      chair->set("conferenceRole", std::string("chair"));
      chair->set("password", conference.host_password);
      entries->add(chair);
    }
    Object::Ptr general = newObject();
    general->set("conferenceRole", std::string("general"));
    general->set("password", conference.guest_password);
    entries->add(general);
    o->set("passwordEntry", entries);
    return o;
  }

  static std::vector<ConferenceView> sorted(std::vector<ConferenceView> list) {
    std::sort(list.begin(), list.end(), [](const ConferenceView& a, const ConferenceView& b) {
      return std::tie(a.start_ms, a.meeting_id) < std::tie(b.start_ms, b.meeting_id);
    });
    return list;
  }

  // Requires `mutex`.
  std::pair<std::string, std::size_t> onlinePage(const std::vector<ConferenceView>& running,
                                                 std::int64_t offset, std::int64_t limit,
                                                 bool query_all) const {
    std::vector<ConferenceView> listed;
    for (const auto& conference : sorted(running)) {
      if (conference.webinar) {
        continue;  // webinars are listed by the webinar API only
      }
      if (!query_all && !conference.scheduler.empty()) {
        continue;
      }
      listed.push_back(conference);
    }
    return page(listed, offset, limit,
                [this](const ConferenceView& c) { return conferenceInfo(c, true); });
  }

  // Requires `mutex`.
  std::pair<std::string, std::size_t> webinarPage(const std::vector<ConferenceView>& running,
                                                  std::int64_t offset, std::int64_t limit) const {
    std::vector<ConferenceView> listed;
    for (const auto& conference : sorted(running)) {
      if (conference.webinar) {
        listed.push_back(conference);
      }
    }
    return page(listed, offset, limit, [this](const ConferenceView& c) {
      Object::Ptr o = newObject();
      o->set("conferenceId", c.meeting_id);
      o->set("subject", c.subject);
      o->set("startTime", formatTime(c.start_ms));
      o->set("scheduserName", c.scheduler.empty() ? options.admin_name : c.scheduler);
      o->set("chairPasswd", c.host_password);
      o->set("guestPasswd", c.guest_password);
      o->set("audiencePasswd", c.guest_password + "A");
      return o;
    });
  }

  template <class Render>
  std::pair<std::string, std::size_t> page(const std::vector<ConferenceView>& listed,
                                           std::int64_t offset, std::int64_t limit,
                                           Render&& render) const {
    const auto size =
        std::min<std::int64_t>(limit, static_cast<std::int64_t>(options.max_page_size));
    Array::Ptr data = new Array;
    for (std::int64_t i = offset; i < offset + size && i < static_cast<std::int64_t>(listed.size());
         ++i) {
      data->add(render(listed[static_cast<std::size_t>(i)]));
    }
    Object::Ptr o = newObject();
    o->set("offset", offset);
    o->set("limit", limit);
    o->set("count", static_cast<std::int64_t>(listed.size()));
    o->set("data", data);
    return {toText(o), data->size()};
  }

  // Requires `mutex`.
  Reply detail(const std::string& meeting_id, const std::vector<ConferenceView>& running) const {
    for (const auto& conference : running) {
      if (conference.meeting_id != meeting_id) {
        continue;
      }
      Object::Ptr answer = newObject();
      Object::Ptr info = conferenceInfo(conference, false);
      info->set("role", conference.scheduler.empty() ? "chair" : "general");
      answer->set("conferenceData", info);
      Object::Ptr participants = newObject();
      participants->set("offset", 0);
      participants->set("limit", 20);
      participants->set("count", 0);
      participants->set("data", Array::Ptr(new Array));
      answer->set("data", participants);
      return {200, toText(answer), ""};
    }
    return {400, errorBody("MMC.111071000", "CONF_NOT_ONLINE"), "MMC.111071000"};
  }

  // ------------------------------------------------------------------------------------------
  // Webhooks
  // ------------------------------------------------------------------------------------------

  void enqueue(const std::string& event, const ConferenceView& conference) {
    if (options.webhook.url.empty()) {
      return;
    }
    WebhookEvent item;
    item.event = event;
    item.meeting_id = conference.meeting_id;
    item.conf_uuid = conference.conf_uuid;
    queue.push_back(std::move(item));
    queue_cv.notify_all();
  }

  void sendLoop() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      queue_cv.wait(lock, [this] { return stopping || !queue.empty(); });
      if (stopping) {
        return;
      }
      WebhookEvent event = std::move(queue.front());
      queue.pop_front();
      lock.unlock();
      deliver(event);
      lock.lock();
    }
  }

  // Builds the signed body. eventInfo is written with spaces after the colons on purpose: a
  // receiver that re-serializes it instead of using the raw text computes another signature.
  std::pair<std::string, std::string> buildBody(const WebhookEvent& event,
                                                const WebhookTarget& target) {
    const std::int64_t timestamp = unixMs(WallClock::now()) + event.clock_offset.count();
    std::string nonce;
    {
      std::lock_guard<std::mutex> lock(mutex);
      nonce = std::to_string(10000000 + rng() % 90000000);
    }
    const std::string event_info =
        "{\"event\": \"" + event.event + "\", \"timestamp\": " + std::to_string(timestamp) +
        ", \"payload\": {\"meetingInfo\": {\"meetingID\": \"" + event.meeting_id +
        "\", \"meetingUUID\": \"" + event.conf_uuid + "\", \"meetingCycleSubID\": \"\"}}}";
    const std::string signature =
        hmacHex(event.signing_key.value_or(target.subscriber_key),
                target.subscriber_id + std::to_string(timestamp) + nonce + event_info,
                event.uppercase_signature);
    const std::string body = "{\"appID\":\"" + target.subscriber_id +
                             "\",\"timestamp\":" + std::to_string(timestamp) + ",\"nonce\":\"" +
                             nonce + "\",\"signature\":\"" + signature +
                             "\",\"eventInfo\":" + event_info + "}";
    return {body, nonce};
  }

  WebhookDelivery deliver(const WebhookEvent& event) {
    WebhookTarget target;
    {
      std::lock_guard<std::mutex> lock(mutex);
      target = options.webhook;
    }
    auto [body, nonce] = buildBody(event, target);
    WebhookDelivery delivery = post(target, body);
    delivery.event = event.event;
    delivery.meeting_id = event.meeting_id;
    delivery.nonce = nonce;
    {
      std::lock_guard<std::mutex> lock(mutex);
      append(deliveries, delivery);
    }
    changed();
    return delivery;
  }

  static WebhookDelivery post(const WebhookTarget& target, const std::string& body) {
    WebhookDelivery delivery;
    delivery.at = WallClock::now();
    try {
      const Poco::URI uri(target.url);
      std::unique_ptr<Poco::Net::HTTPClientSession> session;
      if (uri.getScheme() == "https") {
        Poco::Net::Context::Params params;
        params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;
        params.caLocation = target.ca_file;
        params.loadDefaultCAs = target.ca_file.empty();
        Poco::Net::Context::Ptr context =
            new Poco::Net::Context(Poco::Net::Context::CLIENT_USE, params);
        session =
            std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), context);
      } else {
        session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
      }
      session->setTimeout(Poco::Timespan(5, 0));
      Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery(),
                                     Poco::Net::HTTPMessage::HTTP_1_1);
      request.setContentType("application/json; charset=UTF-8");
      request.setContentLength(static_cast<std::streamsize>(body.size()));
      session->sendRequest(request) << body;
      Poco::Net::HTTPResponse response;
      std::istream& in = session->receiveResponse(response);
      delivery.status = static_cast<int>(response.getStatus());
      delivery.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } catch (const Poco::Exception& e) {
      delivery.status = 0;
      delivery.body = e.displayText();
    }
    return delivery;
  }
};

Management::Management(ManagementOptions options,
                       std::function<std::vector<ConferenceView>()> conferences,
                       std::function<void()> changed)
    : impl_(
          std::make_unique<Impl>(std::move(options), std::move(conferences), std::move(changed))) {}

Management::~Management() = default;

bool Management::handles(const std::string& path) const {
  return impl_->options.enabled &&
         (path == kLoginPath || path == kOnlinePath || path == kDetailPath || path == kWebinarPath);
}

void Management::handle(Poco::Net::HTTPServerRequest& request,
                        Poco::Net::HTTPServerResponse& response, const Poco::URI& uri) {
  impl_->handle(request, response, uri);
}

void Management::meetingStarted(const ConferenceView& conference) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  append(impl_->runs,
         MeetingRun{conference.meeting_id, conference.conf_uuid, WallClock::now(), std::nullopt});
  impl_->enqueue("meeting.started", conference);
}

void Management::meetingEnded(const ConferenceView& conference) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  for (auto it = impl_->runs.rbegin(); it != impl_->runs.rend(); ++it) {
    if (it->meeting_id == conference.meeting_id && it->conf_uuid == conference.conf_uuid) {
      if (!it->ended) {
        it->ended = WallClock::now();
      }
      break;
    }
  }
  impl_->enqueue("meeting.end", conference);
}

void Management::setWithholdChairForOthers(bool withhold) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->options.withhold_chair_for_others = withhold;
}

void Management::setChairPasswordInList(bool in_list) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->options.chair_password_in_list = in_list;
}

void Management::refuseCalls(const ManagementRefusal& refusal) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->refusals[refusal.api] = refusal;
}

void Management::setRateLimit(int calls, std::chrono::milliseconds window) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->options.rate_limit = calls;
  impl_->options.rate_window = window;
  impl_->rate_windows.clear();
}

void Management::expireAccessTokens() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  const auto past = WallClock::now() - std::chrono::seconds(1);
  for (auto& [token, entry] : impl_->tokens) {
    entry.expires = past;
  }
}

void Management::setWebhookTarget(const WebhookTarget& target) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->options.webhook = target;
}

WebhookDelivery Management::sendWebhook(const WebhookEvent& event) { return impl_->deliver(event); }

WebhookDelivery Management::sendRawWebhook(const std::string& body) {
  WebhookTarget target;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    target = impl_->options.webhook;
  }
  WebhookDelivery delivery = Impl::post(target, body);
  delivery.event = "raw";
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    append(impl_->deliveries, delivery);
  }
  impl_->changed();
  return delivery;
}

ManagementCounters Management::counters() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  ManagementCounters counters = impl_->counters;
  counters.live_tokens = impl_->token_order.size();
  return counters;
}

std::vector<ManagementCall> Management::calls() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->calls;
}

std::vector<MeetingRun> Management::runs() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->runs;
}

std::vector<WebhookDelivery> Management::webhookDeliveries() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->deliveries;
}

std::vector<std::string> Management::issuedTokens() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->issued;
}

}  // namespace hme::simulator
