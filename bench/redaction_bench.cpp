// Cost of keeping secrets out of a log line and a status page, at 10 and at 5,000 meetings,
// BEFORE and AFTER secrets became a type:
//
//   BEFORE  every output was searched for every registered secret (3 per meeting: the host
//           password, the control token, the wsToken), longest first, once per secret per byte,
//           and the status page went through the same search. The code is kept below, only here,
//           as the baseline.
//   AFTER   log fields pass the token net (plugin/log/token_filter.h): one pass over the text
//           and a hash lookup per run of >= 16 token characters; the status page is not searched.
//
// Usage: redaction_bench [meetings...]   (default: 10 5000)

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench_util.h"
#include "plugin/log/log.h"
#include "plugin/log/token_filter.h"

namespace {

using hme::bench::nowSeconds;

// ---- BEFORE: the substring masking that was removed (plugin/log/redact.cpp), verbatim logic --

namespace before {

constexpr std::size_t kMinSecretLength = 4;
constexpr std::string_view kRedacted = "<redacted>";

std::vector<std::string_view> usableSecrets(const std::vector<std::string>& secrets) {
  std::vector<std::string_view> usable;
  for (const auto& s : secrets) {
    if (s.size() >= kMinSecretLength) usable.emplace_back(s);
  }
  std::stable_sort(usable.begin(), usable.end(),
                   [](std::string_view a, std::string_view b) { return a.size() > b.size(); });
  return usable;
}

std::string redact(std::string_view text, const std::vector<std::string>& secrets) {
  const auto usable = usableSecrets(secrets);
  if (usable.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    bool matched = false;
    for (std::string_view s : usable) {
      if (text.compare(i, s.size(), s) == 0) {
        out.append(kRedacted);
        i += s.size();
        matched = true;
        break;
      }
    }
    if (!matched) out.push_back(text[i++]);
  }
  return out;
}

}  // namespace before

struct LogLine {
  std::string msg;
  std::vector<std::pair<std::string, std::string>> fields;
};

// The most frequent warning line of a runner, with a realistic error text.
LogLine connectFailedLine(const std::string& meeting_id) {
  return {"connect failed",
          {{"meeting_id", meeting_id},
           {"stage", "control_token"},
           {"err", "HTTP 403 MMC.111072065: conference not found or authentication failed"}}};
}

// A status page shaped like Exporter::renderStatusPage: a header and one row per meeting.
std::string statusPage(const std::vector<std::string>& meeting_ids) {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Huawei Meeting "
      "Exporter</title></head><body>\n<h1>Huawei Meeting Exporter</h1>\n<table id=\"meetings\">"
      "<thead><tr><th>Meeting</th><th>Title</th><th>State</th><th>Up</th><th>Participants</th>"
      "<th>Last message</th><th>Message errors</th><th>Session</th></tr></thead><tbody>\n";
  for (const auto& id : meeting_ids) {
    html += "<tr data-meeting-id=\"" + id + "\"><td>" + id +
            "</td><td>Weekly project meeting</td><td class=\"state\">subscribed</td><td "
            "class=\"up\">1</td><td>12</td><td>3 s ago</td><td>0</td><td>live, subscribed 14 "
            "min ago, last heartbeat echo 2 s ago</td></tr>\n";
  }
  return html + "</tbody></table></body></html>\n";
}

std::string randomHex(std::mt19937_64& rng, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s.push_back(kHex[rng() % 16]);
  return s;
}

// Mean seconds per call of `fn`, repeated until `budget` seconds have passed (at least once).
template <class Fn>
double timePerCall(Fn&& fn, double budget = 0.5) {
  std::size_t calls = 0;
  const double start = nowSeconds();
  double elapsed = 0;
  do {
    fn();
    ++calls;
    elapsed = nowSeconds() - start;
  } while (elapsed < budget);
  return elapsed / static_cast<double>(calls);
}

std::string micros(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", seconds * 1e6);
  return buf;
}

volatile std::size_t g_sink = 0;  // keeps results alive

void run(std::size_t meetings) {
  std::mt19937_64 rng(meetings);
  std::vector<std::string> meeting_ids;
  std::vector<std::string> secrets;  // BEFORE's registry: 3 per meeting
  std::vector<hme::Secret> tokens;   // AFTER: the same secrets, as the runners register them
  for (std::size_t i = 0; i < meetings; ++i) {
    const std::string id = std::to_string(900000000 + rng() % 100000000);
    meeting_ids.push_back(id);
    for (const std::string& secret :
         {id.substr(3), "cnr" + randomHex(rng, 32), "ws" + randomHex(rng, 32)}) {
      secrets.push_back(secret);
      tokens.emplace_back(secret);
    }
  }
  for (const auto& token : tokens) hme::log::registerToken(token);

  const LogLine line = connectFailedLine(meeting_ids.front());
  const double line_before = timePerCall([&] {
    std::size_t n = before::redact(line.msg, secrets).size();
    for (const auto& [key, value] : line.fields) {
      n += before::redact(key, secrets).size() + before::redact(value, secrets).size();
    }
    g_sink = g_sink + n;
  });
  const double line_after = timePerCall([&] {
    std::size_t n = hme::log::withoutTokens(line.msg).size();
    for (const auto& [key, value] : line.fields) n += hme::log::withoutTokens(value).size();
    g_sink = g_sink + n;
  });
  hme::log::Logger logger;
  logger.setSink([](std::string_view text) { g_sink = g_sink + text.size(); });
  const std::vector<hme::log::Field> fields = {{"meeting_id", line.fields[0].second},
                                               {"stage", line.fields[1].second},
                                               {"err", line.fields[2].second}};
  const double whole_line_after =
      timePerCall([&] { logger.log(hme::log::Level::Warn, line.msg, fields); });

  const std::string page = statusPage(meeting_ids);
  const double page_before =
      timePerCall([&] { g_sink = g_sink + before::redact(page, secrets).size(); });
  const double page_net =
      timePerCall([&] { g_sink = g_sink + hme::log::withoutTokens(page).size(); });

  std::cout << "| " << meetings << " | " << secrets.size() << " | " << micros(line_before) << " | "
            << micros(line_after) << " | " << micros(whole_line_after) << " | " << page.size()
            << " | " << micros(page_before) << " | 0 (not searched) | " << micros(page_net)
            << " |\n";
  for (const auto& token : tokens) hme::log::unregisterToken(token);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::stoul(argv[i]));
  if (sizes.empty()) sizes = {10, 5000};
  std::cout << hme::bench::machineDescription() << "\n\n"
            << "Times in microseconds per call. BEFORE: substring masking over every registered "
               "secret; AFTER: the token net (log) and no masking (page).\n\n"
            << "| meetings | secrets | log line masking BEFORE | log line masking AFTER | whole "
               "log line AFTER (format + net) | status page bytes | page BEFORE | page AFTER | "
               "(token net over the page, not applied) |\n"
            << "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (std::size_t meetings : sizes) run(meetings);
  return 0;
}
