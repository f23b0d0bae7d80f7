// huawei_meeting_simulator: runs the simulated Huawei Cloud Meeting server until SIGINT/SIGTERM,
// for manual testing and benchmarks.

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

#include "Poco/Exception.h"
#include "simulator/pki.h"
#include "simulator/simulator.h"

namespace {

constexpr const char* kUsage =
    R"(usage: huawei_meeting_simulator [flags]  (--flag VALUE or --flag=VALUE)
  --host ADDR            bind address (default 127.0.0.1)
  --port N               port (default 0: any free port)
  --cert FILE --key FILE server certificate and key (PEM); without them a throwaway CA and
                         certificate are generated into --pki-dir
  --pki-dir DIR          where to write generated TLS files (default: a new /tmp directory)
  --meetings N           number of meetings (default 3)
  --first-id ID          first meeting ID; the others count up (default 900000001)
  --password PW          host password of every meeting (default hme-demo)
  --participants N       participants per meeting at start (default 6; a full ParticipantsNotify
                         carries ~500 bytes per participant, 3000 make a 1.5 MB snapshot)
  --max-participants N   upper bound the scenario keeps to (default 30)
  --seed N               scenario seed (default 1)
  --speed X              scenario steps per second (default 1; 0 = frozen)
  --duration SECONDS     meetings end after this long (default 0 = never)
  --silence-timeout S    close connections without a client frame for S seconds (default 180)
  --max-connections N    concurrent WebSocket connections (default 512)
  --push-server-name NAME
                         profile "raw-IP push URL with a DNS-only certificate": the generated
                         certificate names only localhost and NAME (no IP address), the api url
                         uses localhost and the wsURL stays the raw IP of --host; the exporter
                         then needs api.websocket_tls.server_name: NAME (not with --cert)
  --trickle-ms N         profile "trickling REST body": the token endpoints send their headers at
                         once, then the body one byte every N ms (default 0: all at once)
  --app-key KEY          enable the enterprise management API (App ID login, meeting lists)
  --app-id ID            its App ID (default hme-sim-app)
  --scheduler NAME       meetings are scheduled by NAME instead of the administrator
  --withhold-chair 0|1   hide the host password of meetings other users scheduled (default 0)
  --profile NAME         play a push server that deviates from the documented one; repeatable:
                           no-subscribe-answer  never answers Subscribe (pushes still start)
                           no-heartbeat-echo    never echoes HeartBeat (PING still answered)
                           stalled-fragment     after the snapshots, opens a fragmented message,
                                                never finishes it and only sends PINGs
  --stall-ping-ms N      PING interval of stalled-fragment (default 1000)
)";

/// A bad command line: reported with the usage text.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void usageError(const std::string& message) { throw UsageError(message); }

long long number(const std::string& flag, const std::string& value) {
  try {
    std::size_t used = 0;
    const long long n = std::stoll(value, &used);
    if (used != value.size() || n < 0) {
      throw std::invalid_argument(value);
    }
    return n;
  } catch (const std::exception&) {
    usageError(flag + ": not a non-negative integer: " + value);
  }
}

}  // namespace

int run(int argc, char** argv) {
  using namespace hme::simulator;
  SimulatorOptions options;
  std::string pki_dir;
  long long meetings = 3;
  long long first_id = 900000001;
  std::string password = "hme-demo";
  MeetingSpec base;
  double speed = 1.0;
  std::string push_server_name;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      return 0;
    }
    std::string value;
    if (const auto equals = flag.find('=');
        flag.rfind("--", 0) == 0 && equals != std::string::npos) {
      value = flag.substr(equals + 1);
      flag.resize(equals);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      usageError(flag + ": missing value (or unknown flag)");
    }
    if (flag == "--host") {
      options.host = value;
    } else if (flag == "--port") {
      const long long port = number(flag, value);
      if (port > 65535) {
        usageError("--port: out of range");
      }
      options.port = static_cast<std::uint16_t>(port);
    } else if (flag == "--cert") {
      options.cert_file = value;
    } else if (flag == "--key") {
      options.key_file = value;
    } else if (flag == "--pki-dir") {
      pki_dir = value;
    } else if (flag == "--meetings") {
      meetings = number(flag, value);
    } else if (flag == "--first-id") {
      first_id = number(flag, value);
    } else if (flag == "--password") {
      password = value;
    } else if (flag == "--participants") {
      base.participants = static_cast<int>(number(flag, value));
    } else if (flag == "--max-participants") {
      base.max_participants = static_cast<int>(number(flag, value));
    } else if (flag == "--seed") {
      options.seed = static_cast<std::uint64_t>(number(flag, value));
    } else if (flag == "--speed") {
      try {
        speed = std::stod(value);
      } catch (const std::exception&) {
        usageError("--speed: not a number: " + value);
      }
      if (!(speed >= 0)) {
        usageError("--speed: must be >= 0");
      }
    } else if (flag == "--duration") {
      base.duration = std::chrono::seconds(number(flag, value));
    } else if (flag == "--silence-timeout") {
      options.silence_timeout = std::chrono::seconds(number(flag, value));
    } else if (flag == "--max-connections") {
      options.max_connections = static_cast<int>(number(flag, value));
    } else if (flag == "--push-server-name") {
      if (value.empty()) {
        usageError("--push-server-name: must not be empty");
      }
      push_server_name = value;
    } else if (flag == "--trickle-ms") {
      options.rest_body_trickle = std::chrono::milliseconds(number(flag, value));
    } else if (flag == "--app-key") {
      options.management.enabled = true;
      options.management.app_key = value;
    } else if (flag == "--app-id") {
      options.management.app_id = value;
    } else if (flag == "--scheduler") {
      base.scheduler = value;
    } else if (flag == "--withhold-chair") {
      options.management.withhold_chair_for_others = number(flag, value) != 0;
    } else if (flag == "--profile") {
      if (value == "no-subscribe-answer") {
        options.profile.answer_subscribe = false;
      } else if (value == "no-heartbeat-echo") {
        options.profile.echo_heartbeat = false;
      } else if (value == "stalled-fragment") {
        options.profile.stalled_fragment = true;
      } else {
        usageError("--profile: unknown profile " + value);
      }
    } else if (flag == "--stall-ping-ms") {
      const long long ms = number(flag, value);
      if (ms == 0) {
        usageError("--stall-ping-ms: must be > 0");
      }
      options.profile.stall_ping_interval = std::chrono::milliseconds(ms);
    } else {
      usageError("unknown flag " + flag);
    }
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    usageError("--cert and --key go together");
  }
  if (!push_server_name.empty() && !options.cert_file.empty()) {
    usageError("--push-server-name generates its own certificate: not with --cert");
  }
  options.tick = speed > 0 ? std::chrono::milliseconds(static_cast<long long>(1000 / speed))
                           : std::chrono::milliseconds(0);
  if (speed > 0 && options.tick.count() == 0) {
    options.tick = std::chrono::milliseconds(1);
  }

  // Block the stop signals before any thread starts, so every thread inherits the mask and
  // only sigwait() below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  try {
    std::string ca_file;
    if (options.cert_file.empty()) {
      if (pki_dir.empty()) {
        char pattern[] = "/tmp/hme-simulator-XXXXXX";
        if (mkdtemp(pattern) == nullptr) {
          throw std::runtime_error("cannot create a temp dir");
        }
        pki_dir = pattern;
      }
      PkiOptions pki;
      if (!push_server_name.empty()) {
        pki = dnsOnlyPkiOptions(push_server_name);
        options.api_host = "localhost";
      }
      const PkiFiles files = generatePki(pki_dir, pki);
      options.cert_file = files.cert_file;
      options.key_file = files.key_file;
      ca_file = files.ca_file;
    }
    Simulator simulator(options);
    for (long long n = 0; n < meetings; ++n) {
      MeetingSpec spec = base;
      spec.meeting_id = std::to_string(first_id + n);
      spec.host_password = password;
      spec.title = "Simulated meeting " + std::to_string(n + 1);
      simulator.addMeeting(spec);
    }
    simulator.start();
    std::cout << "api url:   " << simulator.apiUrl() << "\n";
    if (!push_server_name.empty()) {
      std::cout << "push url:  " << simulator.wsUrl() << " (certificate for " << push_server_name
                << " only: set api.websocket_tls.server_name)\n";
    }
    if (!ca_file.empty()) {
      std::cout << "ca file:   " << ca_file << "\n";
    }
    if (options.management.enabled) {
      std::cout << "app id:    " << options.management.app_id << " (key from --app-key)\n";
    }
    std::cout << "meetings:  " << meetings << " (IDs " << first_id << " to "
              << first_id + meetings - 1 << ", password from --password)\n"
              << "stop with Ctrl-C" << std::endl;
    int received = 0;
    sigwait(&signals, &received);
    std::cout << "stopping" << std::endl;
    simulator.stop();
  } catch (const Poco::Exception& e) {
    std::cerr << "huawei_meeting_simulator: " << e.displayText() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "huawei_meeting_simulator: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "huawei_meeting_simulator: " << e.what() << "\n" << kUsage;
    return 1;
  }
}
