#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/StreamCopier.h>
#include <zlib.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "plugin/log/log.h"
#include "plugin/log/token_filter.h"
#include "plugin/web/html.h"
#include "plugin/web/listen_address.h"
#include "plugin/web/web_server.h"

namespace {

using hme::web::BindError;
using hme::web::WebHandlers;
using hme::web::WebOptions;
using hme::web::WebServer;
using Header = std::pair<std::string, std::string>;

constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";

struct Fetched {
  int status = 0;
  std::string body;
  Poco::Int64 content_length = -1;
  Poco::Net::NameValueCollection headers;
  std::string header(const std::string& name) const { return headers.get(name, ""); }
};

Fetched exchange(Poco::Net::HTTPClientSession& session, const std::string& method,
                 const std::string& path, const std::vector<Header>& headers = {},
                 const std::string& body = "") {
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [name, value] : headers) {
    request.set(name, value);
  }
  if (method == Poco::Net::HTTPRequest::HTTP_POST || !body.empty()) {
    request.setContentLength64(static_cast<Poco::Int64>(body.size()));
  }
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  Fetched f;
  f.status = static_cast<int>(response.getStatus());
  Poco::StreamCopier::copyToString(in, f.body);
  f.content_length = response.getContentLength64();
  f.headers = response;
  return f;
}

std::unique_ptr<Poco::Net::HTTPClientSession> session(std::uint16_t port) {
  auto s = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", port);
  s->setTimeout(Poco::Timespan(10, 0));  // a hang fails the test instead of blocking it
  return s;
}

Fetched fetch(std::uint16_t port, const std::string& method, const std::string& path,
              const std::vector<Header>& headers = {}, const std::string& body = "") {
  return exchange(*session(port), method, path, headers, body);
}

std::uint16_t portOf(const std::string& bound) {
  return static_cast<std::uint16_t>(std::stoul(bound.substr(bound.rfind(':') + 1)));
}

std::string gunzip(const std::string& in) {
  z_stream zs{};
  BOOST_REQUIRE(inflateInit2(&zs, 15 + 16) == Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  const uInt left = zs.avail_in;
  inflateEnd(&zs);
  BOOST_REQUIRE(rc == Z_STREAM_END);
  BOOST_TEST(left == 0u);  // exactly one gzip member, nothing after it
  return out;
}

// Large enough that gzip needs several output rounds.
std::string sampleMetrics() {
  std::string m = "# HELP hme_test_value A test series.\n# TYPE hme_test_value gauge\n";
  for (int i = 0; i < 20000; ++i) {
    m += "hme_test_value{meeting_id=\"9004879" + std::to_string(i) + "\"} " +
         std::to_string(i * 7) + "\n";
  }
  return m;
}

// A running server on 127.0.0.1:0 with controllable callbacks.
struct ServerFixture {
  std::string metrics = sampleMetrics();
  std::atomic<bool> ready{true};
  std::atomic<bool> reload_ok{true};
  std::atomic<int> reloads{0};
  std::string reload_error = "meetings[0].id: missing";
  std::unique_ptr<WebServer> server;
  std::uint16_t port = 0;

  WebHandlers handlers() {
    WebHandlers h;
    h.render_metrics = [this] { return metrics; };
    h.render_status_html = [] { return std::string("<html><body>status</body></html>"); };
    h.reload = [this] {
      ++reloads;
      return reload_ok ? std::make_pair(true, std::string("config reloaded\n"))
                       : std::make_pair(false, reload_error);
    };
    h.ready = [this] {
      return ready ? std::make_pair(true, std::string("2 of 2 sessions subscribed\n"))
                   : std::make_pair(false, std::string("0 of 2 sessions subscribed\n"));
    };
    return h;
  }

  ServerFixture() {
    WebOptions options;
    options.listen_addresses = {"127.0.0.1:0"};
    server = std::make_unique<WebServer>(options, handlers());
    server->start();
    port = portOf(server->boundAddresses().at(0));
  }
  ~ServerFixture() { server->stop(); }
};

WebHandlers trivialHandlers() {
  WebHandlers h;
  h.render_metrics = [] { return std::string("up 1\n"); };
  h.render_status_html = [] { return std::string("<html></html>"); };
  h.reload = [] { return std::make_pair(true, std::string("ok")); };
  h.ready = [] { return std::make_pair(true, std::string("ready")); };
  return h;
}

WebOptions optionsFor(std::vector<std::string> addresses) {
  WebOptions o;
  o.listen_addresses = std::move(addresses);
  return o;
}

// Captures the process-wide logger's lines (at debug level) and lets a test wait for one.
class LogWatch {
 public:
  LogWatch() : previous_level_(hme::log::logger().level()) {
    hme::log::logger().setLevel(hme::log::Level::Debug);
    hme::log::logger().setSink([this](std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
      changed_.notify_all();
    });
  }
  ~LogWatch() {
    hme::log::logger().setSink({});
    hme::log::logger().setLevel(previous_level_);
  }
  LogWatch(const LogWatch&) = delete;
  LogWatch& operator=(const LogWatch&) = delete;

  /// True once a line containing `text` was logged; false after 10 s without one.
  bool waitFor(const std::string& text) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] {
      for (const auto& l : lines_) {
        if (l.find(text) != std::string::npos) {
          return true;
        }
      }
      return false;
    });
  }

 private:
  hme::log::Level previous_level_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
};

boost::test_tools::assertion_result ipv6LoopbackAvailable(boost::unit_test::test_unit_id) {
  try {
    Poco::Net::ServerSocket s;
    s.bind6(Poco::Net::SocketAddress("::1", 0), true, false, true);
    return true;
  } catch (const Poco::Exception&) {
    return false;
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(web)

BOOST_AUTO_TEST_CASE(listen_addresses_parse) {
  using hme::web::parseListenAddress;
  auto all = parseListenAddress(":9877");
  BOOST_TEST(all.host == "");
  BOOST_TEST(all.port == 9877);
  auto v4 = parseListenAddress("127.0.0.1:0");
  BOOST_TEST(v4.host == "127.0.0.1");
  BOOST_TEST(v4.port == 0);
  auto v6 = parseListenAddress("[::1]:65535");
  BOOST_TEST(v6.host == "::1");
  BOOST_TEST(v6.port == 65535);
  BOOST_TEST(parseListenAddress("localhost:80").host == "localhost");

  for (const char* bad : {"", "9877", "host:", "host:abc", "host:65536", "host:123456", "host:+80",
                          "host:-1", "::1:9877", "[::1]", "[::1]9877", "[]:80", "[::1:80"}) {
    try {
      parseListenAddress(bad);
      BOOST_ERROR("accepted " << bad);
    } catch (const std::invalid_argument& e) {
      BOOST_TEST(std::string(e.what()).find("\"" + std::string(bad) + "\"") != std::string::npos,
                 e.what());
    }
  }
}

BOOST_AUTO_TEST_CASE(html_escape_covers_markup_and_quotes) {
  BOOST_TEST(hme::web::htmlEscape("<a href=\"x\">Tom & 'Jerry'</a>") ==
             "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
  BOOST_TEST(hme::web::htmlEscape("plain") == "plain");
}

BOOST_AUTO_TEST_CASE(options_are_validated_up_front) {
  BOOST_CHECK_EXCEPTION(WebServer(optionsFor({"127.0.0.1:0", "nonsense"}), trivialHandlers()),
                        std::invalid_argument, [](const std::invalid_argument& e) {
                          return std::string(e.what()).find("\"nonsense\"") != std::string::npos;
                        });
  BOOST_CHECK_THROW(WebServer(optionsFor({}), trivialHandlers()), std::invalid_argument);
  for (const char* path : {"", "metrics", "/", "/-/metrics"}) {
    WebOptions o = optionsFor({"127.0.0.1:0"});
    o.telemetry_path = path;
    BOOST_CHECK_THROW(WebServer(o, trivialHandlers()), std::invalid_argument);
  }
  WebHandlers missing = trivialHandlers();
  missing.ready = nullptr;
  BOOST_CHECK_THROW(WebServer(optionsFor({"127.0.0.1:0"}), missing), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(port_zero_reports_the_real_port) {
  ServerFixture f;
  const auto bound = f.server->boundAddresses();
  BOOST_TEST_REQUIRE(bound.size() == 1u);
  BOOST_TEST(bound[0].rfind("127.0.0.1:", 0) == 0u);
  BOOST_TEST(f.port != 0);
  BOOST_TEST(f.server->running());
  auto r = fetch(f.port, "GET", "/-/healthy");
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.body == "Healthy");
}

BOOST_AUTO_TEST_CASE(metrics_are_served_plain_by_default) {
  ServerFixture f;
  auto r = fetch(f.port, "GET", "/metrics");
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.header("Content-Type") == kMetricsType);
  BOOST_TEST(r.header("Content-Encoding") == "");
  BOOST_TEST(r.header("Vary") == "Accept-Encoding");
  BOOST_TEST(r.body == f.metrics);
  BOOST_TEST(fetch(f.port, "GET", "/metrics?debug=1").body == f.metrics);
}

BOOST_AUTO_TEST_CASE(metrics_are_gzipped_when_accepted) {
  ServerFixture f;
  for (const char* accept : {"gzip", "deflate, gzip;q=0.5", "br, GZIP"}) {
    auto r = fetch(f.port, "GET", "/metrics", {{"Accept-Encoding", accept}});
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.header("Content-Type") == kMetricsType);
    BOOST_TEST(r.header("Content-Encoding") == "gzip", accept);
    BOOST_TEST(r.body.size() < f.metrics.size() / 4);
    BOOST_TEST(r.content_length == static_cast<Poco::Int64>(r.body.size()));
    BOOST_TEST((gunzip(r.body) == f.metrics));
  }
  for (const char* accept : {"gzip;q=0", "gzip; q=0.000", "br", "identity", "x-gzipped"}) {
    auto r = fetch(f.port, "GET", "/metrics", {{"Accept-Encoding", accept}});
    BOOST_TEST(r.header("Content-Encoding") == "", accept);
    BOOST_TEST((r.body == f.metrics));
  }
}

BOOST_AUTO_TEST_CASE(metrics_render_error_is_a_short_500) {
  auto h = trivialHandlers();
  h.render_metrics = []() -> std::string { throw std::runtime_error("store exploded: details"); };
  WebServer server(optionsFor({"127.0.0.1:0"}), h);
  server.start();
  auto r = fetch(portOf(server.boundAddresses().at(0)), "GET", "/metrics");
  BOOST_TEST(r.status == 500);
  BOOST_TEST(r.header("Content-Type") == "text/plain; charset=utf-8");
  BOOST_TEST(r.body == "error rendering metrics\n");
  server.stop();
}

BOOST_AUTO_TEST_CASE(head_sends_headers_only_and_keeps_the_connection_usable) {
  ServerFixture f;
  auto s = session(f.port);
  auto head = exchange(*s, "HEAD", "/metrics");
  BOOST_TEST(head.status == 200);
  BOOST_TEST(head.header("Content-Type") == kMetricsType);
  BOOST_TEST(head.content_length == static_cast<Poco::Int64>(f.metrics.size()));
  BOOST_TEST(head.body.empty());
  // Had the server sent a body, it would now be read as the next response.
  auto get = exchange(*s, "GET", "/-/healthy");
  BOOST_TEST(get.status == 200);
  BOOST_TEST(get.body == "Healthy");
  BOOST_TEST(exchange(*s, "HEAD", "/").status == 200);
}

BOOST_AUTO_TEST_CASE(status_page_is_html) {
  ServerFixture f;
  auto r = fetch(f.port, "GET", "/");
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.header("Content-Type") == "text/html; charset=utf-8");
  BOOST_TEST(r.body == "<html><body>status</body></html>");
  auto post = fetch(f.port, "POST", "/");
  BOOST_TEST(post.status == 405);
  BOOST_TEST(post.header("Allow") == "GET, HEAD");
}

BOOST_AUTO_TEST_CASE(ready_follows_the_callback) {
  ServerFixture f;
  f.ready = false;
  auto not_ready = fetch(f.port, "GET", "/-/ready");
  BOOST_TEST(not_ready.status == 503);
  BOOST_TEST(not_ready.body == "0 of 2 sessions subscribed\n");
  f.ready = true;
  auto ready = fetch(f.port, "GET", "/-/ready");
  BOOST_TEST(ready.status == 200);
  BOOST_TEST(ready.body == "2 of 2 sessions subscribed\n");
}

BOOST_AUTO_TEST_CASE(reload_is_post_only) {
  ServerFixture f;
  for (const char* method : {"GET", "PUT", "HEAD"}) {
    auto r = fetch(f.port, method, "/-/reload");
    BOOST_TEST(r.status == 405, method);
    BOOST_TEST(r.header("Allow") == "POST");
  }
  BOOST_TEST(f.reloads == 0);

  auto s = session(f.port);
  auto ok = exchange(*s, "POST", "/-/reload", {}, "ignored body");
  BOOST_TEST(ok.status == 200);
  BOOST_TEST(ok.body == "config reloaded\n");
  BOOST_TEST(f.reloads == 1);
  // The request body was consumed: the keep-alive connection still parses requests.
  BOOST_TEST(exchange(*s, "GET", "/-/healthy").status == 200);

  f.reload_ok = false;
  auto failed = exchange(*s, "POST", "/-/reload");
  BOOST_TEST(failed.status == 500);
  BOOST_TEST(failed.body == "meetings[0].id: missing");
  BOOST_TEST(f.reloads == 2);
}

BOOST_AUTO_TEST_CASE(reload_error_text_is_sent_whole_even_with_tokens_registered) {
  ServerFixture f;
  // The logger's token net is for log lines only: bodies are never searched or masked.
  const hme::Secret token("cnr0123456789abcdef0123456789");
  hme::log::registerToken(token);
  f.reload_ok = false;
  f.reload_error = "meeting 900964776: admin info " + token.reveal();
  auto r = fetch(f.port, "POST", "/-/reload");
  hme::log::unregisterToken(token);
  BOOST_TEST(r.status == 500);
  BOOST_TEST(r.body == f.reload_error);
}

BOOST_AUTO_TEST_CASE(unknown_paths_are_404) {
  ServerFixture f;
  for (const char* path : {"/nope", "/metricsx", "/-/", "/-/healthy/x"}) {
    auto r = fetch(f.port, "GET", path);
    BOOST_TEST(r.status == 404, path);
  }
}

BOOST_AUTO_TEST_CASE(bind_conflict_names_the_address) {
  ServerFixture f;
  const std::string taken = "127.0.0.1:" + std::to_string(f.port);
  WebServer second(optionsFor({taken}), trivialHandlers());
  try {
    second.start();
    BOOST_ERROR("second server bound " << taken);
  } catch (const BindError& e) {
    BOOST_TEST(e.address() == taken);
    BOOST_TEST(std::string(e.what()).find(taken) != std::string::npos, e.what());
  }
  BOOST_TEST(!second.running());
  BOOST_TEST(second.boundAddresses().empty());
  // The first server is unaffected.
  BOOST_TEST(fetch(f.port, "GET", "/-/healthy").status == 200);
}

BOOST_AUTO_TEST_CASE(serves_several_addresses) {
  WebServer server(optionsFor({"127.0.0.1:0", "127.0.0.1:0"}), trivialHandlers());
  server.start();
  const auto bound = server.boundAddresses();
  BOOST_TEST_REQUIRE(bound.size() == 2u);
  BOOST_TEST(bound[0] != bound[1]);
  for (const auto& b : bound) {
    BOOST_TEST(fetch(portOf(b), "GET", "/metrics").body == "up 1\n");
  }
  server.stop();
}

BOOST_AUTO_TEST_CASE(all_interfaces_include_loopback) {
  WebServer server(optionsFor({":0"}), trivialHandlers());
  server.start();
  const auto bound = server.boundAddresses();
  BOOST_TEST_REQUIRE(bound.size() == 1u);
  BOOST_TEST((bound[0].rfind("[::]:", 0) == 0u || bound[0].rfind("0.0.0.0:", 0) == 0u), bound[0]);
  BOOST_TEST(fetch(portOf(bound[0]), "GET", "/-/healthy").status == 200);
  server.stop();
}

BOOST_AUTO_TEST_CASE(serves_ipv6_loopback, *boost::unit_test::precondition(ipv6LoopbackAvailable)) {
  WebServer server(optionsFor({"[::1]:0"}), trivialHandlers());
  server.start();
  const auto bound = server.boundAddresses();
  BOOST_TEST_REQUIRE(bound.size() == 1u);
  BOOST_TEST(bound[0].rfind("[::1]:", 0) == 0u, bound[0]);
  Poco::Net::HTTPClientSession s("::1", portOf(bound[0]));
  s.setTimeout(Poco::Timespan(10, 0));
  BOOST_TEST(exchange(s, "GET", "/-/healthy").status == 200);
  server.stop();
}

BOOST_AUTO_TEST_CASE(start_twice_is_a_logic_error) {
  WebServer server(optionsFor({"127.0.0.1:0"}), trivialHandlers());
  server.start();
  BOOST_CHECK_THROW(server.start(), std::logic_error);
  server.stop();
  BOOST_CHECK_THROW(server.start(), std::logic_error);
}

BOOST_AUTO_TEST_CASE(stop_releases_the_port_and_closes_idle_connections) {
  WebOptions options = optionsFor({"127.0.0.1:0"});
  // Long enough that waiting for it would be noticed below.
  options.keep_alive_timeout = std::chrono::seconds(60);
  WebServer server(options, trivialHandlers());
  server.start();
  const std::string bound = server.boundAddresses().at(0);
  auto idle = session(portOf(bound));
  BOOST_TEST(exchange(*idle, "GET", "/-/healthy").status == 200);  // stays open, idle

  const auto before = std::chrono::steady_clock::now();
  server.stop();
  BOOST_TEST((std::chrono::steady_clock::now() - before < std::chrono::seconds(30)));
  BOOST_TEST(!server.running());
  BOOST_TEST(server.boundAddresses().empty());
  BOOST_CHECK_THROW(fetch(portOf(bound), "GET", "/-/healthy"), Poco::Net::NetException);

  // The port is free again.
  WebServer again(optionsFor({bound}), trivialHandlers());
  again.start();
  BOOST_TEST(fetch(portOf(bound), "GET", "/-/healthy").status == 200);
  again.stop();
}

BOOST_AUTO_TEST_CASE(stop_completes_a_request_in_flight) {
  LogWatch watch;
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto h = trivialHandlers();
  h.render_metrics = [&entered, released] {
    entered.set_value();
    released.wait();
    return std::string("late 1\n");
  };
  WebServer server(optionsFor({"127.0.0.1:0"}), h);
  server.start();
  const std::uint16_t port = portOf(server.boundAddresses().at(0));

  auto client = std::async(std::launch::async, [port] { return fetch(port, "GET", "/metrics"); });
  // Whatever happens below, the handler is released before `client` (whose destructor waits
  // for the request) and the server are destroyed.
  struct Releaser {
    std::promise<void>& p;
    bool done = false;
    void operator()() {
      if (!done) {
        p.set_value();
      }
      done = true;
    }
    ~Releaser() { (*this)(); }
  } releaser{release};

  BOOST_TEST_REQUIRE(
      (entered.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready));
  auto stopper = std::async(std::launch::async, [&server] { server.stop(); });
  BOOST_TEST_REQUIRE(watch.waitFor("finishing requests in flight"));
  BOOST_TEST(!server.running());
  // stop() is past the point of no return: the port refuses new connections, yet stop() must
  // not return while the request is still being handled.
  BOOST_CHECK_THROW(fetch(port, "GET", "/-/healthy"), Poco::Net::ConnectionRefusedException);
  BOOST_TEST((stopper.wait_for(std::chrono::seconds(0)) == std::future_status::timeout));
  releaser();
  auto r = client.get();
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.body == "late 1\n");
  stopper.get();
  BOOST_TEST(server.boundAddresses().empty());
}

BOOST_AUTO_TEST_SUITE_END()
