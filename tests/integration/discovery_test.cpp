// Enterprise mode end to end over real TLS on 127.0.0.1: the exporter discovers the simulator's
// meetings with an App ID, watches them as they start, drops them when they end, falls back to a
// static password, honours the gateway's rate limits and reacts to signed webhooks.

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "metrics/store.h"
#include "plugin/app/discovery_wiring.h"
#include "plugin/app/exporter.h"
#include "plugin/discovery/management_client.h"
#include "plugin/web/basic_auth.h"
#include "plugin/web/web_server.h"
#include "simulator/simulator.h"

namespace cfg = hme::config;
namespace sim = hme::simulator;
namespace app = hme::app;
namespace d = hme::discovery;
using namespace std::chrono_literals;
using WallClock = std::chrono::system_clock;

namespace {

const std::string kPki = std::string(HME_TESTDATA_DIR) + "/pki";
const std::string kAppId = "hme-test-app";
const std::string kAppKey = "app-key-0f3c9d2e7a";
const std::string kSubscriberId = "hme-test-subscriber";
const std::string kSubscriberKey = "subscriber-key-5b8e1a";

double seconds(WallClock::duration d) { return std::chrono::duration<double>(d).count(); }

// A simulator with the management side on, and an in-process exporter in enterprise mode whose
// config a test can change and reload.
class Enterprise {
 public:
  explicit Enterprise(const std::function<void(sim::SimulatorOptions&)>& tweak = {}) {
    sim::SimulatorOptions options;
    options.cert_file = kPki + "/server.pem";
    options.key_file = kPki + "/server.key";
    options.tick = 0ms;  // no scenario steps; starts and ends still happen on time
    options.seed = 7;
    options.management.enabled = true;
    options.management.app_id = kAppId;
    options.management.app_key = kAppKey;
    if (tweak) tweak(options);
    simulator = std::make_unique<sim::Simulator>(options);
    simulator->start();
  }

  ~Enterprise() {
    if (server) server->stop();
    exporter.reset();
    simulator->stop();
  }

  // The exporter's config: discovery every `interval`, ended meetings dropped at once.
  cfg::Config baseConfig(std::chrono::milliseconds interval) const {
    cfg::Config config;
    config.api.url = simulator->apiUrl();
    config.api.ca_file = kPki + "/ca.pem";
    config.api.timeout = 5s;
    config.session.backoff_initial = 200ms;
    config.session.backoff_max = 2s;
    config.metrics.ended_meeting_retention = 0ms;
    cfg::DiscoveryConfig discovery;
    discovery.app_id = kAppId;
    discovery.app_key = cfg::Secret(kAppKey);
    discovery.interval = interval;
    config.discovery = discovery;
    return config;
  }

  void start(cfg::Config config) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      config_ = std::move(config);
    }
    exporter = std::make_unique<app::Exporter>(
        [this] {
          std::lock_guard<std::mutex> lock(mutex_);
          return config_;
        },
        "test", "test");
    exporter->start();
  }

  // Serves the exporter's endpoints (webhook route included) on 127.0.0.1:0, behind basic auth
  // when `authenticator` is given.
  std::string serve(std::shared_ptr<hme::web::BasicAuthenticator> authenticator = nullptr) {
    hme::web::WebOptions options;
    options.listen_addresses = {"127.0.0.1:0"};
    if (authenticator) {
      options.web_config.basic_auth_users = {{"prometheus", "$2y$04$unused"}};
      options.authenticator = std::move(authenticator);
    }
    hme::web::WebHandlers handlers;
    handlers.render_metrics = [this] { return exporter->renderMetrics(); };
    handlers.render_status_html = [this] { return exporter->renderStatusPage(); };
    handlers.reload = [this] { return exporter->reload(); };
    handlers.ready = [this] { return exporter->readiness(); };
    app::addWebhookRoute(handlers, exporter->discovery());
    server = std::make_unique<hme::web::WebServer>(options, handlers);
    server->start();
    return server->boundAddresses().at(0);
  }

  std::pair<bool, std::string> reload(const std::function<void(cfg::Config&)>& change) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      change(config_);
    }
    return exporter->reload();
  }

  d::DiscoveryStatus status() { return exporter->discovery().discoverer().status(); }

  bool inStore(const std::string& meeting_id) const {
    const auto ids = exporter->store().meetingIds();
    return std::find(ids.begin(), ids.end(), meeting_id) != ids.end();
  }

  std::optional<hme::metrics::SessionState> sessionState(const std::string& meeting_id) const {
    for (const auto& summary : exporter->store().summaries()) {
      if (summary.meeting_id == meeting_id) return summary.session_state;
    }
    return std::nullopt;
  }

  // Control-token calls the simulator answered for `meeting_id`, in order.
  std::vector<WallClock::time_point> tokenCalls(const std::string& meeting_id) const {
    std::vector<WallClock::time_point> out;
    for (const auto& call : simulator->restCalls()) {
      if (call.kind == sim::RestCall::Kind::ControlToken && call.meeting_id == meeting_id) {
        out.push_back(call.at);
      }
    }
    return out;
  }

  std::vector<sim::ManagementCall> calls(sim::ManagementApi api) const {
    std::vector<sim::ManagementCall> out;
    for (const auto& call : simulator->management().calls()) {
      if (call.api == api) out.push_back(call);
    }
    return out;
  }

  bool waitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
    return simulator->waitFor(predicate, timeout);
  }

  std::unique_ptr<sim::Simulator> simulator;
  std::unique_ptr<app::Exporter> exporter;
  std::unique_ptr<hme::web::WebServer> server;

 private:
  std::mutex mutex_;
  cfg::Config config_;
};

sim::MeetingSpec spec(const std::string& id, const std::string& password) {
  sim::MeetingSpec s;
  s.meeting_id = id;
  s.host_password = password;
  s.title = "Meeting " + id;
  s.participants = 3;
  s.waiting = 0;
  s.lively = false;
  return s;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct HttpAnswer {
  int status = 0;
  std::string body;
};

HttpAnswer request(const std::string& address, const std::string& method, const std::string& path,
                   const std::string& body = "") {
  const auto colon = address.rfind(':');
  Poco::Net::HTTPClientSession session(
      address.substr(0, colon), static_cast<Poco::UInt16>(std::stoi(address.substr(colon + 1))));
  session.setTimeout(Poco::Timespan(5, 0));
  Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  req.setContentLength(static_cast<std::streamsize>(body.size()));
  session.sendRequest(req) << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  HttpAnswer answer;
  answer.status = static_cast<int>(response.getStatus());
  answer.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return answer;
}

}  // namespace

// Label own_process: ctest runs this suite in a process of its own (tests/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(discovery, *boost::unit_test::label("own_process"))

BOOST_AUTO_TEST_CASE(twenty_meetings_are_watched_within_one_interval_and_dropped_after_ending) {
  constexpr auto kInterval = 1000ms;
  // Pass overhead on top of the interval: the list calls, the supervisor starting the runner
  // and its first token call (TLS handshakes on a shared machine).
  constexpr double kSlack = 0.75;
  Enterprise e;
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    sim::MeetingSpec s = spec(std::to_string(900400000 + i), "host-" + std::to_string(i));
    s.started = false;
    // About one start a second, at every phase of the 1 s poll (so the worst case shows), each
    // running 2 to 5 s.
    s.start_delay = std::chrono::milliseconds(1000 + 1000 * i + (379 * i) % 1000);
    s.duration = std::chrono::milliseconds(2000 + (1237 * i) % 3000);
    s.webinar = i % 5 == 4;  // four of them come from the webinar list
    ids.push_back(s.meeting_id);
    e.simulator->addMeeting(s);
  }
  e.start(e.baseConfig(kInterval));

  // Observed by polling the exporter's store whenever the simulator changes (at least every
  // 50 ms): when each meeting left the store after its run ended.
  std::map<std::string, WallClock::time_point> dropped_at;
  const bool done = e.waitFor(
      [&] {
        const auto runs = e.simulator->management().runs();
        for (const auto& run : runs) {
          if (run.ended && dropped_at.count(run.meeting_id) == 0 && !e.inStore(run.meeting_id)) {
            dropped_at[run.meeting_id] = WallClock::now();
          }
        }
        return dropped_at.size() == ids.size();
      },
      40s);
  BOOST_TEST_REQUIRE(done, "dropped " << dropped_at.size() << " of 20");

  const auto runs = e.simulator->management().runs();
  BOOST_TEST_REQUIRE(runs.size() == 20u);
  double worst_watch = 0;
  double worst_drop = 0;
  for (const auto& run : runs) {
    BOOST_TEST_CONTEXT("meeting " << run.meeting_id) {
      const auto calls = e.tokenCalls(run.meeting_id);
      BOOST_TEST_REQUIRE(!calls.empty());
      const double watch = seconds(calls.front() - run.started);
      worst_watch = std::max(worst_watch, watch);
      BOOST_TEST(watch >= 0.0);
      BOOST_TEST(watch <= seconds(kInterval) + kSlack);
      // Really watched: the host password from the list opened the push channel.
      BOOST_TEST(e.simulator->observations(run.meeting_id).subscribes_accepted >= 1u);
      BOOST_TEST_REQUIRE(run.ended.has_value());
      const double drop = seconds(dropped_at.at(run.meeting_id) - *run.ended);
      worst_drop = std::max(worst_drop, drop);
      BOOST_TEST(drop <= seconds(kInterval) + kSlack + 0.05);  // + the 50 ms polling grain
      // Dropped, not retried: no token call after the runner was gone.
      BOOST_TEST(seconds(dropped_at.at(run.meeting_id) - calls.back()) > 0.0);
    }
  }
  BOOST_TEST_MESSAGE("20 meetings: worst start→watch " << worst_watch << " s, worst end→drop "
                                                       << worst_drop << " s");
  const auto counters = e.simulator->management().counters();
  BOOST_TEST(counters.logins == 1u);  // one token for the whole run
  BOOST_TEST(counters.detail_calls == 0u);
  BOOST_TEST(counters.invalid_token == 0u);
  BOOST_TEST(counters.rate_limited == 0u);
  const std::string metrics = e.exporter->renderMetrics();
  BOOST_TEST(
      contains(metrics, "huawei_meeting_exporter_discovery_failures_total{stage=\"list\"} 0"));
}

BOOST_AUTO_TEST_CASE(login_token_is_reused_across_polls_and_refreshed_before_expiry) {
  Enterprise e([](sim::SimulatorOptions& o) {
    o.management.access_token_lifetime = 4s;
    o.management.rate_limit = 100000;  // polls four times a second
  });
  e.simulator->addMeeting(spec("900500001", "pw-1"));
  e.start(e.baseConfig(250ms));
  BOOST_TEST_REQUIRE(
      e.waitFor([&] { return e.simulator->management().counters().list_calls >= 24; }, 20s));
  const auto counters = e.simulator->management().counters();
  // Refreshed at half of the 4 s lifetime: about one login per 8 passes (a login per poll
  // without the cache), never a stale token.
  BOOST_TEST(counters.logins >= 2u);
  BOOST_TEST(counters.logins * 3 <= counters.list_calls);
  BOOST_TEST(counters.invalid_token == 0u);
  BOOST_TEST(counters.logins_refused == 0u);
  BOOST_TEST(e.status().logins == counters.logins);
  BOOST_TEST_MESSAGE("token reuse: " << counters.logins << " logins for " << counters.list_calls
                                     << " list calls");

  // A token revoked behind the exporter's back costs one re-login, not a failed pass.
  const auto before = e.simulator->management().counters();
  e.simulator->management().expireAccessTokens();
  BOOST_TEST_REQUIRE(e.waitFor(
      [&] { return e.simulator->management().counters().list_calls >= before.list_calls + 4; },
      10s));
  const auto after = e.simulator->management().counters();
  BOOST_TEST(after.invalid_token >= 1u);
  BOOST_TEST(after.logins >= before.logins + 1);
  BOOST_TEST(contains(e.exporter->renderMetrics(),
                      "huawei_meeting_exporter_discovery_failures_total{stage=\"list\"} 0"));
}

BOOST_AUTO_TEST_CASE(meeting_without_a_host_password_is_skipped_then_picked_up_after_reload) {
  const std::string kId = "900600001";
  Enterprise e([](sim::SimulatorOptions& o) { o.management.withhold_chair_for_others = true; });
  sim::MeetingSpec other = spec(kId, "others-host-pw");
  other.scheduler = "Other User";
  other.title = "Board meeting";
  e.simulator->addMeeting(other);
  e.simulator->addMeeting(spec("900600002", "admins-pw"));  // the admin's own: watched
  e.start(e.baseConfig(500ms));

  BOOST_TEST_REQUIRE(e.waitFor(
      [&] {
        return e.simulator->management().counters().list_calls >= 5 &&
               e.sessionState("900600002") == hme::metrics::SessionState::Subscribed;
      },
      15s));
  auto status = e.status();
  BOOST_TEST_REQUIRE(status.skipped.size() == 1u);
  BOOST_TEST(status.skipped[0].meeting_id == kId);
  BOOST_TEST(d::toLabel(status.skipped[0].reason) == std::string("no_host_password"));
  BOOST_TEST(status.skipped[0].scheduler == "Other User");
  BOOST_TEST(!e.inStore(kId));
  BOOST_TEST(e.tokenCalls(kId).empty());
  // confDetail was asked once for this occurrence, not on every pass.
  BOOST_TEST(e.simulator->management().counters().detail_calls == 1u);
  std::string metrics = e.exporter->renderMetrics();
  BOOST_TEST(contains(
      metrics,
      "huawei_meeting_exporter_discovery_skipped_meetings{reason=\"no_host_password\"} 1"));
  BOOST_TEST(contains(metrics, "huawei_meeting_exporter_discovery_meetings 2"));
  const std::string page = e.exporter->renderStatusPage();
  BOOST_TEST(contains(page, "<tr data-meeting-id=\"" + kId + "\">"));
  BOOST_TEST(contains(page, "<td class=\"reason\">no_host_password</td>"));
  BOOST_TEST(contains(page, "Other User"));

  const auto reloaded = e.reload([&](cfg::Config& c) {
    c.meetings.push_back({kId, cfg::Secret("others-host-pw")});
  });
  BOOST_TEST_REQUIRE(reloaded.first, reloaded.second);
  BOOST_TEST_REQUIRE(e.waitFor(
      [&] {
        const auto s = e.status();
        return s.skipped.empty() && e.sessionState(kId) == hme::metrics::SessionState::Subscribed;
      },
      10s));
  status = e.status();
  const auto watched = std::find_if(status.watched.begin(), status.watched.end(),
                                    [&](const d::WatchedInfo& w) { return w.meeting_id == kId; });
  BOOST_TEST_REQUIRE((watched != status.watched.end()));
  BOOST_TEST(d::toLabel(watched->source) == std::string("static"));
  metrics = e.exporter->renderMetrics();
  BOOST_TEST(contains(
      metrics,
      "huawei_meeting_exporter_discovery_skipped_meetings{reason=\"no_host_password\"} 0"));
  BOOST_TEST(e.simulator->management().counters().detail_calls == 1u);

  // Nothing secret reaches the metrics or the status page.
  const std::string everything = metrics + e.exporter->renderStatusPage();
  std::vector<std::string> secrets = e.simulator->secrets();
  for (const auto& token : e.simulator->management().issuedTokens()) secrets.push_back(token);
  secrets.push_back(kAppKey);
  for (const auto& secret : secrets) {
    BOOST_TEST(!contains(everything, secret), "leaked a secret");
  }
}

BOOST_AUTO_TEST_CASE(rate_limiting_slows_the_poll_down) {
  constexpr auto kInterval = 1000ms;
  Enterprise e;
  e.simulator->addMeeting(spec("900700001", "pw"));
  e.start(e.baseConfig(kInterval));
  BOOST_TEST_REQUIRE(
      e.waitFor([&] { return e.calls(sim::ManagementApi::OnlineList).size() >= 2; }, 10s));

  // One 429 with MMC.100000429: the next list call comes two intervals later, not one.
  e.simulator->management().refuseCalls({sim::ManagementApi::OnlineList, 429, "MMC.100000429", 1});
  std::size_t refused_index = 0;
  BOOST_TEST_REQUIRE(e.waitFor(
      [&] {
        const auto calls = e.calls(sim::ManagementApi::OnlineList);
        for (std::size_t i = 0; i + 2 < calls.size(); ++i) {
          if (calls[i].status == 429) {
            refused_index = i;
            return true;
          }
        }
        return false;
      },
      15s));
  const auto calls = e.calls(sim::ManagementApi::OnlineList);
  const double backoff = seconds(calls[refused_index + 1].at - calls[refused_index].at);
  const double recovered = seconds(calls[refused_index + 2].at - calls[refused_index + 1].at);
  BOOST_TEST_MESSAGE("after 429: next list call " << backoff << " s later, then " << recovered
                                                  << " s");
  BOOST_TEST(backoff >= 1.9);   // 2 × interval, measured from the refused pass's end
  BOOST_TEST(recovered < 1.5);  // a clean pass resets the backoff
  BOOST_TEST(contains(e.exporter->renderMetrics(),
                      "huawei_meeting_exporter_discovery_failures_total{stage=\"list\"} 1"));

  // remain:0 in X-APIG-Ratelimit-Api: the exporter waits the window out and is never refused.
  const std::size_t limited_before = e.simulator->management().counters().rate_limited;
  e.simulator->management().setRateLimit(3, 3000ms);
  const std::size_t from = e.calls(sim::ManagementApi::OnlineList).size();
  BOOST_TEST_REQUIRE(
      e.waitFor([&] { return e.calls(sim::ManagementApi::OnlineList).size() >= from + 7; }, 20s));
  BOOST_TEST(e.simulator->management().counters().rate_limited == limited_before);
  const auto later = e.calls(sim::ManagementApi::OnlineList);
  double longest_gap = 0;
  for (std::size_t i = from + 1; i < later.size(); ++i) {
    longest_gap = std::max(longest_gap, seconds(later[i].at - later[i - 1].at));
  }
  BOOST_TEST(longest_gap >= 2.9);  // held for the 3 s window after remain:0
}

BOOST_AUTO_TEST_CASE(webhook_starts_a_watch_within_two_seconds_and_checks_signatures) {
  const std::string kId = "900800001";
  Enterprise e;
  sim::MeetingSpec s = spec(kId, "hook-pw");
  s.started = false;
  e.simulator->addMeeting(s);
  cfg::Config config = e.baseConfig(60s);  // polling alone would take up to a minute
  config.discovery->webhook =
      cfg::WebhookConfig{"/hooks/huawei", kSubscriberId, cfg::Secret(kSubscriberKey)};
  e.start(config);
  const std::string address = e.serve();
  e.simulator->management().setWebhookTarget(
      {"http://" + address + "/hooks/huawei", kSubscriberId, kSubscriberKey, ""});
  BOOST_TEST_REQUIRE(e.waitFor([&] { return e.status().last_success_at.has_value(); }, 10s));

  // meeting.started → an immediate pass → the session starts.
  BOOST_TEST_REQUIRE(e.simulator->startMeeting(kId));
  BOOST_TEST_REQUIRE(e.waitFor([&] { return !e.tokenCalls(kId).empty(); }, 5s));
  const auto runs = e.simulator->management().runs();
  BOOST_TEST_REQUIRE(runs.size() == 1u);
  const double delay = seconds(e.tokenCalls(kId).front() - runs[0].started);
  BOOST_TEST_MESSAGE("webhook-driven start: first token call " << delay << " s after the start");
  BOOST_TEST(delay <= 2.0);
  BOOST_TEST_REQUIRE(
      e.waitFor([&] { return e.simulator->management().webhookDeliveries().size() == 1; }, 5s));
  BOOST_TEST(e.simulator->management().webhookDeliveries()[0].status == 200);

  // meeting.end → dropped without waiting for the next regular pass.
  BOOST_TEST_REQUIRE(e.simulator->endMeeting(kId));
  BOOST_TEST_REQUIRE(e.waitFor([&] { return !e.inStore(kId); }, 2500ms));

  auto& management = e.simulator->management();
  sim::WebhookEvent verify;
  verify.event = "meeting.verify";
  const auto verified = management.sendWebhook(verify);
  BOOST_TEST(verified.status == 200);
  BOOST_TEST(verified.body ==
             "{\"event\":\"meeting.verify\",\"nonce\":\"" + verified.nonce + "\"}");

  sim::WebhookEvent upper;
  upper.event = "meeting.join";
  upper.meeting_id = kId;
  upper.uppercase_signature = true;
  BOOST_TEST(management.sendWebhook(upper).status == 200);

  sim::WebhookEvent forged = upper;
  forged.uppercase_signature = false;
  forged.signing_key = "not-the-subscriber-key";
  BOOST_TEST(management.sendWebhook(forged).status == 401);

  sim::WebhookEvent stale = upper;
  stale.clock_offset = -6min;
  BOOST_TEST(management.sendWebhook(stale).status == 401);

  BOOST_TEST(management.sendRawWebhook("{\"appID\":").status == 400);
  BOOST_TEST(request(address, "GET", "/hooks/huawei").status == 405);
  BOOST_TEST(request(address, "POST", "/hooks/huawei", std::string(70 * 1024, ' ')).status == 413);
  BOOST_TEST(request(address, "POST", "/hooks/other", "{}").status == 404);

  const std::string metrics = e.exporter->renderMetrics();
  for (const char* line : {
           "huawei_meeting_exporter_webhook_requests_total{event=\"meeting.started\",result=\"ok\"}"
           " 1",
           "huawei_meeting_exporter_webhook_requests_total{event=\"meeting.end\",result=\"ok\"} 1",
           "huawei_meeting_exporter_webhook_requests_total{event=\"meeting.verify\",result=\"ok\"} "
           "1",
           "huawei_meeting_exporter_webhook_requests_total{event=\"meeting.join\",result=\"ok\"} 1",
           "huawei_meeting_exporter_webhook_requests_total{event=\"meeting.join\",result="
           "\"bad_signature\"} 1",
           "huawei_meeting_exporter_webhook_requests_total{event=\"meeting.join\",result=\"stale\"}"
           " 1",
           "huawei_meeting_exporter_webhook_requests_total{event=\"unknown\",result=\"invalid\"} 1",
       }) {
    BOOST_TEST(contains(metrics, line), line);
  }

  // Without a webhook section the path is not served at all.
  BOOST_TEST_REQUIRE(e.reload([](cfg::Config& c) { c.discovery->webhook.reset(); }).first);
  BOOST_TEST(management.sendWebhook(upper).status == 404);
}

BOOST_AUTO_TEST_CASE(webhook_path_is_not_behind_basic_auth) {
  // Huawei cannot send basic auth: the signature is the webhook path's only authentication.
  Enterprise e;
  cfg::Config config = e.baseConfig(60s);
  config.discovery->webhook =
      cfg::WebhookConfig{"/hooks/huawei", kSubscriberId, cfg::Secret(kSubscriberKey)};
  e.start(config);
  const std::string address = e.serve(std::make_shared<hme::web::BasicAuthenticator>(
      std::map<std::string, std::string>{{"prometheus", "$2y$04$unused"}},
      [](std::string_view, const std::string&) { return false; }));
  e.simulator->management().setWebhookTarget(
      {"http://" + address + "/hooks/huawei", kSubscriberId, kSubscriberKey, ""});
  BOOST_TEST(request(address, "GET", "/metrics").status == 401);  // everything else is guarded
  sim::WebhookEvent verify;
  verify.event = "meeting.verify";
  BOOST_TEST(e.simulator->management().sendWebhook(verify).status == 200);
  sim::WebhookEvent forged = verify;
  forged.signing_key = "not-the-subscriber-key";
  BOOST_TEST(e.simulator->management().sendWebhook(forged).status == 401);
}

BOOST_AUTO_TEST_CASE(a_new_occurrence_of_a_meeting_is_watched_afresh) {
  const std::string kId = "900850001";
  Enterprise e;
  sim::MeetingSpec s = spec(kId, "room-pw");
  s.duration = 1500ms;  // a meeting room used twice: 1.5 s, a 1.5 s pause, 1.5 s again
  s.restart_after = 1500ms;
  e.simulator->addMeeting(s);
  e.start(e.baseConfig(250ms));
  std::optional<WallClock::time_point> gone_between;
  BOOST_TEST_REQUIRE(e.waitFor(
      [&] {
        const auto runs = e.simulator->management().runs();
        if (runs.size() == 1 && runs[0].ended && !e.inStore(kId) && !gone_between) {
          gone_between = WallClock::now();
        }
        return runs.size() == 2 && runs[1].ended.has_value();
      },
      15s));
  const auto runs = e.simulator->management().runs();
  BOOST_TEST(runs[0].conf_uuid != runs[1].conf_uuid);
  BOOST_TEST(gone_between.has_value());  // dropped after the first run ...
  const auto calls = e.tokenCalls(kId);
  const auto in_run = [&](const sim::MeetingRun& run) {
    return std::count_if(calls.begin(), calls.end(), [&](WallClock::time_point at) {
      return at >= run.started && at <= *run.ended;
    });
  };
  BOOST_TEST(in_run(runs[0]) >= 1);  // ... and watched in both runs
  BOOST_TEST(in_run(runs[1]) >= 1);
  // No token call between the runs: a dropped occurrence is not retried.
  BOOST_TEST(std::none_of(calls.begin(), calls.end(), [&](WallClock::time_point at) {
    return at > *gone_between && at < runs[1].started;
  }));
}

BOOST_AUTO_TEST_CASE(pages_through_the_list_and_the_token_quota_evicts_the_oldest) {
  Enterprise e([](sim::SimulatorOptions& o) { o.management.max_page_size = 2; });
  for (int i = 0; i < 5; ++i) e.simulator->addMeeting(spec(std::to_string(900900000 + i), "pw"));
  e.start(e.baseConfig(30s));
  BOOST_TEST_REQUIRE(e.waitFor([&] { return e.status().watched.size() == 5; }, 10s));
  // One pass: offsets 0, 2, 4 although 500 were asked for each time.
  const auto calls = e.calls(sim::ManagementApi::OnlineList);
  BOOST_TEST_REQUIRE(calls.size() >= 3u);
  BOOST_TEST(calls[0].offset == 0);
  BOOST_TEST(calls[0].limit == 500);
  BOOST_TEST(calls[0].items == 2u);
  BOOST_TEST(calls[1].offset == 2);
  BOOST_TEST(calls[2].offset == 4);
  BOOST_TEST(calls[2].items == 1u);

  // The client against the quota of 64 live tokens per user.
  const d::ManagementClient client(e.simulator->apiUrl(), {kPki + "/ca.pem", false}, 5s);
  auto first = client.login(kAppId, cfg::Secret(kAppKey));
  BOOST_TEST_REQUIRE(first.result.ok());
  BOOST_TEST_REQUIRE(first.rate_limit.has_value());
  BOOST_TEST(first.rate_limit->limit == 100);
  BOOST_TEST(client.onlinePage(first.result.value().token, 0, 500).result.ok());
  for (int i = 0; i < 64; ++i)
    BOOST_TEST_REQUIRE(client.login(kAppId, cfg::Secret(kAppKey)).result.ok());
  const auto evicted = client.onlinePage(first.result.value().token, 0, 500);
  BOOST_TEST_REQUIRE(!evicted.result.ok());
  BOOST_TEST(d::isTokenInvalid(evicted.result.failure()));
  const auto counters = e.simulator->management().counters();
  BOOST_TEST(counters.live_tokens == 64u);
  BOOST_TEST(counters.tokens_evicted >= 2u);  // the exporter's own token went too
  const auto wrong = client.login(kAppId, cfg::Secret("wrong-key"));
  BOOST_TEST_REQUIRE(!wrong.result.ok());
  BOOST_TEST(wrong.result.failure().http_status == 401);
  BOOST_TEST(!contains(wrong.result.failure().detail, "wrong-key"));
  BOOST_TEST(e.simulator->management().counters().logins_refused == 1u);
}

BOOST_AUTO_TEST_CASE(cost_of_watching_100_meetings_compressed) {
  // 60 passes stand for half an hour at the default 30 s interval. The chair password is only
  // in confDetail here, the worst case for detail calls.
  constexpr int kPasses = 60;
  Enterprise e([](sim::SimulatorOptions& o) {
    o.management.chair_password_in_list = false;
    o.management.rate_limit = 100000;  // compressed time: five passes a second
  });
  for (int i = 0; i < 100; ++i) {
    sim::MeetingSpec s = spec(std::to_string(901000000 + i), "pw-" + std::to_string(i));
    s.webinar = i % 10 == 9;
    e.simulator->addMeeting(s);
  }
  e.start(e.baseConfig(200ms));
  // About 15 s normally; the bound leaves room for sanitizer builds.
  BOOST_TEST_REQUIRE(
      e.waitFor([&] { return e.simulator->management().counters().list_calls >= kPasses; }, 180s));
  const auto counters = e.simulator->management().counters();
  const auto status = e.status();
  BOOST_TEST_MESSAGE("100 meetings, " << counters.list_calls << " passes: " << counters.logins
                                      << " logins, " << counters.list_calls << " online-list + "
                                      << counters.webinar_calls << " webinar-list calls, "
                                      << counters.detail_calls << " detail calls");
  BOOST_TEST(counters.logins == 1u);
  BOOST_TEST(counters.detail_calls == 90u);  // once per meeting; webinars carry chairPasswd
  BOOST_TEST(counters.webinar_calls + 1 >= counters.list_calls);
  BOOST_TEST(counters.webinar_calls <= counters.list_calls);
  BOOST_TEST(status.watched.size() == 100u);
  BOOST_TEST(counters.rate_limited == 0u);
}

BOOST_AUTO_TEST_CASE(a_meeting_keeps_its_one_session_when_its_source_switches) {
  const std::string kOthers = "900950001";  // discovery has no password for it
  const std::string kOwn = "900950002";     // discovery lists its chair password
  Enterprise e([](sim::SimulatorOptions& o) { o.management.withhold_chair_for_others = true; });
  sim::MeetingSpec others = spec(kOthers, "others-host-pw");
  others.scheduler = "Other User";
  e.simulator->addMeeting(others);
  e.simulator->addMeeting(spec(kOwn, "own-host-pw"));
  cfg::Config config = e.baseConfig(300ms);
  config.meetings.push_back({kOwn, cfg::Secret("own-host-pw")});  // static and discovered
  e.start(config);
  const auto subscribed = [&](const std::string& id) {
    return e.sessionState(id) == hme::metrics::SessionState::Subscribed;
  };
  const auto passes = [&] { return e.simulator->management().counters().list_calls; };
  // Waits for `count` more discovery passes, so that each one could have restarted a session.
  const auto waitPasses = [&](std::size_t count) {
    const std::size_t from = passes();
    return e.waitFor([&] { return passes() >= from + count; }, 10s);
  };
  const auto connections = [&](const std::string& id) {
    return e.simulator->observations(id).connections_accepted;
  };
  BOOST_TEST_REQUIRE(
      e.waitFor([&] { return subscribed(kOwn) && e.status().skipped.size() == 1; }, 10s));
  BOOST_TEST_REQUIRE(waitPasses(3));
  BOOST_TEST(connections(kOwn) == 1u);
  BOOST_TEST(connections(kOthers) == 0u);

  // Skipped by discovery, then configured by a reload: discovery now lists it with the static
  // password, and the session the reload started goes on.
  BOOST_TEST_REQUIRE(e.reload([&](cfg::Config& c) {
                        c.meetings.push_back({kOthers, cfg::Secret("others-host-pw")});
                      }).first);
  BOOST_TEST_REQUIRE(
      e.waitFor([&] { return subscribed(kOthers) && e.status().skipped.empty(); }, 10s));
  BOOST_TEST_REQUIRE(waitPasses(4));
  BOOST_TEST(subscribed(kOthers));
  BOOST_TEST(connections(kOthers) == 1u);
  BOOST_TEST(e.tokenCalls(kOthers).size() == 1u);

  // Configured and discovered, then discovered only: the same session.
  BOOST_TEST_REQUIRE(e.reload([&](cfg::Config& c) {
                        c.meetings.erase(c.meetings.begin());  // kOwn
                      }).first);
  BOOST_TEST_REQUIRE(waitPasses(4));
  // And back: configured again while discovery lists it.
  BOOST_TEST_REQUIRE(e.reload([&](cfg::Config& c) {
                        c.meetings.push_back({kOwn, cfg::Secret("own-host-pw")});
                      }).first);
  BOOST_TEST_REQUIRE(waitPasses(4));
  BOOST_TEST(subscribed(kOwn));
  BOOST_TEST(connections(kOwn) == 1u);
  BOOST_TEST(e.tokenCalls(kOwn).size() == 1u);
  BOOST_TEST(connections(kOthers) == 1u);
  BOOST_TEST_MESSAGE("connections accepted across the switches: " << connections(kOwn) << " and "
                                                                  << connections(kOthers));
}

BOOST_AUTO_TEST_SUITE_END()
