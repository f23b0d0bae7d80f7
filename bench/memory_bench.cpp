// Memory benchmark (issue 6, 1d): resident bytes per tracked participant — the RSS growth of a
// MeetingStore holding 10k and 100k participants (1,000 per meeting), with and without network
// figures, divided by the participant count. Prints numbers; never passes or fails.

#include <malloc.h>

#include <cstdio>
#include <memory>

#include "bench/bench_util.h"
#include "bench/populate.h"
#include "metrics/store.h"

int main() {
  using namespace hme;
  std::printf("memory benchmark — %s\n", bench::machineDescription().c_str());
  std::printf("%-14s %-22s %14s %14s\n", "participants", "stored", "RSS delta MiB",
              "bytes/particip.");
  constexpr std::size_t kPerMeeting = 1000;
  for (const std::size_t total : {std::size_t{10000}, std::size_t{100000}}) {
    for (const bool net : {false, true}) {
      malloc_trim(0);
      const auto before = bench::rssBytes();
      auto store = std::make_unique<metrics::MeetingStore>();
      bench::populate(*store, total / kPerMeeting, kPerMeeting, net);
      malloc_trim(0);  // return the transient event buffers, keep only what the store holds
      const auto after = bench::rssBytes();
      const double delta = static_cast<double>(after) - static_cast<double>(before);
      std::printf("%-14zu %-22s %14.1f %14.0f\n", total,
                  net ? "record + net figures" : "participant record", delta / 1048576.0,
                  delta / static_cast<double>(total));
      store.reset();
    }
  }
  std::printf("RSS from /proc/self/status VmRSS; names are not kept (participant_names: false).\n");
  return 0;
}
