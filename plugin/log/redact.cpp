#include "plugin/log/redact.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

namespace hme::log {
namespace {

// Secrets ordered longest first, short ones dropped: the form the scanner wants.
std::vector<std::string_view> usableSecrets(const std::vector<std::string>& secrets) {
  std::vector<std::string_view> usable;
  for (const auto& s : secrets) {
    if (s.size() >= kMinSecretLength) {
      usable.emplace_back(s);
    }
  }
  std::stable_sort(usable.begin(), usable.end(),
                   [](std::string_view a, std::string_view b) { return a.size() > b.size(); });
  return usable;
}

std::string redactWith(std::string_view text, const std::vector<std::string_view>& secrets) {
  if (secrets.empty()) {
    return std::string(text);
  }
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    bool matched = false;
    for (std::string_view s : secrets) {
      if (text.compare(i, s.size(), s) == 0) {
        out.append(kRedacted);
        i += s.size();
        matched = true;
        break;
      }
    }
    if (!matched) {
      out.push_back(text[i++]);
    }
  }
  return out;
}

// The registry publishes an immutable snapshot so that logging threads only copy a shared_ptr
// under the lock instead of scanning while holding it.
struct Registry {
  std::mutex mutex;
  std::map<std::string, std::size_t> counts;
  std::shared_ptr<const std::vector<std::string>> secrets =
      std::make_shared<const std::vector<std::string>>();

  void publish() {
    std::vector<std::string> all;
    all.reserve(counts.size());
    for (const auto& [secret, count] : counts) {
      all.push_back(secret);
    }
    secrets = std::make_shared<const std::vector<std::string>>(std::move(all));
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

std::string redact(std::string_view text, const std::vector<std::string>& secrets) {
  return redactWith(text, usableSecrets(secrets));
}

std::string redact(std::string_view text) {
  std::shared_ptr<const std::vector<std::string>> secrets;
  {
    std::lock_guard lock(registry().mutex);
    secrets = registry().secrets;
  }
  return redact(text, *secrets);
}

void registerSecret(std::string secret) {
  if (secret.size() < kMinSecretLength) {
    return;
  }
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  if (r.counts[std::move(secret)]++ == 0) {
    r.publish();
  }
}

void unregisterSecret(const std::string& secret) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.counts.find(secret);
  if (it == r.counts.end()) {
    return;
  }
  if (--it->second == 0) {
    r.counts.erase(it);
    r.publish();
  }
}

}  // namespace hme::log
