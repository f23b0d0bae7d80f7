// Integration tests of hme::transport against an in-process HTTPS + WSS server (test_server.h)
// on 127.0.0.1 with the committed test PKI.

#include <Poco/Net/AcceptCertificateHandler.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/WebSocket.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "plugin/transport/failure_mapping.h"
#include "plugin/transport/rest_client.h"
#include "plugin/transport/tls.h"
#include "plugin/transport/ws_connection.h"
#include "tests/integration/test_server.h"

namespace hme::transport {
// Boost.Test's customization point for printing the enum in failed assertions.
std::ostream& boost_test_print_type(std::ostream& out, TransportError error) {
  return out << toString(error);
}
}  // namespace hme::transport

namespace {

using namespace std::chrono_literals;
using hme::testing::closedPort;
using hme::testing::Mailbox;
using hme::testing::pkiPath;
using hme::testing::respondJson;
using hme::testing::SilentListener;
using hme::testing::TestServer;
using hme::transport::ContextUse;
using hme::transport::ControlToken;
using hme::transport::Failure;
using hme::transport::RestClient;
using hme::transport::TlsOptions;
using hme::transport::TransportError;
using hme::transport::WsBinary;
using hme::transport::WsClosed;
using hme::transport::WsConnection;
using hme::transport::WsEvent;
using hme::transport::WsIncompleteMessage;
using hme::transport::WsOptions;
using hme::transport::WsPong;
using hme::transport::WsText;
using hme::transport::WsTimeout;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;
using Poco::Net::WebSocket;
using Clock = std::chrono::steady_clock;

const std::string kMeetingId = "900964776";
const std::string kPassword = "Host-Pa55word!";
const std::string kToken = "cnr0123456789abcdef0123456789abcdef0123456789abcd";
const std::string kWsToken = "cnrWs+tok/en=&1";
constexpr auto kTimeout = 3000ms;
constexpr auto kWait = 3000ms;  // bound for waiting on server-side reports

/// SIGPIPE would kill the test binary when a server thread writes to a socket a test dropped.
struct IgnoreSigpipe {
  IgnoreSigpipe() { previous = std::signal(SIGPIPE, SIG_IGN); }
  ~IgnoreSigpipe() { std::signal(SIGPIPE, previous); }
  void (*previous)(int) = nullptr;
};

long millisecondsSince(Clock::time_point start) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

/// "ok", or the failure's class and detail, for assertion messages.
template <class T>
std::string describe(const hme::transport::Result<T>& result) {
  if (result.ok()) return "ok";
  return std::string(hme::transport::toString(result.failure().error)) + ": " +
         result.failure().detail;
}

TlsOptions trusted() { return TlsOptions{pkiPath("ca.pem"), false}; }

std::string tokenBody(unsigned short ws_port) {
  return R"({"data":{"token":")" + kToken + R"(","wsURL":"wss://127.0.0.1:)" +
         std::to_string(ws_port) +
         R"(","expireTime":1700000000000,"confTokenExpireTime":1800,"role":1},)"
         R"("addressToken":"x","gloablPublicIP":"1.2.3.4"})";
}

void requireSecretFree(const Failure& failure) {
  BOOST_TEST(failure.detail.find(kPassword) == std::string::npos);
  BOOST_TEST(failure.detail.find(kToken) == std::string::npos);
  BOOST_TEST(failure.detail.find(kWsToken) == std::string::npos);
  BOOST_TEST(failure.error_code.find(kPassword) == std::string::npos);
}

/// Runs getControlToken against `server` and returns the failure (the call must fail).
Failure controlTokenFailure(const std::string& url, const TlsOptions& tls,
                            std::chrono::milliseconds timeout = kTimeout) {
  RestClient client(url, tls, timeout);
  auto result = client.getControlToken(kMeetingId, hme::Secret(kPassword), hme::Secret(kToken));
  BOOST_REQUIRE(!result.ok());
  requireSecretFree(result.failure());
  return result.failure();
}

/// A WSS handler: upgrades, then runs `script`; errors are posted to `mailbox`.
TestServer::Handler wsHandler(Mailbox& mailbox, std::function<void(WebSocket&)> script) {
  return [&mailbox, script = std::move(script)](HTTPServerRequest& request,
                                                HTTPServerResponse& response) {
    try {
      WebSocket ws(request, response);
      ws.setReceiveTimeout(Poco::Timespan(3, 0));
      script(ws);
    } catch (const std::exception& e) {
      mailbox.post(std::string("server error: ") + e.what());
    }
  };
}

WsOptions wsOptions(std::size_t max_frame_bytes = 1 << 20) {
  WsOptions options;
  options.tls = trusted();
  options.timeout = kTimeout;
  options.max_frame_bytes = max_frame_bytes;
  return options;
}

WsConnection openWs(const TestServer& server, std::size_t max_frame_bytes = 1 << 20) {
  auto result = WsConnection::open(server.url("wss"), kMeetingId, hme::Secret(kWsToken),
                                   wsOptions(max_frame_bytes));
  if (!result.ok()) BOOST_FAIL("open failed: " << describe(result));
  return std::move(result).value();
}

/// The frame a script receives next, as "opcode:payload".
std::string nextFrame(WebSocket& ws) {
  Poco::Buffer<char> buffer(0);
  int flags = 0;
  const int n = ws.receiveFrame(buffer, flags);
  return std::to_string(flags & WebSocket::FRAME_OP_BITMASK) + ":" +
         std::string(buffer.begin(), static_cast<std::size_t>(n));
}

void sendText(WebSocket& ws, const std::string& text, int flags = WebSocket::FRAME_TEXT) {
  ws.sendFrame(text.data(), static_cast<int>(text.size()), flags);
}

/// The alternative T of `event` (by value: `event` is usually a temporary).
template <class T>
T expect(const WsEvent& event) {
  if (const auto* failure = std::get_if<Failure>(&event)) {
    BOOST_FAIL("unexpected failure " << hme::transport::toString(failure->error) << ": "
                                     << failure->detail);
  }
  BOOST_REQUIRE(std::holds_alternative<T>(event));
  return std::get<T>(event);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(transport, *boost::unit_test::fixture<IgnoreSigpipe>())

// ---------------------------------------------------------------------------------------------
// REST

BOOST_AUTO_TEST_CASE(control_token_happy_path_sends_documented_headers) {
  TestServer server([](HTTPServerRequest& request, HTTPServerResponse& response) {
    // The server only grants a token for the documented headers.
    if (request.get("X-Password", "") != kPassword || request.get("X-Login-Type", "") != "1") {
      respondJson(response, 400, R"({"error_code":"TEST.headers","error_msg":"missing"})");
      return;
    }
    respondJson(response, 200, tokenBody(4443));
  });
  RestClient client(server.url(), trusted(), kTimeout);
  auto result = client.getControlToken(kMeetingId, hme::Secret(kPassword), hme::Secret());
  BOOST_REQUIRE_MESSAGE(result.ok(), describe(result));
  const ControlToken& token = result.value();
  BOOST_TEST(token.token.reveal() == kToken);
  BOOST_TEST(token.ws_url == "wss://127.0.0.1:4443");
  BOOST_TEST(token.expire_time_ms == 1700000000000);
  BOOST_TEST(token.validity_seconds == 1800);

  const auto requests = server.requests();
  BOOST_REQUIRE_EQUAL(requests.size(), 1u);
  BOOST_TEST(requests[0].method == "GET");
  BOOST_TEST(requests[0].uri == "/v1/mmc/control/conferences/token?conferenceID=900964776");
  BOOST_TEST(requests[0].headers.get("X-Password", "") == kPassword);
  BOOST_TEST(requests[0].headers.get("X-Login-Type", "") == "1");
  BOOST_TEST(!requests[0].headers.has("X-Conference-Authorization"));
}

BOOST_AUTO_TEST_CASE(control_token_refresh_encodes_query_and_accepts_string_numbers) {
  TestServer server([](HTTPServerRequest&, HTTPServerResponse& response) {
    respondJson(response, 200,
                R"({"data":{"token":"cnrNEW","wsURL":"wss://h:1","expireTime":"1700000000001",)"
                R"("confTokenExpireTime":" 900 "}})");
  });
  RestClient client(server.url() + "/prefix/", trusted(), kTimeout);
  auto result =
      client.getControlToken("9 0&x/\xC3\xBC", hme::Secret(kPassword), hme::Secret(kToken));
  BOOST_REQUIRE_MESSAGE(result.ok(), describe(result));
  BOOST_TEST(result.value().token.reveal() == "cnrNEW");
  BOOST_TEST(result.value().expire_time_ms == 1700000000001);
  BOOST_TEST(result.value().validity_seconds == 900);

  const auto requests = server.requests();
  BOOST_REQUIRE_EQUAL(requests.size(), 1u);
  BOOST_TEST(requests[0].uri ==
             "/prefix/v1/mmc/control/conferences/token?conferenceID=9%200%26x%2F%C3%BC");
  BOOST_TEST(requests[0].headers.get("X-Conference-Authorization", "") == kToken);
  BOOST_TEST(requests[0].headers.get("X-Password", "") == kPassword);
}

BOOST_AUTO_TEST_CASE(control_token_tolerates_missing_or_bad_expiry) {
  TestServer server([](HTTPServerRequest&, HTTPServerResponse& response) {
    respondJson(response, 200,
                R"({"data":{"token":"t","wsURL":"wss://h","expireTime":"soon","role":1}})");
  });
  RestClient client(server.url(), trusted(), kTimeout);
  auto result = client.getControlToken(kMeetingId, hme::Secret(kPassword), hme::Secret());
  BOOST_REQUIRE_MESSAGE(result.ok(), describe(result));
  BOOST_TEST(result.value().expire_time_ms == 0);
  BOOST_TEST(result.value().validity_seconds == 0);
}

BOOST_AUTO_TEST_CASE(ws_token_happy_path_top_level_and_wrapped) {
  TestServer server([](HTTPServerRequest& request, HTTPServerResponse& response) {
    if (request.get("X-Conference-Authorization", "") != kToken) {
      respondJson(response, 401, R"({"error_code":"TEST.auth"})");
    } else if (request.getURI().find("conferenceID=1") != std::string::npos) {
      respondJson(response, 200, R"({"data":{"webSocketToken":"cnrWRAPPED"}})");
    } else {
      respondJson(response, 200, R"({"webSocketToken":"cnrWS"})");
    }
  });
  RestClient client(server.url(), trusted(), kTimeout);
  auto top = client.getWsToken(kMeetingId, hme::Secret(kToken));
  BOOST_REQUIRE_MESSAGE(top.ok(), describe(top));
  BOOST_TEST(top.value().reveal() == "cnrWS");
  auto wrapped = client.getWsToken("1", hme::Secret(kToken));
  BOOST_REQUIRE_MESSAGE(wrapped.ok(), describe(wrapped));
  BOOST_TEST(wrapped.value().reveal() == "cnrWRAPPED");

  const auto requests = server.requests();
  BOOST_REQUIRE_EQUAL(requests.size(), 2u);
  BOOST_TEST(requests[0].uri == "/v1/mmc/control/conferences/wsToken?conferenceID=900964776");
  BOOST_TEST(!requests[0].headers.has("X-Password"));

  auto refused = client.getWsToken(kMeetingId, hme::Secret("wrong"));
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.failure().http_status == 401);
  BOOST_TEST(refused.failure().error_code == "TEST.auth");
}

BOOST_AUTO_TEST_CASE(http_400_with_error_body_is_rejected_with_code) {
  TestServer server([](HTTPServerRequest&, HTTPServerResponse& response) {
    respondJson(response, 400,
                R"({"error_code":"MMC.111072065","error_msg":"CONF_NOT_FOUND_OR_AUTH_FAILED"})");
  });
  const Failure failure = controlTokenFailure(server.url(), trusted());
  BOOST_TEST(failure.error == TransportError::Rejected);
  BOOST_TEST(failure.http_status == 400);
  BOOST_TEST(failure.error_code == "MMC.111072065");
  BOOST_TEST(failure.detail.find("CONF_NOT_FOUND_OR_AUTH_FAILED") != std::string::npos);
  BOOST_TEST(!failure.retryable());
}

BOOST_AUTO_TEST_CASE(rate_limiting_by_status_or_code_is_retryable) {
  for (const auto& [status, body] : std::vector<std::pair<int, std::string>>{
           {429, "{}"},
           {400, R"({"error_code":"MMC.100000429","error_msg":"flow control"})"},
           {200, R"({"error_code":"MMC.100000429"})"}}) {
    TestServer server(
        [status = status, body = body](HTTPServerRequest&, HTTPServerResponse& response) {
          respondJson(response, status, body);
        });
    const Failure failure = controlTokenFailure(server.url(), trusted());
    BOOST_TEST_CONTEXT("status " << status << " body " << body) {
      BOOST_TEST(failure.error == TransportError::RateLimited);
      BOOST_TEST(failure.http_status == status);
      BOOST_TEST(failure.retryable());
    }
  }
}

BOOST_AUTO_TEST_CASE(http_500_is_server_error) {
  TestServer server([](HTTPServerRequest&, HTTPServerResponse& response) {
    respondJson(response, 500, "internal error, not JSON");
  });
  const Failure failure = controlTokenFailure(server.url(), trusted());
  BOOST_TEST(failure.error == TransportError::ServerError);
  BOOST_TEST(failure.http_status == 500);
  BOOST_TEST(failure.error_code.empty());
  BOOST_TEST(failure.retryable());
}

BOOST_AUTO_TEST_CASE(malformed_bodies_are_bad_responses) {
  for (const std::string& body :
       {std::string("<html>gateway</html>"), std::string(R"({"data":{"token":"t"}})"),
        std::string(R"({"data":{"wsURL":"wss://h"}})"), std::string(R"({"data":"str"})"),
        std::string(R"([1,2])"), std::string(R"({"data":{"token":7,"wsURL":"wss://h"}})"),
        std::string(R"({"data":{"token":"cnr 1\r\nX: y","wsURL":"wss://h"}})"),
        std::string(R"({"data":{"token":")") + kToken + "\""}) {
    TestServer server([body](HTTPServerRequest&, HTTPServerResponse& response) {
      respondJson(response, 200, body);
    });
    const Failure failure = controlTokenFailure(server.url(), trusted());
    BOOST_TEST_CONTEXT("body " << body) {
      BOOST_TEST(failure.error == TransportError::BadResponse);
      BOOST_TEST(!failure.retryable());
    }
  }
}

BOOST_AUTO_TEST_CASE(password_with_line_break_is_not_sent) {
  TestServer server([](HTTPServerRequest&, HTTPServerResponse& response) {
    respondJson(response, 200, tokenBody(1));
  });
  RestClient client(server.url(), trusted(), kTimeout);
  auto result = client.getControlToken(kMeetingId, hme::Secret(kPassword + "\r\nX-Injected: 1"),
                                       hme::Secret());
  BOOST_REQUIRE(!result.ok());
  BOOST_TEST(result.failure().error == TransportError::Rejected);
  requireSecretFree(result.failure());
  BOOST_TEST(server.requests().empty());
}

BOOST_AUTO_TEST_CASE(ws_token_without_token_is_bad_response) {
  TestServer server([](HTTPServerRequest&, HTTPServerResponse& response) {
    respondJson(response, 200, R"({"webSocketToken":""})");
  });
  RestClient client(server.url(), trusted(), kTimeout);
  auto result = client.getWsToken(kMeetingId, hme::Secret(kToken));
  BOOST_REQUIRE(!result.ok());
  BOOST_TEST(result.failure().error == TransportError::BadResponse);
  requireSecretFree(result.failure());
}

BOOST_AUTO_TEST_CASE(oversized_body_is_too_large) {
  TestServer server([](HTTPServerRequest&, HTTPServerResponse& response) {
    respondJson(response, 200, std::string((1 << 20) + 10, ' '));
  });
  const Failure failure = controlTokenFailure(server.url(), trusted());
  BOOST_TEST(failure.error == TransportError::TooLarge);
}

BOOST_AUTO_TEST_CASE(closed_port_is_connection_refused) {
  const Failure failure =
      controlTokenFailure("https://127.0.0.1:" + std::to_string(closedPort()), trusted());
  BOOST_TEST(failure.error == TransportError::ConnectionRefused);
  BOOST_TEST(failure.retryable());
}

BOOST_AUTO_TEST_CASE(silent_servers_time_out_near_the_configured_timeout) {
  // Poco 1.11 TLS reads wait about twice the socket timeout; the client compensates (see
  // applyTimeout). Uncompensated, these stalls would last about 2000 and 2500-3000 ms.
  constexpr auto kStallTimeout = 1000ms;
  TestServer stalled([&stalled](HTTPServerRequest&, HTTPServerResponse& response) {
    stalled.gate().waitFor(5000ms);  // released when the server stops
    respondJson(response, 500, "{}");
  });
  SilentListener silent;  // accepts TCP (kernel backlog) but never does the TLS handshake
  struct Case {
    std::string url;
    long max_ms;  // generous upper bounds: sanitizer builds on a loaded machine are slow
  };
  for (const Case& c : {Case{stalled.url(), 1700},  // response stall: about 1 x timeout
                        Case{"https://127.0.0.1:" + std::to_string(silent.port()), 2200}}) {
    BOOST_TEST_CONTEXT(c.url) {  // handshake stall: about 1.5 x timeout
      const auto start = Clock::now();
      const Failure failure = controlTokenFailure(c.url, trusted(), kStallTimeout);
      const long elapsed_ms = millisecondsSince(start);
      BOOST_TEST(failure.error == TransportError::Timeout);
      BOOST_TEST(failure.retryable());
      BOOST_TEST(elapsed_ms >= 950);
      BOOST_TEST(elapsed_ms < c.max_ms);
    }
  }
}

BOOST_AUTO_TEST_CASE(untrusted_ca_is_refused_even_with_an_accepting_global_handler) {
  TestServer server([](HTTPServerRequest&,
                       HTTPServerResponse& response) { respondJson(response, 200, tokenBody(1)); },
                    "untrusted-server");
  BOOST_TEST(controlTokenFailure(server.url(), trusted()).error == TransportError::Tls);
  {
    // Another component of the process installing an accept-all client handler (measured: it
    // makes every context that uses Poco's verify callback accept an untrusted chain) must not
    // weaken our verification.
    struct AcceptAllClientCertificates {
      AcceptAllClientCertificates() {
        manager.initializeClient(nullptr, new Poco::Net::AcceptCertificateHandler(false), other);
      }
      ~AcceptAllClientCertificates() {
        manager.initializeClient(nullptr, new Poco::Net::RejectCertificateHandler(false), other);
      }
      Poco::Net::SSLManager& manager = Poco::Net::SSLManager::instance();
      Poco::Net::Context::Ptr other = new Poco::Net::Context(
          Poco::Net::Context::TLS_CLIENT_USE, "", "", "", Poco::Net::Context::VERIFY_STRICT);
    } accept_all;
    const Failure failure = controlTokenFailure(server.url(), trusted());
    BOOST_TEST(failure.error == TransportError::Tls);
    BOOST_TEST(!failure.retryable());
  }
  BOOST_TEST(server.requests().empty());  // nothing, in particular no password, was sent
}

BOOST_AUTO_TEST_CASE(test_ca_is_not_trusted_without_ca_file) {
  TestServer server([](HTTPServerRequest&, HTTPServerResponse& response) {
    respondJson(response, 200, tokenBody(1));
  });
  BOOST_TEST(controlTokenFailure(server.url(), TlsOptions{}).error == TransportError::Tls);
}

BOOST_AUTO_TEST_CASE(wrong_host_certificate_is_refused) {
  TestServer server([](HTTPServerRequest&,
                       HTTPServerResponse& response) { respondJson(response, 200, tokenBody(1)); },
                    "wronghost");
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    BOOST_TEST_CONTEXT(host) {
      BOOST_TEST(controlTokenFailure(server.url("https", host), trusted()).error ==
                 TransportError::Tls);
    }
  }
  BOOST_TEST(server.requests().empty());
}

BOOST_AUTO_TEST_CASE(host_names_match_ip_and_dns_sans_and_sni_is_sent) {
  TestServer server([](HTTPServerRequest&, HTTPServerResponse& response) {
    respondJson(response, 200, tokenBody(1));
  });
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    RestClient client(server.url("https", host), trusted(), kTimeout);
    auto result = client.getControlToken(kMeetingId, hme::Secret(kPassword), hme::Secret());
    BOOST_TEST(result.ok(), host << ": " << describe(result));
  }
  const auto sni = server.sniNames();
  BOOST_TEST(std::count(sni.begin(), sni.end(), "localhost") == 1);
}

BOOST_AUTO_TEST_CASE(insecure_skip_verify_accepts_untrusted_and_wrong_host) {
  for (const std::string stem : {"untrusted-server", "wronghost"}) {
    TestServer server(
        [](HTTPServerRequest&, HTTPServerResponse& response) {
          respondJson(response, 200, tokenBody(1));
        },
        stem);
    RestClient client(server.url(), TlsOptions{"", true}, kTimeout);
    auto result = client.getControlToken(kMeetingId, hme::Secret(kPassword), hme::Secret());
    BOOST_TEST(result.ok(), stem << ": " << describe(result));
  }
}

BOOST_AUTO_TEST_CASE(bad_settings_throw_invalid_argument) {
  BOOST_CHECK_THROW(RestClient("http://127.0.0.1:1", trusted(), kTimeout), std::invalid_argument);
  BOOST_CHECK_THROW(RestClient("not a url", trusted(), kTimeout), std::invalid_argument);
  BOOST_CHECK_THROW(
      RestClient("https://127.0.0.1:1", TlsOptions{pkiPath("missing.pem"), false}, kTimeout),
      std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(secrets_echoed_by_the_server_withhold_the_whole_message) {
  TestServer server([](HTTPServerRequest& request, HTTPServerResponse& response) {
    respondJson(response, 403,
                R"({"error_code":"MMC.111070004","error_msg":"bad )" +
                    request.get("X-Password", "") + " for " +
                    request.get("X-Conference-Authorization", "") + R"("})");
  });
  const Failure failure = controlTokenFailure(server.url(), trusted());
  BOOST_TEST(failure.error == TransportError::Rejected);
  // Nothing around the secret is kept either: a masked gap would show where it was.
  BOOST_TEST(failure.detail ==
             "HTTP 403 MMC.111070004: " + std::string(hme::transport::detail::kWithheld));

  // A message without a secret is kept as it was.
  TestServer plain([](HTTPServerRequest&, HTTPServerResponse& response) {
    respondJson(response, 403, R"({"error_code":"MMC.111070004","error_msg":"no such meeting"})");
  });
  BOOST_TEST(controlTokenFailure(plain.url(), trusted()).detail ==
             "HTTP 403 MMC.111070004: no such meeting");

  // A secret straddling the point where the server's message is truncated.
  for (std::size_t offset = 90; offset < 100; ++offset) {
    TestServer cut([offset](HTTPServerRequest&, HTTPServerResponse& response) {
      respondJson(response, 400,
                  R"({"error_msg":")" + std::string(offset, 'm') + kPassword + R"("})");
    });
    const Failure truncated = controlTokenFailure(cut.url(), trusted());
    BOOST_TEST(truncated.detail.find("Host-") == std::string::npos, "offset " << offset);
  }
}

// ---------------------------------------------------------------------------------------------
// WebSocket

BOOST_AUTO_TEST_CASE(ws_text_round_trip_and_close) {
  Mailbox mailbox;
  TestServer server(wsHandler(mailbox, [&mailbox](WebSocket& ws) {
    const std::string frame = nextFrame(ws);  // "1:hello"
    sendText(ws, "echo " + frame);
    mailbox.post(nextFrame(ws).substr(0, 4));  // the client's close frame: "8:" + code bytes
  }));
  WsConnection ws = openWs(server);
  BOOST_TEST(ws.usable());
  BOOST_REQUIRE(ws.send("hello").ok());
  BOOST_TEST(expect<WsText>(ws.receive(kWait)).text == "echo 1:hello");
  ws.close();
  BOOST_TEST(!ws.usable());
  BOOST_TEST(mailbox.take(kWait).value_or("none") == std::string("8:\x03\xE8", 4));  // 1000

  const auto requests = server.requests();
  BOOST_REQUIRE_EQUAL(requests.size(), 1u);
  BOOST_TEST(requests[0].uri ==
             "/cms/open/websocket/confctl/increment/conn?confID=900964776"
             "&tmpToken=cnrWs%2Btok%2Fen%3D%261");
  BOOST_TEST(!ws.send("late").ok());
  BOOST_TEST(ws.send("late").failure().error == TransportError::Closed);
}

BOOST_AUTO_TEST_CASE(ws_fragmented_message_is_reassembled_around_a_ping) {
  Mailbox mailbox;
  TestServer server(wsHandler(mailbox, [&mailbox](WebSocket& ws) {
    const int cont = WebSocket::FRAME_OP_SETRAW | WebSocket::FRAME_OP_CONT;
    sendText(ws, R"({"a":)", WebSocket::FRAME_OP_TEXT);
    sendText(ws, "p1", WebSocket::FRAME_FLAG_FIN | WebSocket::FRAME_OP_PING);
    sendText(ws, "1", cont);
    sendText(ws, "}", WebSocket::FRAME_FLAG_FIN | cont);
    mailbox.post(nextFrame(ws));
  }));
  WsConnection ws = openWs(server);
  BOOST_TEST(expect<WsText>(ws.receive(kWait)).text == R"({"a":1})");
  BOOST_TEST(mailbox.take(kWait).value_or("none") == "10:p1");  // PONG with the PING payload
  ws.close();
}

BOOST_AUTO_TEST_CASE(ws_ping_is_answered_with_pong_and_a_pong_is_reported) {
  Mailbox mailbox;
  TestServer server(wsHandler(mailbox, [&mailbox](WebSocket& ws) {
    sendText(ws, "abc123", WebSocket::FRAME_FLAG_FIN | WebSocket::FRAME_OP_PING);
    mailbox.post(nextFrame(ws));
    sendText(ws, "", WebSocket::FRAME_FLAG_FIN | WebSocket::FRAME_OP_PING);
    mailbox.post(nextFrame(ws));
    sendText(ws, "after", WebSocket::FRAME_FLAG_FIN | WebSocket::FRAME_OP_PONG);
    sendText(ws, "after");
    nextFrame(ws);
  }));
  WsConnection ws = openWs(server);
  // PINGs are answered inside receive(); a PONG is reported, so the caller sees liveness.
  BOOST_TEST(expect<WsPong>(ws.receive(kWait)).payload == "after");
  BOOST_TEST(expect<WsText>(ws.receive(kWait)).text == "after");
  BOOST_TEST(mailbox.take(kWait).value_or("none") == "10:abc123");
  BOOST_TEST(mailbox.take(kWait).value_or("none") == "10:");
  ws.close();
}

BOOST_AUTO_TEST_CASE(ws_binary_is_reported_and_connection_stays_usable) {
  Mailbox mailbox;
  TestServer server(wsHandler(mailbox, [](WebSocket& ws) {
    sendText(ws, std::string(10, '\x01'), WebSocket::FRAME_BINARY);
    sendText(ws, "next");
    nextFrame(ws);
  }));
  WsConnection ws = openWs(server);
  BOOST_TEST(expect<WsBinary>(ws.receive(kWait)).bytes == 10u);
  BOOST_TEST(ws.usable());
  BOOST_TEST(expect<WsText>(ws.receive(kWait)).text == "next");
  ws.close();
}

BOOST_AUTO_TEST_CASE(ws_oversized_frame_or_message_is_too_large_and_unusable) {
  Mailbox mailbox;
  for (const bool fragmented : {false, true}) {
    TestServer server(wsHandler(mailbox, [fragmented](WebSocket& ws) {
      if (fragmented) {
        sendText(ws, std::string(800, 'a'), WebSocket::FRAME_OP_TEXT);
        sendText(ws, std::string(800, 'b'),
                 WebSocket::FRAME_FLAG_FIN | WebSocket::FRAME_OP_SETRAW | WebSocket::FRAME_OP_CONT);
      } else {
        sendText(ws, std::string(4096, 'x'));
      }
      nextFrame(ws);
    }));
    WsConnection ws = openWs(server, 1024);
    const WsEvent event = ws.receive(kWait);
    BOOST_TEST_CONTEXT("fragmented " << fragmented) {
      BOOST_REQUIRE(std::holds_alternative<Failure>(event));
      BOOST_TEST(std::get<Failure>(event).error == TransportError::TooLarge);
      BOOST_TEST(!ws.usable());
      const WsEvent after = ws.receive(10ms);
      BOOST_REQUIRE(std::holds_alternative<Failure>(after));
      BOOST_TEST(std::get<Failure>(after).error == TransportError::Closed);
    }
  }
}

BOOST_AUTO_TEST_CASE(ws_server_close_frame_gives_closed_with_code_and_is_answered) {
  Mailbox mailbox;
  TestServer server(wsHandler(mailbox, [&mailbox](WebSocket& ws) {
    ws.shutdown(4001, "meeting ended");
    mailbox.post(nextFrame(ws).substr(0, 4));
  }));
  WsConnection ws = openWs(server);
  const WsClosed closed = expect<WsClosed>(ws.receive(kWait));
  BOOST_TEST(closed.code == 4001);
  BOOST_TEST(closed.reason == "meeting ended");
  BOOST_TEST(!ws.usable());
  BOOST_TEST(mailbox.take(kWait).value_or("none") == std::string("8:\x0F\xA1", 4));  // 4001
}

BOOST_AUTO_TEST_CASE(ws_connection_drop_gives_closed_1006) {
  Mailbox mailbox;
  for (const bool abrupt : {false, true}) {
    TestServer server(wsHandler(mailbox, [abrupt](WebSocket& ws) {
      if (abrupt) {
        ::shutdown(ws.impl()->sockfd(), SHUT_RDWR);  // TCP FIN without TLS close_notify
      } else {
        ws.close();  // TLS close_notify, no WebSocket close frame
      }
    }));
    WsConnection ws = openWs(server);
    BOOST_TEST_CONTEXT("abrupt " << abrupt) {
      BOOST_TEST(expect<WsClosed>(ws.receive(kWait)).code == 1006);
      BOOST_TEST(!ws.usable());
    }
  }
}

BOOST_AUTO_TEST_CASE(ws_upgrade_refused_reports_http_status) {
  TestServer server([](HTTPServerRequest&, HTTPServerResponse& response) {
    respondJson(response, 401, R"({"error_code":"MMC.111070004"})");
  });
  auto result =
      WsConnection::open(server.url("wss"), kMeetingId, hme::Secret(kWsToken), wsOptions());
  BOOST_REQUIRE(!result.ok());
  BOOST_TEST(result.failure().http_status == 401);
  BOOST_TEST(result.failure().error == TransportError::Rejected);
  requireSecretFree(result.failure());
}

BOOST_AUTO_TEST_CASE(ws_receive_timeout_is_not_doubled_by_tls) {
  Mailbox mailbox;
  TestServer server(wsHandler(mailbox, [](WebSocket& ws) { nextFrame(ws); }));
  WsConnection ws = openWs(server);
  const auto start = Clock::now();
  expect<WsTimeout>(ws.receive(400ms));
  const long elapsed_ms = millisecondsSince(start);
  BOOST_TEST(elapsed_ms >= 390);
  BOOST_TEST(elapsed_ms < 750);
  BOOST_TEST(ws.usable());
  ws.close();
}

/// An eventfd for receive(timeout, wake_fd), closed on scope exit.
class WakeFd {
 public:
  WakeFd() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) { BOOST_REQUIRE(fd_ >= 0); }
  ~WakeFd() { ::close(fd_); }
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;
  int fd() const { return fd_; }
  void signal() const {
    const std::uint64_t one = 1;
    BOOST_REQUIRE(::write(fd_, &one, sizeof one) == static_cast<ssize_t>(sizeof one));
  }
  /// Whether it was signalled; empties it.
  bool drain() const {
    std::uint64_t count = 0;
    return ::read(fd_, &count, sizeof count) == static_cast<ssize_t>(sizeof count);
  }

 private:
  int fd_;
};

BOOST_AUTO_TEST_CASE(ws_receive_is_woken_by_the_wake_fd_from_another_thread) {
  Mailbox mailbox;
  TestServer server(wsHandler(mailbox, [](WebSocket& ws) { nextFrame(ws); }));
  WsConnection ws = openWs(server);
  const WakeFd wake;
  const auto start = Clock::now();
  // The write is delayed so that it lands while receive() is blocked in poll().
  std::thread waker([&wake] {
    std::this_thread::sleep_for(300ms);
    wake.signal();
  });
  const WsEvent event = ws.receive(30s, wake.fd());
  const long elapsed_ms = millisecondsSince(start);
  waker.join();
  expect<WsTimeout>(event);
  BOOST_TEST(elapsed_ms >= 250);
  BOOST_TEST(elapsed_ms < 5000);  // the 30 s timeout did not run out
  BOOST_TEST(ws.usable());
  BOOST_TEST(wake.drain());  // receive() only polls the descriptor
  ws.close();
}

BOOST_AUTO_TEST_CASE(ws_wake_up_consumes_no_socket_data) {
  Mailbox mailbox;
  TestServer server(wsHandler(mailbox, [](WebSocket& ws) {
    nextFrame(ws);  // "go"
    sendText(ws, "data");
    nextFrame(ws);
  }));
  WsConnection ws = openWs(server);
  const WakeFd wake;
  BOOST_REQUIRE(ws.send("go").ok());
  wake.signal();
  // Signalled before the call: returns at once whether or not "data" has arrived yet.
  const auto start = Clock::now();
  expect<WsTimeout>(ws.receive(30s, wake.fd()));
  BOOST_TEST(millisecondsSince(start) < 5000);
  BOOST_REQUIRE(wake.drain());
  BOOST_TEST(expect<WsText>(ws.receive(kWait, wake.fd())).text == "data");
  // Drained: the next call waits for its timeout again.
  const auto idle_start = Clock::now();
  expect<WsTimeout>(ws.receive(300ms, wake.fd()));
  BOOST_TEST(millisecondsSince(idle_start) >= 290);
  BOOST_TEST(ws.usable());
  ws.close();
}

BOOST_AUTO_TEST_CASE(ws_send_ping_gets_its_pong_reported) {
  Mailbox mailbox;
  TestServer server(wsHandler(mailbox, [&mailbox](WebSocket& ws) {
    const std::string ping = nextFrame(ws);  // "9:<payload>"
    mailbox.post(ping);
    const std::string payload = ping.substr(2);
    sendText(ws, payload, WebSocket::FRAME_FLAG_FIN | WebSocket::FRAME_OP_PONG);
    nextFrame(ws);
  }));
  WsConnection ws = openWs(server);
  const std::string sequence = "000000000000000001702459164879";
  BOOST_REQUIRE(ws.sendPing(sequence).ok());
  BOOST_TEST(mailbox.take(kWait).value_or("none") == "9:" + sequence);
  BOOST_TEST(expect<WsPong>(ws.receive(kWait)).payload == sequence);
  // A control frame holds at most 125 bytes: refused without sending, connection kept.
  const auto too_long = ws.sendPing(std::string(126, 'x'));
  BOOST_REQUIRE(!too_long.ok());
  BOOST_TEST(too_long.failure().error == TransportError::TooLarge);
  BOOST_TEST(ws.usable());
  ws.close();
}

BOOST_AUTO_TEST_CASE(ws_fragmented_message_spans_receive_calls_and_sends_between_them) {
  Mailbox mailbox;
  TestServer server(wsHandler(mailbox, [&mailbox](WebSocket& ws) {
    sendText(ws, R"({"a":)", WebSocket::FRAME_OP_TEXT);
    mailbox.post(nextFrame(ws));  // the client's heartbeat, sent mid-message
    sendText(ws, "1}",
             WebSocket::FRAME_FLAG_FIN | WebSocket::FRAME_OP_SETRAW | WebSocket::FRAME_OP_CONT);
    nextFrame(ws);
  }));
  WsConnection ws = openWs(server);
  // The first fragment arrives and the caller's short deadline still ends the call on time.
  const auto start = Clock::now();
  expect<WsTimeout>(ws.receive(300ms));
  BOOST_TEST(millisecondsSince(start) < 2000);
  BOOST_TEST(ws.usable());
  BOOST_REQUIRE(ws.send("heartbeat").ok());
  BOOST_TEST(mailbox.take(kWait).value_or("none") == "1:heartbeat");
  BOOST_TEST(expect<WsText>(ws.receive(kWait)).text == R"({"a":1})");
  ws.close();
}

BOOST_AUTO_TEST_CASE(ws_unfinished_message_ends_after_message_timeout_despite_pings) {
  Mailbox mailbox;
  std::atomic<bool> client_done{false};
  TestServer server(wsHandler(mailbox, [&client_done](WebSocket& ws) {
    sendText(ws, R"({"a":)", WebSocket::FRAME_OP_TEXT);
    // A stuck sender that only PINGs, paced like a real one, until the client gives up.
    for (int i = 0; i < 100 && !client_done; ++i) {
      std::this_thread::sleep_for(50ms);
      sendText(ws, "p", WebSocket::FRAME_FLAG_FIN | WebSocket::FRAME_OP_PING);
    }
  }));
  WsOptions options = wsOptions();
  options.message_timeout = 800ms;
  auto opened = WsConnection::open(server.url("wss"), kMeetingId, hme::Secret(kWsToken), options);
  BOOST_REQUIRE(opened.ok());
  WsConnection ws = std::move(opened).value();
  const auto start = Clock::now();
  int timeouts = 0;
  WsEvent event;
  for (;;) {
    const auto call = Clock::now();
    event = ws.receive(200ms);
    // The PINGs never hold a call past its deadline (generous bound for a loaded machine).
    BOOST_TEST(millisecondsSince(call) < 1000);
    if (!std::holds_alternative<WsTimeout>(event)) break;
    ++timeouts;
    BOOST_REQUIRE(millisecondsSince(start) < 10000);
  }
  client_done = true;
  const long elapsed_ms = millisecondsSince(start);
  BOOST_TEST(expect<WsIncompleteMessage>(event).bytes_received == 5u);
  BOOST_TEST(elapsed_ms >= 750);
  BOOST_TEST(elapsed_ms < 3000);
  BOOST_TEST(timeouts >= 2);
  BOOST_TEST(!ws.usable());
}

BOOST_AUTO_TEST_CASE(ws_wake_fd_interrupts_a_message_in_progress) {
  Mailbox mailbox;
  TestServer server(wsHandler(mailbox, [](WebSocket& ws) {
    sendText(ws, R"({"a":)", WebSocket::FRAME_OP_TEXT);
    nextFrame(ws);  // holds the message open until the client closes (or 3 s pass)
  }));
  WsConnection ws = openWs(server);
  const WakeFd wake;
  std::thread waker([&wake] {
    std::this_thread::sleep_for(300ms);
    wake.signal();
  });
  const auto start = Clock::now();
  const WsEvent event = ws.receive(30s, wake.fd());
  const long elapsed_ms = millisecondsSince(start);
  waker.join();
  expect<WsTimeout>(event);
  BOOST_TEST(elapsed_ms >= 250);
  BOOST_TEST(elapsed_ms < 2000);
  BOOST_TEST(ws.usable());
  ws.close();
}

BOOST_AUTO_TEST_CASE(ws_interrupt_receive_ends_a_read_stuck_inside_a_frame) {
  Mailbox mailbox;
  TestServer server([&mailbox](HTTPServerRequest& request, HTTPServerResponse& response) {
    try {
      // The TLS socket itself, taken before the upgrade detaches it from the request, so the
      // script can write raw WebSocket bytes: the header of a 100-byte text frame and only 10
      // bytes of its payload. Then it holds the connection until the client goes.
      Poco::Net::StreamSocket raw =
          static_cast<Poco::Net::HTTPServerRequestImpl&>(request).socket();
      WebSocket ws(request, response);
      ws.setReceiveTimeout(Poco::Timespan(15, 0));
      const char half_frame[] = {'\x81', 100, 'h', 'a', 'l', 'f', ' ', 'f', 'r', 'a', 'm', 'e'};
      raw.sendBytes(half_frame, sizeof half_frame);
      mailbox.post("half frame sent");
      nextFrame(ws);
    } catch (const std::exception& e) {
      mailbox.post(std::string("server ended: ") + e.what());
    }
  });
  // Each read may wait the whole 10 s transport timeout: the wake descriptor cannot reach a read
  // inside a frame, only interruptReceive can.
  WsOptions options = wsOptions();
  options.timeout = 10s;
  auto opened = WsConnection::open(server.url("wss"), kMeetingId, hme::Secret(kWsToken), options);
  BOOST_REQUIRE(opened.ok());
  WsConnection ws = std::move(opened).value();
  BOOST_REQUIRE(mailbox.take(kWait).value_or("none") == "half frame sent");
  const WakeFd wake;
  std::thread interrupter([&ws, &wake] {
    std::this_thread::sleep_for(500ms);
    wake.signal();
    ws.interruptReceive();
  });
  const auto start = Clock::now();
  const WsEvent event = ws.receive(30s, wake.fd());
  const long elapsed_ms = millisecondsSince(start);
  interrupter.join();
  BOOST_TEST(!std::holds_alternative<WsTimeout>(event));
  BOOST_TEST(!std::holds_alternative<WsText>(event));
  BOOST_TEST(elapsed_ms >= 450);
  BOOST_TEST(elapsed_ms < 3000);
  BOOST_TEST(!ws.usable());
}

BOOST_AUTO_TEST_CASE(shared_contexts_follow_a_ca_file_rotated_in_place) {
  // Contexts are shared per TLS settings and host; rewriting the CA file under the same path must
  // still take effect with the next connection, in both directions. (The two committed CA files
  // differ in size, so each rewrite is visible whatever the file system's timestamp granularity.)
  const auto copyFile = [](const std::string& from, const std::string& to) {
    std::ifstream in(from, std::ios::binary);
    std::ofstream out(to, std::ios::binary | std::ios::trunc);  // same inode: a rewrite in place
    out << in.rdbuf();
    BOOST_REQUIRE(out.good());
  };
  const std::string ca_file = (std::filesystem::temp_directory_path() /
                               ("hme-rotated-ca-" + std::to_string(::getpid()) + ".pem"))
                                  .string();
  Mailbox mailbox;
  TestServer server(wsHandler(mailbox, [](WebSocket& ws) { nextFrame(ws); }));
  WsOptions options = wsOptions();
  options.tls = TlsOptions{ca_file, false};
  const auto wsOpens = [&] {
    auto result = WsConnection::open(server.url("wss"), kMeetingId, hme::Secret(kWsToken), options);
    if (!result.ok()) return describe(result);
    result.value().close();
    return std::string("ok");
  };
  const auto restConnects = [&] {
    // A refused handshake is a Tls failure; a completed one reaches the WSS-only handler, which
    // answers the plain request with an error: anything but Tls means the chain was accepted.
    RestClient client(server.url(), options.tls, kTimeout);
    auto result = client.getWsToken(kMeetingId, hme::Secret(kToken));
    return result.ok() || result.failure().error != TransportError::Tls;
  };

  copyFile(pkiPath("untrusted-ca.pem"), ca_file);
  BOOST_TEST(wsOpens().rfind("tls", 0) == 0u, wsOpens());
  BOOST_TEST(!restConnects());
  const auto refused_context =
      hme::transport::sharedClientContext(options.tls, "127.0.0.1", ContextUse::WebSocket);
  BOOST_TEST(refused_context.get() ==
             hme::transport::sharedClientContext(options.tls, "127.0.0.1", ContextUse::WebSocket)
                 .get());  // unchanged file: one shared context

  copyFile(pkiPath("ca.pem"), ca_file);
  BOOST_TEST(wsOpens() == "ok");
  BOOST_TEST(restConnects());
  BOOST_TEST(
      refused_context.get() !=
      hme::transport::sharedClientContext(options.tls, "127.0.0.1", ContextUse::WebSocket).get());

  copyFile(pkiPath("untrusted-ca.pem"), ca_file);  // and back: trust is withdrawn at once
  BOOST_TEST(wsOpens().rfind("tls", 0) == 0u, wsOpens());
  BOOST_TEST(!restConnects());
  std::filesystem::remove(ca_file);
}

BOOST_AUTO_TEST_CASE(ws_open_failures_are_mapped) {
  const auto failure = [](const std::string& url, const WsOptions& options) {
    auto result = WsConnection::open(url, kMeetingId, hme::Secret(kWsToken), options);
    BOOST_REQUIRE(!result.ok());
    requireSecretFree(result.failure());
    return result.failure();
  };
  BOOST_TEST(failure("ws://127.0.0.1:1", wsOptions()).error == TransportError::BadResponse);
  BOOST_TEST(failure("%%%", wsOptions()).error == TransportError::BadResponse);
  BOOST_TEST(failure("wss://127.0.0.1:" + std::to_string(closedPort()), wsOptions()).error ==
             TransportError::ConnectionRefused);

  Mailbox mailbox;
  TestServer untrusted(wsHandler(mailbox, [](WebSocket&) {}), "untrusted-server");
  BOOST_TEST(failure(untrusted.url("wss"), wsOptions()).error == TransportError::Tls);
  WsOptions insecure = wsOptions();
  insecure.tls = TlsOptions{"", true};
  auto accepted =
      WsConnection::open(untrusted.url("https"), kMeetingId, hme::Secret(kWsToken), insecure);
  BOOST_TEST(accepted.ok());
  if (accepted.ok()) accepted.value().close();
}

// ---------------------------------------------------------------------------------------------
// Push host TLS (api.websocket_tls) and the REST overall deadline

BOOST_AUTO_TEST_CASE(ws_name_mismatch_on_an_ip_host_names_the_server_name_setting) {
  // wronghost.pem is issued by the trusted CA for DNS:wrong.example only, like a push host whose
  // wsURL is a raw IP address.
  Mailbox mailbox;
  TestServer server(wsHandler(mailbox, [](WebSocket&) {}), "wronghost");
  auto result =
      WsConnection::open(server.url("wss"), kMeetingId, hme::Secret(kWsToken), wsOptions());
  BOOST_REQUIRE(!result.ok());
  const Failure& failure = result.failure();
  requireSecretFree(failure);
  BOOST_TEST(failure.error == TransportError::Tls);
  BOOST_TEST(failure.detail.find("set api.websocket_tls.server_name") != std::string::npos,
             failure.detail);
  BOOST_TEST(failure.detail.find("wrong.example") != std::string::npos, failure.detail);
  BOOST_TEST(failure.detail.find("127.0.0.1") != std::string::npos, failure.detail);
  BOOST_TEST(server.requests().empty());  // no upgrade (and no token) reached the server
}

BOOST_AUTO_TEST_CASE(ws_server_name_verifies_and_sends_sni_while_connecting_to_the_ip) {
  Mailbox mailbox;
  TestServer server(wsHandler(mailbox, [](WebSocket& ws) { sendText(ws, "hello"); }), "wronghost");
  WsOptions options = wsOptions();
  options.tls.server_name = "wrong.example";
  auto result = WsConnection::open(server.url("wss"), kMeetingId, hme::Secret(kWsToken), options);
  BOOST_REQUIRE_MESSAGE(result.ok(), describe(result));
  WsConnection connection = std::move(result).value();
  BOOST_TEST(expect<WsText>(connection.receive(kWait)).text == "hello");
  connection.close();
  const auto sni = server.sniNames();
  BOOST_TEST(std::count(sni.begin(), sni.end(), "wrong.example") == 1);

  // A server_name the certificate does not hold is refused, and the detail says so.
  options.tls.server_name = "push.other.example";
  auto refused = WsConnection::open(server.url("wss"), kMeetingId, hme::Secret(kWsToken), options);
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.failure().error == TransportError::Tls);
  BOOST_TEST(refused.failure().detail.find("api.websocket_tls.server_name must be a name") !=
                 std::string::npos,
             refused.failure().detail);
  BOOST_TEST(refused.failure().detail.find("not push.other.example") != std::string::npos,
             refused.failure().detail);

  // server_name does not weaken the chain check: an untrusted issuer is still refused, with
  // OpenSSL's reason.
  TestServer untrusted(wsHandler(mailbox, [](WebSocket&) {}), "untrusted-server");
  options.tls.server_name = "localhost";
  auto untrusted_result =
      WsConnection::open(untrusted.url("wss"), kMeetingId, hme::Secret(kWsToken), options);
  BOOST_REQUIRE(!untrusted_result.ok());
  BOOST_TEST(untrusted_result.failure().error == TransportError::Tls);
  BOOST_TEST(untrusted_result.failure().detail ==
             "certificate verify failed: unable to get local issuer certificate");
}

BOOST_AUTO_TEST_CASE(shared_contexts_are_keyed_on_the_server_name) {
  TlsOptions first = trusted();
  first.server_name = "push-a.example";
  TlsOptions second = trusted();
  second.server_name = "push-b.example";
  const auto context = [](const TlsOptions& options) {
    return hme::transport::sharedClientContext(options, "127.0.0.1", ContextUse::WebSocket);
  };
  BOOST_TEST(context(first).get() == context(first).get());
  BOOST_TEST(context(first).get() != context(second).get());
  BOOST_TEST(context(first).get() != context(trusted()).get());
}

BOOST_AUTO_TEST_CASE(trickled_rest_body_times_out_at_the_overall_deadline) {
  // Headers at once, then one body byte every 100 ms: each read gets a byte well within the
  // per-read timeout, so only an overall deadline ends the call (the body would take 30 s).
  constexpr auto kCallTimeout = 1000ms;
  TestServer server([&](HTTPServerRequest&, HTTPServerResponse& response) {
    const std::string body = tokenBody(1);
    response.setContentType("application/json");
    response.setContentLength(static_cast<std::streamsize>(body.size()) + 300);
    std::ostream& out = response.send();
    out << body.substr(0, 10) << std::flush;
    for (int i = 0; i < 300 && out; ++i) {
      if (server.gate().waitFor(100ms)) return;  // the server is stopping
      out << ' ' << std::flush;
    }
  });
  const auto start = Clock::now();
  const Failure failure = controlTokenFailure(server.url(), trusted(), kCallTimeout);
  const long elapsed_ms = millisecondsSince(start);
  BOOST_TEST(failure.error == TransportError::Timeout, failure.detail);
  BOOST_TEST(failure.retryable());
  BOOST_TEST(failure.detail ==
             "answer not complete within 1000 ms (api.timeout, for the whole call including the "
             "body)");
  BOOST_TEST(elapsed_ms >= 950);
  BOOST_TEST(elapsed_ms < 2500);  // generous for loaded sanitizer builds; untreated: 30 s
  BOOST_TEST(server.requests().size() == 1u);

  // A fast answer under the same deadline is unaffected.
  TestServer fast([](HTTPServerRequest&, HTTPServerResponse& response) {
    respondJson(response, 200, tokenBody(1));
  });
  RestClient client(fast.url(), trusted(), kCallTimeout);
  auto result = client.getControlToken(kMeetingId, hme::Secret(kPassword), hme::Secret());
  BOOST_TEST(result.ok(), describe(result));
}

BOOST_AUTO_TEST_CASE(failure_classes_and_names) {
  BOOST_TEST(hme::transport::toString(TransportError::RateLimited) == std::string("rate_limited"));
  BOOST_TEST((Failure{TransportError::Timeout, 0, "", ""}.retryable()));
  BOOST_TEST(!(Failure{TransportError::Rejected, 400, "", ""}.retryable()));
}

BOOST_AUTO_TEST_SUITE_END()
