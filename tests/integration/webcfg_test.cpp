// --web.config.file: the loader, Basic auth with bcrypt, and TLS (with client certificates) on
// real sockets on 127.0.0.1:0.
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "plugin/app/cli.h"
#include "plugin/log/log.h"
#include "plugin/transport/tls.h"
#include "plugin/web/basic_auth.h"
#include "plugin/web/web_config.h"
#include "plugin/web/web_server.h"

namespace {

using hme::web::BasicAuthenticator;
using hme::web::ClientAuth;
using hme::web::TlsVersion;
using hme::web::WebConfig;
using hme::web::WebConfigError;
using hme::web::WebHandlers;
using hme::web::WebOptions;
using hme::web::WebServer;

const std::string kTestdata = HME_TESTDATA_DIR;
const std::string kPki = kTestdata + "/pki/";

// Made with `htpasswd -nbBC 4 "" "right horse"` (APR's bcrypt, independent of libcrypt).
const std::string kHash2y = "$2y$04$OaLh8CAkGU7lRLseggib4eECr4Lg07tYYQ8qBdSBD5/IXXGdtWr8m";
const std::string kPassword = "right horse";
// `htpasswd -nbBC 5 "" "other secret"`.
const std::string kOtherHash = "$2y$05$VTXUc26ikmm8OmGfo.vx1OAVdrjwVqTMxczXw0anodGLCLsG0rSw2";

std::string basic(const std::string& user, const std::string& password) {
  const std::string raw = user + ":" + password;
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < raw.size(); i += 3) {
    unsigned v = static_cast<unsigned>(static_cast<unsigned char>(raw[i])) << 16;
    if (i + 1 < raw.size()) v |= static_cast<unsigned>(static_cast<unsigned char>(raw[i + 1])) << 8;
    if (i + 2 < raw.size()) v |= static_cast<unsigned char>(raw[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += i + 1 < raw.size() ? alphabet[(v >> 6) & 63] : '=';
    out += i + 2 < raw.size() ? alphabet[v & 63] : '=';
  }
  return "Basic " + out;
}

void expectError(const std::string& yaml, const std::string& fragment) {
  try {
    hme::web::parseWebConfig(yaml, "", "web.yml");
    BOOST_ERROR("no error for: " << yaml);
  } catch (const WebConfigError& e) {
    BOOST_TEST(std::string(e.what()).find(fragment) != std::string::npos,
               "message \"" << e.what() << "\" lacks \"" << fragment << "\"");
  }
}

struct Answer {
  int status = 0;
  std::string body;
  std::string www_authenticate;
  std::string frame_options;
};

Answer ask(Poco::Net::HTTPClientSession& session, const std::string& path,
           const std::string& authorization = "",
           const std::string& method = Poco::Net::HTTPRequest::HTTP_GET) {
  session.setTimeout(Poco::Timespan(10, 0));
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  if (!authorization.empty()) request.set("Authorization", authorization);
  if (method == Poco::Net::HTTPRequest::HTTP_POST) request.setContentLength(0);
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  Answer a;
  a.status = static_cast<int>(response.getStatus());
  Poco::StreamCopier::copyToString(in, a.body);
  a.www_authenticate = response.get("WWW-Authenticate", "");
  a.frame_options = response.get("X-Frame-Options", "");
  return a;
}

WebHandlers handlers() {
  WebHandlers h;
  h.render_metrics = [] { return std::string("huawei_meeting_up{meeting_id=\"1\"} 1\n"); };
  h.render_status_html = [] { return std::string("<html><body>status</body></html>"); };
  h.reload = [] { return std::make_pair(true, std::string("reloaded")); };
  h.ready = [] { return std::make_pair(true, std::string("ready")); };
  return h;
}

// A server on 127.0.0.1:0 with the given web config (and, optionally, an authenticator).
struct Server {
  std::unique_ptr<WebServer> server;
  std::uint16_t port = 0;

  explicit Server(WebConfig config, std::shared_ptr<BasicAuthenticator> authenticator = nullptr) {
    WebOptions options;
    options.listen_addresses = {"127.0.0.1:0"};
    options.web_config = std::move(config);
    options.authenticator = std::move(authenticator);
    server = std::make_unique<WebServer>(options, handlers());
    server->start();
    const std::string bound = server->boundAddresses().at(0);
    port = static_cast<std::uint16_t>(std::stoul(bound.substr(bound.rfind(':') + 1)));
  }
  ~Server() { server->stop(); }
};

hme::web::TlsServerConfig serverTls() {
  hme::web::TlsServerConfig tls;
  tls.cert_file = kPki + "server.pem";
  tls.key_file = kPki + "server.key";
  return tls;
}

// A client trusting `ca` (verification on, host 127.0.0.1), presenting `client_stem`.pem/.key
// from the test PKI if given, and speaking at most `max_version`.
Poco::Net::Context::Ptr clientContext(const std::string& ca = "ca.pem",
                                      const std::string& client_stem = "",
                                      int max_version = TLS1_3_VERSION) {
  hme::transport::TlsOptions options;
  options.ca_file = kPki + ca;
  auto context = hme::transport::makeClientContext(options, "127.0.0.1");
  SSL_CTX* ctx = context->sslContext();
  if (!client_stem.empty()) {
    BOOST_REQUIRE(SSL_CTX_use_certificate_file(ctx, (kPki + client_stem + ".pem").c_str(),
                                               SSL_FILETYPE_PEM) == 1);
    BOOST_REQUIRE(SSL_CTX_use_PrivateKey_file(ctx, (kPki + client_stem + ".key").c_str(),
                                              SSL_FILETYPE_PEM) == 1);
  }
  BOOST_REQUIRE(SSL_CTX_set_max_proto_version(ctx, max_version) == 1);
  return context;
}

// One HTTPS GET; the status, or -1 when the connection or handshake failed.
int httpsStatus(std::uint16_t port, const Poco::Net::Context::Ptr& context,
                const std::string& path = "/metrics") {
  try {
    Poco::Net::HTTPSClientSession session("127.0.0.1", port, context);
    return ask(session, path).status;
  } catch (const Poco::Exception&) {
    return -1;
  }
}

// Runs a shell command; returns its exit status and combined output.
std::pair<int, std::string> run(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  BOOST_REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string writeTemp(const std::string& name, const std::string& text) {
  const std::string path = "/tmp/hme_webcfg_" + std::to_string(::getpid()) + "_" + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(webcfg)

BOOST_AUTO_TEST_CASE(parses_the_exporter_toolkit_format) {
  const WebConfig config = hme::web::parseWebConfig(R"(
tls_server_config:
  cert_file: server.pem
  key_file: /abs/server.key
  client_ca_file: ca.pem
  client_auth_type: RequireAndVerifyClientCert
  min_version: TLS13
http_server_config:
  http2: false
  headers:
    X-Frame-Options: deny
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  prometheus: )" + kHash2y + "\n",
                                                    "/etc/hme/");
  BOOST_REQUIRE(config.tls.has_value());
  BOOST_TEST(config.tls->cert_file == "/etc/hme/server.pem");
  BOOST_TEST(config.tls->key_file == "/abs/server.key");
  BOOST_TEST(config.tls->client_ca_file == "/etc/hme/ca.pem");
  BOOST_TEST((config.tls->client_auth == ClientAuth::RequireAndVerifyClientCert));
  BOOST_TEST((config.tls->min_version == TlsVersion::Tls13));
  BOOST_TEST((config.tls->max_version == TlsVersion::Tls13));
  BOOST_TEST(config.headers.size() == 2u);
  BOOST_TEST(config.basic_auth_users.at("prometheus") == kHash2y);

  const WebConfig empty = hme::web::parseWebConfig("");
  BOOST_TEST(!empty.tls.has_value());
  BOOST_TEST(empty.basic_auth_users.empty());
  // exporter-toolkit serves plain HTTP for an empty TLS section.
  BOOST_TEST(!hme::web::parseWebConfig("tls_server_config: {}\n").tls.has_value());
}

BOOST_AUTO_TEST_CASE(errors_name_the_key_and_never_the_hash) {
  expectError("tls_server_config:\n  cert_file: a\n  key_file: b\n  bogus: 1\n",
              "web.yml: tls_server_config.bogus: unknown key");
  expectError("basic_auth_user:\n  a: b\n", "web.yml: basic_auth_user: unknown key");
  expectError("http_server_config:\n  headers:\n    X-Foo: bar\n",
              "http_server_config.headers.X-Foo: this header cannot be configured");
  expectError("http_server_config:\n  headers:\n    X-Frame-Options: DENY\n",
              "X-Frame-Options: must be \"deny\" or \"sameorigin\"");
  expectError("http_server_config:\n  http3: true\n", "http_server_config.http3: unknown key");
  expectError("tls_server_config:\n  cert_file: a\n", "tls_server_config.key_file: missing");
  expectError("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Foo\n",
              "tls_server_config.client_auth_type: must be one of");
  expectError("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS10\n",
              "tls_server_config.min_version: TLS10 is not supported");
  expectError("tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [x]\n",
              "tls_server_config.cipher_suites: not supported");
  expectError(
      "tls_server_config:\n  cert_file: a\n  key_file: b\n"
      "  client_auth_type: RequireAndVerifyClientCert\n",
      "tls_server_config.client_ca_file: missing");
  expectError("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n",
              "client_auth_type: client_ca_file is set but client_auth_type is NoClientCert");
  expectError("basic_auth_users:\n  \"a:b\": " + kHash2y + "\n", "basic_auth_users.a:b");
  expectError("basic_auth_users: [a]\n", "basic_auth_users: expected a map");
  expectError("[1, 2]\n", "expected a map at the top level");
  expectError("a: [\n", "invalid YAML at line");
  try {
    hme::web::parseWebConfig("basic_auth_users:\n  alice: $2y$10$tooshort\n", "", "web.yml");
    BOOST_ERROR("a malformed hash was accepted");
  } catch (const WebConfigError& e) {
    const std::string message = e.what();
    BOOST_TEST(message.find("basic_auth_users.alice: not a bcrypt hash") != std::string::npos);
    BOOST_TEST(message.find("tooshort") == std::string::npos);  // the value is not echoed
  }
}

BOOST_AUTO_TEST_CASE(recognises_bcrypt_hashes) {
  BOOST_TEST(hme::web::isBcryptHash(kHash2y));
  BOOST_TEST(hme::web::isBcryptHash("$2b$" + kHash2y.substr(4)));
  BOOST_TEST(hme::web::isBcryptHash("$2a$" + kHash2y.substr(4)));
  BOOST_TEST(!hme::web::isBcryptHash("$2x$" + kHash2y.substr(4)));
  BOOST_TEST(!hme::web::isBcryptHash("$2y$03$" + kHash2y.substr(7)));
  BOOST_TEST(!hme::web::isBcryptHash("$2y$32$" + kHash2y.substr(7)));
  BOOST_TEST(!hme::web::isBcryptHash(kHash2y.substr(0, 59)));
  BOOST_TEST(!hme::web::isBcryptHash(kHash2y.substr(0, 59) + "!"));
  BOOST_TEST(!hme::web::isBcryptHash("$6$salt$hash"));
}

BOOST_AUTO_TEST_CASE(loads_the_shipped_example_and_resolves_paths_next_to_the_file) {
  const WebConfig example =
      hme::web::loadWebConfigFile(kTestdata + "/../../deploy/web-config.example.yml");
  BOOST_TEST(example.basic_auth_users.size() == 1u);
  BOOST_TEST(!example.headers.empty());

  const WebConfig tls = hme::web::loadWebConfigFile(kTestdata + "/webcfg/tls-client-auth.yml");
  BOOST_REQUIRE(tls.tls.has_value());
  BOOST_TEST(tls.tls->cert_file == kTestdata + "/webcfg/../pki/server.pem");
  BOOST_TEST((tls.tls->client_auth == ClientAuth::RequireAndVerifyClientCert));

  BOOST_CHECK_THROW(hme::web::loadWebConfigFile(kTestdata + "/webcfg/missing.yml"), WebConfigError);
  BOOST_CHECK_THROW(hme::web::loadWebConfigFile(kTestdata + "/webcfg"), WebConfigError);
}

BOOST_AUTO_TEST_CASE(parses_basic_authorization_headers) {
  const auto creds = hme::web::parseBasicAuthorization(basic("alice", "pa:ss word"));
  BOOST_REQUIRE(creds.has_value());
  BOOST_TEST(creds->user == "alice");
  BOOST_TEST(creds->password == "pa:ss word");  // split at the first colon only
  BOOST_TEST(hme::web::parseBasicAuthorization("basic YTpi").has_value());  // scheme any case
  BOOST_TEST(!hme::web::parseBasicAuthorization("").has_value());
  BOOST_TEST(!hme::web::parseBasicAuthorization("Bearer YTpi").has_value());
  BOOST_TEST(!hme::web::parseBasicAuthorization("Basic YWJj").has_value());   // no colon
  BOOST_TEST(!hme::web::parseBasicAuthorization("Basic YTpiY").has_value());  // no padding
  BOOST_TEST(!hme::web::parseBasicAuthorization("Basic YT=i").has_value());   // bad padding
  BOOST_TEST(!hme::web::parseBasicAuthorization("Basic YT!i").has_value());   // bad alphabet
}

BOOST_AUTO_TEST_CASE(bcrypt_verifies_htpasswd_hashes_of_every_prefix) {
  BOOST_TEST(hme::web::bcryptVerify(kPassword, kHash2y));
  BOOST_TEST(hme::web::bcryptVerify(kPassword, "$2b$" + kHash2y.substr(4)));
  BOOST_TEST(hme::web::bcryptVerify(kPassword, "$2a$" + kHash2y.substr(4)));
  BOOST_TEST(!hme::web::bcryptVerify("right horsE", kHash2y));
  BOOST_TEST(!hme::web::bcryptVerify("", kHash2y));
  BOOST_TEST(!hme::web::bcryptVerify(std::string("right horse\0x", 13), kHash2y));
  BOOST_TEST(!hme::web::bcryptVerify(kPassword, "$2y$04$broken"));
  BOOST_TEST(hme::web::bcryptVerify("other secret", kOtherHash));
  // A setting (no hash part) never matches: that is what unknown users are checked against.
  const std::string setting = hme::web::bcryptSetting(4);
  BOOST_TEST(setting.rfind("$2b$04$", 0) == 0u);
  BOOST_TEST(setting.size() == 29u);
  BOOST_TEST(!hme::web::bcryptVerify(kPassword, setting));
}

BOOST_AUTO_TEST_CASE(unknown_users_cost_a_verification_like_wrong_passwords) {
  struct Call {
    std::string password;
    std::string hash;
  };
  auto calls = std::make_shared<std::vector<Call>>();
  const std::string cost12 = "$2y$12$" + kHash2y.substr(7);
  BasicAuthenticator auth({{"alice", kHash2y}, {"bob", cost12}},
                          [calls](std::string_view password, const std::string& hash) {
                            calls->push_back({std::string(password), hash});
                            return hme::web::bcryptVerify(password, hash);
                          });
  // The dummy is as costly as the costliest configured hash.
  BOOST_TEST(auth.dummyHash().rfind("$2b$12$", 0) == 0u);

  BOOST_TEST(!auth.authorize(""));  // no credentials at all: nothing to verify
  BOOST_TEST(!auth.authorize("Basic !!!!"));
  BOOST_TEST(calls->empty());

  BOOST_TEST(!auth.authorize(basic("mallory", kPassword)));
  BOOST_REQUIRE(calls->size() == 1u);
  BOOST_TEST(calls->back().hash == auth.dummyHash());
  BOOST_TEST(calls->back().password == kPassword);

  BOOST_TEST(!auth.authorize(basic("alice", "wrong")));
  BOOST_REQUIRE(calls->size() == 2u);
  BOOST_TEST(calls->back().hash == kHash2y);

  // Failures are not cached: the same attempt costs a verification again, for both kinds.
  BOOST_TEST(!auth.authorize(basic("mallory", kPassword)));
  BOOST_TEST(!auth.authorize(basic("alice", "wrong")));
  BOOST_TEST(calls->size() == 4u);

  BOOST_TEST(auth.authorize(basic("alice", kPassword)));
  BOOST_TEST(calls->size() == 5u);
  // Success is cached: the next scrape costs no bcrypt.
  BOOST_TEST(auth.authorize(basic("alice", kPassword)));
  BOOST_TEST(auth.authorize(basic("alice", kPassword)));
  BOOST_TEST(calls->size() == 5u);
  BOOST_TEST(auth.verifications() == 5u);
  // The cache is keyed by the password too.
  BOOST_TEST(!auth.authorize(basic("alice", kPassword + "x")));
  BOOST_TEST(calls->size() == 6u);
}

BOOST_AUTO_TEST_CASE(every_path_needs_credentials_when_basic_auth_is_configured) {
  WebConfig config;
  config.basic_auth_users = {{"prometheus", kHash2y}};
  config.headers = {{"X-Frame-Options", "deny"}};
  auto auth = std::make_shared<BasicAuthenticator>(config.basic_auth_users);
  Server s(config, auth);
  for (const std::string path : {"/metrics", "/", "/-/healthy", "/-/ready", "/nope"}) {
    Poco::Net::HTTPClientSession session("127.0.0.1", s.port);
    const Answer missing = ask(session, path);
    BOOST_TEST(missing.status == 401, path);
    BOOST_TEST(missing.www_authenticate == "Basic", path);
    BOOST_TEST(missing.frame_options == "deny", path);  // configured headers on a 401 too
    BOOST_TEST(missing.body.find("huawei_meeting_up") == std::string::npos);
  }
  Poco::Net::HTTPClientSession session("127.0.0.1", s.port);
  BOOST_TEST(ask(session, "/-/reload", "", Poco::Net::HTTPRequest::HTTP_POST).status == 401);
  BOOST_TEST(auth->verifications() == 0u);  // no credentials: nothing was verified

  const Answer wrong = ask(session, "/metrics", basic("prometheus", "wrong"));
  BOOST_TEST(wrong.status == 401);
  BOOST_TEST(wrong.www_authenticate == "Basic");
  BOOST_TEST(auth->verifications() == 1u);
  BOOST_TEST(ask(session, "/metrics", basic("nobody", kPassword)).status == 401);
  BOOST_TEST(auth->verifications() == 2u);  // the unknown user cost a bcrypt as well

  const Answer right = ask(session, "/metrics", basic("prometheus", kPassword));
  BOOST_TEST(right.status == 200);
  BOOST_TEST(right.body.find("huawei_meeting_up") != std::string::npos);
  BOOST_TEST(right.www_authenticate.empty());
  BOOST_TEST(right.frame_options == "deny");
  BOOST_TEST(ask(session, "/-/healthy", basic("prometheus", kPassword)).status == 200);
  BOOST_TEST(ask(session, "/-/ready", basic("prometheus", kPassword)).status == 200);
  BOOST_TEST(auth->verifications() == 3u);  // cached after the first success
}

BOOST_AUTO_TEST_CASE(tls_scrape_with_the_right_ca_works_and_plaintext_fails_cleanly) {
  WebConfig config;
  config.tls = serverTls();
  Server s(config);
  BOOST_TEST(httpsStatus(s.port, clientContext()) == 200);
  // A client that does not trust the server's CA refuses the handshake.
  BOOST_TEST(httpsStatus(s.port, clientContext("untrusted-ca.pem")) == -1);
  // Plain HTTP to the TLS port: the client gets an error, not an answer...
  bool plaintext_failed = false;
  try {
    Poco::Net::HTTPClientSession plain("127.0.0.1", s.port);
    const Answer a = ask(plain, "/metrics");
    plaintext_failed = a.status != 200 && a.body.find("huawei_meeting_up") == std::string::npos;
  } catch (const Poco::Exception&) {
    plaintext_failed = true;
  }
  BOOST_TEST(plaintext_failed);
  // ...and the server keeps serving.
  BOOST_TEST(s.server->running());
  BOOST_TEST(httpsStatus(s.port, clientContext()) == 200);
}

BOOST_AUTO_TEST_CASE(tls_with_basic_auth) {
  WebConfig config;
  config.tls = serverTls();
  config.basic_auth_users = {{"prometheus", kHash2y}};
  Server s(config);
  Poco::Net::HTTPSClientSession session("127.0.0.1", s.port, clientContext());
  BOOST_TEST(ask(session, "/metrics").status == 401);
  BOOST_TEST(ask(session, "/metrics", basic("prometheus", kPassword)).status == 200);
}

BOOST_AUTO_TEST_CASE(require_and_verify_client_cert) {
  WebConfig config;
  config.tls = serverTls();
  config.tls->client_ca_file = kPki + "ca.pem";
  config.tls->client_auth = ClientAuth::RequireAndVerifyClientCert;
  Server s(config);
  BOOST_TEST(httpsStatus(s.port, clientContext()) == -1);                               // none
  BOOST_TEST(httpsStatus(s.port, clientContext("ca.pem", "selfsigned-client")) == -1);  // untrusted
  BOOST_TEST(httpsStatus(s.port, clientContext("ca.pem", "client")) == 200);
  // Also over TLS 1.2, where the refusal happens inside the handshake.
  BOOST_TEST(httpsStatus(s.port, clientContext("ca.pem", "", TLS1_2_VERSION)) == -1);
  BOOST_TEST(httpsStatus(s.port, clientContext("ca.pem", "client", TLS1_2_VERSION)) == 200);
}

BOOST_AUTO_TEST_CASE(other_client_auth_types) {
  WebConfig any;
  any.tls = serverTls();
  any.tls->client_auth = ClientAuth::RequireAnyClientCert;
  {
    Server s(any);
    BOOST_TEST(httpsStatus(s.port, clientContext()) == -1);
    BOOST_TEST(httpsStatus(s.port, clientContext("ca.pem", "selfsigned-client")) == 200);
  }
  WebConfig if_given;
  if_given.tls = serverTls();
  if_given.tls->client_ca_file = kPki + "ca.pem";
  if_given.tls->client_auth = ClientAuth::VerifyClientCertIfGiven;
  {
    Server s(if_given);
    BOOST_TEST(httpsStatus(s.port, clientContext()) == 200);
    BOOST_TEST(httpsStatus(s.port, clientContext("ca.pem", "client")) == 200);
    BOOST_TEST(httpsStatus(s.port, clientContext("ca.pem", "selfsigned-client")) == -1);
  }
  WebConfig request;
  request.tls = serverTls();
  request.tls->client_auth = ClientAuth::RequestClientCert;
  {
    Server s(request);
    BOOST_TEST(httpsStatus(s.port, clientContext()) == 200);
    BOOST_TEST(httpsStatus(s.port, clientContext("ca.pem", "selfsigned-client")) == 200);
  }
}

BOOST_AUTO_TEST_CASE(min_version_tls13_refuses_tls12_clients) {
  WebConfig config;
  config.tls = serverTls();
  config.tls->min_version = TlsVersion::Tls13;
  Server s(config);
  BOOST_TEST(httpsStatus(s.port, clientContext("ca.pem", "", TLS1_2_VERSION)) == -1);
  BOOST_TEST(httpsStatus(s.port, clientContext()) == 200);
}

BOOST_AUTO_TEST_CASE(bad_tls_files_are_reported_with_the_file_name) {
  auto attempt = [](hme::web::TlsServerConfig tls) -> std::string {
    WebOptions options;
    options.listen_addresses = {"127.0.0.1:0"};
    options.web_config.tls = std::move(tls);
    try {
      WebServer server(options, handlers());
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  auto missing = serverTls();
  missing.cert_file = kPki + "nope.pem";
  BOOST_TEST(attempt(missing).find("cannot load cert_file \"" + kPki + "nope.pem\"") !=
             std::string::npos);
  auto mismatch = serverTls();
  mismatch.key_file = kPki + "wronghost.key";
  const std::string mismatch_error = attempt(mismatch);
  BOOST_TEST(mismatch_error.find("key_file \"" + kPki + "wronghost.key\"") != std::string::npos,
             mismatch_error);
  BOOST_TEST(mismatch_error.find("mismatch") != std::string::npos, mismatch_error);
  auto bad_ca = serverTls();
  bad_ca.client_ca_file = kPki + "nope-ca.pem";
  bad_ca.client_auth = ClientAuth::RequireAndVerifyClientCert;
  BOOST_TEST(attempt(bad_ca).find("client_ca_file") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_binary_rejects_a_bad_web_config_with_exit_code_1) {
  const std::string bad = writeTemp("bad.yml", "tls_server_config:\n  cert_fil: x\n");
  const auto [code, output] =
      run(std::string(HME_EXPORTER_BINARY) + " --demo --web.listen-address=127.0.0.1:0" +
          " --web.config.file=" + bad);
  BOOST_TEST(code == 1);
  BOOST_TEST(output.find("tls_server_config.cert_fil: unknown key") != std::string::npos, output);
  std::remove(bad.c_str());

  const std::string config = writeTemp("config.yml", "meetings: []\n");
  const auto [ok_code, ok_output] =
      run(std::string(HME_EXPORTER_BINARY) + " --check-config --config.file=" + config +
          " --web.config.file=" + kTestdata + "/webcfg/tls-client-auth.yml");
  BOOST_TEST(ok_code == 0, ok_output);
  BOOST_TEST(ok_output.find("web config OK: TLS") != std::string::npos, ok_output);
  std::remove(config.c_str());
}

BOOST_AUTO_TEST_CASE(command_line_flags) {
  const auto parsed = hme::app::parseCommandLine(
      {"--web.config.file=/etc/web.yml", "--telegraf.execd", "--config.file", "x.yml"});
  BOOST_TEST(parsed.web_config_file == "/etc/web.yml");
  BOOST_TEST(parsed.telegraf_execd);
  BOOST_TEST(parsed.listen_addresses.empty());  // execd mode then opens no HTTP listener
  BOOST_TEST(!hme::app::parseCommandLine({}).telegraf_execd);
  BOOST_CHECK_THROW(hme::app::parseCommandLine({"--web.config.file="}), hme::app::UsageError);
  BOOST_CHECK_THROW(hme::app::parseCommandLine({"--telegraf.execd=true"}), hme::app::UsageError);
  const std::string help = hme::app::usageText();
  BOOST_TEST(help.find("--web.config.file=FILE") != std::string::npos);
  BOOST_TEST(help.find("--telegraf.execd") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(telegraf_log_format_has_level_prefixes_and_no_timestamp) {
  hme::log::Logger logger;
  std::ostringstream out;
  logger.setStream(out);
  logger.setLevel(hme::log::Level::Debug);
  logger.setFormat(hme::log::Format::Telegraf);
  logger.log(hme::log::Level::Debug, "d", {{"k", 1}});
  logger.log(hme::log::Level::Info, "session state changed",
             {{"meeting_id", "900100001"}, {"state", "subscribed up"}});
  logger.log(hme::log::Level::Warn, "two\nlines");
  logger.log(hme::log::Level::Error, "e");
  BOOST_TEST(out.str() ==
             "D! d k=1\n"
             "I! session state changed meeting_id=900100001 state=\"subscribed up\"\n"
             "W! two\\nlines\n"
             "E! e\n");
}

BOOST_AUTO_TEST_SUITE_END()
