#include "tests/integration/test_server.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <openssl/ssl.h>

#include <ostream>

namespace hme::testing {
namespace {

int onServerName(SSL* ssl, int* /*alert*/, void* arg) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  static_cast<TestServer*>(arg)->recordSni(name != nullptr ? name : "");
  return SSL_TLSEXT_ERR_OK;
}

class CallbackHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit CallbackHandler(const TestServer::Handler& handler) : handler_(handler) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    handler_(request, response);
  }

 private:
  const TestServer::Handler& handler_;
};

}  // namespace

std::string pkiPath(const std::string& file) {
  return std::string(HME_TESTDATA_DIR) + "/pki/" + file;
}

void Mailbox::post(std::string item) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    items_.push_back(std::move(item));
  }
  changed_.notify_all();
}

std::optional<std::string> Mailbox::take(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [this] { return !items_.empty(); })) return std::nullopt;
  std::string item = std::move(items_.front());
  items_.pop_front();
  return item;
}

void Gate::open() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
  }
  changed_.notify_all();
}

bool Gate::waitFor(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] { return open_; });
}

class TestServer::Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(TestServer& server) : server_(server) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& request) override {
    RecordedRequest record;
    record.method = request.getMethod();
    record.uri = request.getURI();
    for (const auto& [name, value] : request) record.headers.add(name, value);
    {
      std::lock_guard<std::mutex> lock(server_.mutex_);
      server_.requests_.push_back(std::move(record));
    }
    return new CallbackHandler(server_.handler_);
  }

 private:
  TestServer& server_;
};

TestServer::TestServer(Handler handler, const std::string& cert_stem)
    : handler_(std::move(handler)), pool_(2, 8) {
  Poco::Net::initializeSSL();
  Poco::Net::Context::Params params;
  params.privateKeyFile = pkiPath(cert_stem + ".key");
  params.certificateFile = pkiPath(cert_stem + ".pem");
  params.verificationMode = Poco::Net::Context::VERIFY_NONE;
  params.loadDefaultCAs = false;
  Poco::Net::Context::Ptr context =
      new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
  SSL_CTX_set_tlsext_servername_callback(context->sslContext(), onServerName);
  SSL_CTX_set_tlsext_servername_arg(context->sslContext(), this);

  Poco::Net::SecureServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0), 64, context);
  port_ = socket.address().port();
  auto* server_params = new Poco::Net::HTTPServerParams;
  server_params->setKeepAlive(false);
  server_params->setTimeout(Poco::Timespan(3, 0));
  server_ =
      std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), pool_, socket, server_params);
  server_->start();
}

TestServer::~TestServer() { stop(); }

unsigned short TestServer::port() const { return port_; }

std::string TestServer::url(const std::string& scheme, const std::string& host) const {
  return scheme + "://" + host + ":" + std::to_string(port_);
}

std::vector<RecordedRequest> TestServer::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

std::vector<std::string> TestServer::sniNames() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sni_names_;
}

void TestServer::recordSni(std::string name) {
  std::lock_guard<std::mutex> lock(mutex_);
  sni_names_.push_back(std::move(name));
}

Gate& TestServer::gate() { return gate_; }

void TestServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  gate_.open();
  server_->stop();
  pool_.joinAll();
  Poco::Net::uninitializeSSL();
}

void respondJson(Poco::Net::HTTPServerResponse& response, int status, const std::string& body) {
  response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  response.setContentType("application/json");
  response.setContentLength(static_cast<std::streamsize>(body.size()));
  response.send() << body;
}

SilentListener::SilentListener() : socket_(Poco::Net::SocketAddress("127.0.0.1", 0), 8) {}

unsigned short SilentListener::port() const { return socket_.address().port(); }

unsigned short closedPort() {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  const unsigned short port = socket.address().port();
  socket.close();
  return port;
}

}  // namespace hme::testing
