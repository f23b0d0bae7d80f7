#include "plugin/discovery/discoverer.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "plugin/log/log.h"
#include "plugin/log/rate_limiter.h"
#include "plugin/log/token_filter.h"

namespace hme::discovery {
namespace {

using SteadyClock = std::chrono::steady_clock;
using WallClock = std::chrono::system_clock;

// A pass pages through at most this many pages per list (100 000 meetings): a server that keeps
// reporting a larger count cannot hold the thread forever.
constexpr int kMaxPages = 200;
// Refresh the access token this long before it expires (at half its lifetime if shorter).
constexpr std::chrono::seconds kTokenRefreshMargin{600};

std::string describe(const transport::Failure& failure) {
  std::string text;
  if (failure.http_status != 0) {
    text = "HTTP " + std::to_string(failure.http_status);
  }
  if (!failure.error_code.empty()) {
    text += (text.empty() ? "" : " ") + failure.error_code;
  }
  if (text.empty()) {
    text = transport::toString(failure.error);
  }
  if (!failure.detail.empty() && failure.detail != text) {
    text += " (" + failure.detail + ")";
  }
  return text;
}

log::RateLimiter& webhookLogLimiter() {
  // Webhook requests are untrusted input: at most 5 lines a minute per result.
  static log::RateLimiter limiter(5, std::chrono::minutes(1));
  return limiter;
}

bool loginSettingsChanged(const config::Config& before, const config::Config& after) {
  return before.api != after.api || before.discovery->app_id != after.discovery->app_id ||
         before.discovery->app_key != after.discovery->app_key;
}

// The App key and the subscriber key join the logger's token net (plugin/log/token_filter.h).
void registerSecrets(const config::DiscoveryConfig& discovery) {
  log::registerToken(discovery.app_key);
  if (discovery.webhook) {
    log::registerToken(discovery.webhook->subscriber_key);
  }
}

void unregisterSecrets(const config::DiscoveryConfig& discovery) {
  log::unregisterToken(discovery.app_key);
  if (discovery.webhook) {
    log::unregisterToken(discovery.webhook->subscriber_key);
  }
}

}  // namespace

Discoverer::Discoverer(WatchSink sink) : sink_(std::move(sink)) {}

Discoverer::~Discoverer() {
  stop();
  std::lock_guard<std::mutex> lock(mutex_);
  log::unregisterToken(token_);
  if (current_ && current_->discovery) {
    unregisterSecrets(*current_->discovery);
  }
}

void Discoverer::apply(const config::Config& config) { apply(config, prepareClient(config)); }

std::shared_ptr<const ManagementClient> Discoverer::prepareClient(
    const config::Config& config) const {
  if (!config.discovery) {
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  const bool was_enabled = current_ && current_->discovery;
  if (was_enabled && settings_.client && current_->api == config.api) {
    return settings_.client;
  }
  return std::make_shared<const ManagementClient>(
      config.api.url, transport::TlsOptions{config.api.ca_file, config.api.insecure_skip_verify},
      config.api.timeout);
}

void Discoverer::apply(const config::Config& config,
                       std::shared_ptr<const ManagementClient> client) {
  if (!config.discovery) {
    stop();
    // The thread has ended: its state may be reset from here.
    planner_.reset();
    planner_generation_ = 0;
    dropToken();
    std::lock_guard<std::mutex> lock(mutex_);
    if (current_ && current_->discovery) {
      unregisterSecrets(*current_->discovery);
      log::info("discovery stopped");
    }
    current_.reset();
    status_ = DiscoveryStatus{};
    metrics_->setEnabled(false);
    return;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  const bool was_enabled = current_ && current_->discovery;
  registerSecrets(*config.discovery);
  if (was_enabled) {
    unregisterSecrets(*current_->discovery);
  }
  if (was_enabled && loginSettingsChanged(*current_, config)) {
    token_stale_ = true;
  }
  settings_.discovery = *config.discovery;
  settings_.static_meetings = config.meetings;
  settings_.client = std::move(client);
  ++settings_.generation;
  current_ = config;
  pacer_.setInterval(config.discovery->interval);
  pacer_.trigger();
  status_.enabled = true;
  metrics_->setEnabled(true);
  if (!thread_.joinable()) {
    stopping_ = false;
    pacer_ = Pacer(config.discovery->interval);
    thread_ = std::thread([this] { run(); });
    log::info("discovery started",
              {{"app_id", config.discovery->app_id},
               {"interval", config::formatDuration(config.discovery->interval)},
               {"webhook", config.discovery->webhook ? config.discovery->webhook->path : "off"}});
  }
  ++wakeups_;
  lock.unlock();
  wake_.notify_all();
}

void Discoverer::stop() {
  std::thread thread;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    ++wakeups_;
    thread = std::move(thread_);
  }
  wake_.notify_all();
  if (thread.joinable()) {
    thread.join();
  }
}

void Discoverer::trigger() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pacer_.trigger();
    ++wakeups_;
  }
  wake_.notify_all();
}

std::optional<std::string> Discoverer::webhookPath() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!current_ || !current_->discovery || !current_->discovery->webhook) {
    return std::nullopt;
  }
  return current_->discovery->webhook->path;
}

WebhookVerdict Discoverer::handleWebhook(std::string_view body) {
  std::optional<config::WebhookConfig> webhook;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (current_ && current_->discovery) {
      webhook = current_->discovery->webhook;
    }
  }
  if (!webhook) {
    WebhookVerdict verdict;
    verdict.status = 404;
    verdict.body = "{\"error\":\"no webhook receiver configured\"}";
    return verdict;
  }
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(WallClock::now().time_since_epoch())
          .count();
  WebhookVerdict verdict = evaluateWebhook(body, *webhook, now_ms);
  metrics_->countWebhook(verdict.event, verdict.result);
  if (verdict.result == "ok") {
    log::debug("webhook received", {{"event", verdict.event}, {"meeting_id", verdict.meeting_id}});
  } else {
    log::limited(
        webhookLogLimiter(), verdict.result, log::Level::Warn, "webhook refused",
        {{"event", verdict.event}, {"result", verdict.result}, {"status", verdict.status}});
  }
  if (verdict.trigger_pass) {
    trigger();
  }
  return verdict;
}

DiscoveryStatus Discoverer::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_;
}

void Discoverer::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    const auto due = pacer_.nextPass();
    if (SteadyClock::now() < due) {
      const std::uint64_t seen = wakeups_;
      wake_.wait_until(lock, due, [&] { return stopping_ || wakeups_ != seen; });
      continue;
    }
    pacer_.passStarted(SteadyClock::now());
    const Settings settings = settings_;
    if (token_stale_) {
      token_stale_ = false;
      lock.unlock();
      dropToken();
    } else {
      lock.unlock();
    }
    PassPacing pacing;
    try {
      pacing = runPass(settings);
    } catch (const std::exception& e) {
      // Nothing in a pass should throw; if it does, the next pass tries again.
      finishPass(std::string("internal error: ") + e.what());
    }
    lock.lock();
    pacer_.passDone(SteadyClock::now(), pacing);
    status_.rate_limited_passes = pacer_.rateLimitedPasses();
  }
}

void Discoverer::dropToken() {
  log::unregisterToken(token_);
  token_ = config::Secret();
  token_refresh_at_ = {};
}

bool Discoverer::ensureToken(const Settings& settings, PassPacing& pacing, std::string& error) {
  if (!token_.empty() && SteadyClock::now() < token_refresh_at_) {
    return true;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++status_.logins;
  }
  const auto started = SteadyClock::now();
  Answer<AccessToken> answer =
      settings.client->login(settings.discovery.app_id, settings.discovery.app_key);
  if (answer.rate_limit && answer.rate_limit->remain <= 0) {
    pacing.exhausted_window = answer.rate_limit->window;
  }
  if (!answer.result) {
    const transport::Failure& failure = answer.result.failure();
    if (failure.error == transport::TransportError::RateLimited) {
      pacing.rate_limited = true;
    }
    metrics_->countFailure(FailureStage::Login);
    error = "login: " + describe(failure);
    // A token that still works is kept until it expires; a failed refresh is retried next pass.
    return !token_.empty() && SteadyClock::now() < token_refresh_at_ + kTokenRefreshMargin;
  }
  AccessToken& granted = answer.result.value();
  dropToken();
  token_ = granted.token;
  log::registerToken(token_);
  const std::chrono::milliseconds lifetime = granted.lifetime;
  token_refresh_at_ =
      started + lifetime - std::min<std::chrono::milliseconds>(kTokenRefreshMargin, lifetime / 2);
  log::debug("discovery login", {{"app_id", settings.discovery.app_id},
                                 {"token_lifetime", config::formatDuration(lifetime)}});
  return true;
}

PassPacing Discoverer::runPass(const Settings& settings) {
  PassPacing pacing;
  metrics_->countRun();
  if (planner_generation_ != settings.generation) {
    planner_.configure(settings.discovery, settings.static_meetings);
    planner_generation_ = settings.generation;
  }
  const auto observe = [&pacing](const std::optional<RateLimit>& rate_limit) {
    if (rate_limit && rate_limit->remain <= 0) {
      pacing.exhausted_window =
          std::max(pacing.exhausted_window.value_or(rate_limit->window), rate_limit->window);
    }
  };
  std::string error;
  if (!ensureToken(settings, pacing, error)) {
    finishPass(error);
    return pacing;
  }

  // One call with a single re-login when the token turns out to be invalid (evicted, expired
  // early, revoked).
  const auto withToken = [&](auto&& call) {
    auto answer = call(token_);
    observe(answer.rate_limit);
    if (!answer.result && isTokenInvalid(answer.result.failure())) {
      dropToken();
      std::string login_error;
      if (ensureToken(settings, pacing, login_error)) {
        answer = call(token_);
        observe(answer.rate_limit);
      }
    }
    if (!answer.result && answer.result.failure().error == transport::TransportError::RateLimited) {
      pacing.rate_limited = true;
    }
    return answer;
  };

  const auto listAll = [&](bool webinars, std::vector<ListedMeeting>& out) -> bool {
    std::int64_t offset = 0;
    for (int page_number = 0; page_number < kMaxPages; ++page_number) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ++status_.list_calls;
      }
      auto answer = withToken([&](const config::Secret& token) {
        return webinars ? settings.client->webinarPage(token, offset, kMaxPageSize)
                        : settings.client->onlinePage(token, offset, kMaxPageSize);
      });
      if (!answer.result) {
        metrics_->countFailure(FailureStage::List);
        error = std::string(webinars ? "webinar list: " : "online list: ") +
                describe(answer.result.failure());
        return false;
      }
      Page& page = answer.result.value();
      // The server may return fewer items than asked for: advance by what came back.
      const auto received = static_cast<std::int64_t>(page.items.size() + page.dropped);
      offset += received;
      std::move(page.items.begin(), page.items.end(), std::back_inserter(out));
      if (received == 0 || offset >= page.count) {
        return true;
      }
    }
    log::warn("discovery: list truncated", {{"pages", kMaxPages}, {"webinars", webinars}});
    return true;
  };

  std::vector<ListedMeeting> online;
  std::vector<ListedMeeting> webinars;
  if (!listAll(false, online) ||
      (settings.discovery.include_webinars && !listAll(true, webinars))) {
    finishPass(error);
    return pacing;
  }

  const auto fetchDetail = [&](const std::string& meeting_id) {
    DetailAnswer result;
    if (pacing.rate_limited) {
      result.error = "rate limited";
      return result;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++status_.detail_calls;
    }
    auto answer = withToken([&](const config::Secret& token) {
      return settings.client->confDetail(token, meeting_id);
    });
    if (!answer.result) {
      metrics_->countFailure(FailureStage::Detail);
      result.error = describe(answer.result.failure());
      return result;
    }
    result.ok = true;
    result.chair_password = answer.result.value().chair_password;
    return result;
  };
  PassDecision decision = planner_.decide(online, webinars, fetchDetail);
  const std::vector<MeetingKey> ended = sink_(decision.watch);
  planner_.noteEnded(ended);

  const auto now = WallClock::now();
  metrics_->passSucceeded(decision.found, decision.skipped_by_reason, now);
  std::lock_guard<std::mutex> lock(mutex_);
  if (!status_.last_error.empty()) {
    log::info("discovery pass succeeded again");
  }
  for (const auto& skipped : decision.skipped) {
    const bool known = std::any_of(
        status_.skipped.begin(), status_.skipped.end(), [&](const SkippedMeeting& before) {
          return before.meeting_id == skipped.meeting_id && before.reason == skipped.reason;
        });
    // A missing password needs the operator; filters and the limit are their own choice.
    if (!known) {
      log::logger().log(
          skipped.reason == SkipReason::NoHostPassword ? log::Level::Info : log::Level::Debug,
          "discovered meeting skipped",
          {{"meeting_id", skipped.meeting_id},
           {"reason", toLabel(skipped.reason)},
           {"detail", skipped.detail}});
    }
  }
  status_.last_pass_at = now;
  status_.last_success_at = now;
  status_.found = decision.found;
  status_.last_error.clear();
  status_.watched.clear();
  for (const auto& watch : decision.watch) {
    if (std::find(ended.begin(), ended.end(), MeetingKey{watch.meeting_id, watch.conf_uuid}) !=
        ended.end()) {
      continue;
    }
    status_.watched.push_back({watch.meeting_id, watch.subject, watch.webinar, watch.source});
  }
  status_.skipped = std::move(decision.skipped);
  return pacing;
}

void Discoverer::finishPass(const std::string& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Logged when the error changes, so a long outage writes one line, not one per pass.
  if (error != status_.last_error) {
    log::warn("discovery pass failed", {{"err", error}});
  }
  status_.last_pass_at = WallClock::now();
  status_.last_error = error;
}

}  // namespace hme::discovery
