// Boost.Beast server. Kept in this one translation unit: Beast headers cost ~20 s and ~600 MB per
// file to compile.
//
// Threads: `io_threads` run the io_context (accept, read, write: never blocking); each request's
// handler runs on the worker pool, so slow database work never stalls other connections, and the
// response is posted back to the connection's strand for writing.
//
// HTTPS (ServerOptions::tls_cert_file): one Session template serves both plain TCP and
// Beast's OpenSSL stream. On a TLS port a Detector first peeks at the first bytes: a TLS
// ClientHello gets a TLS session; anything else is plain HTTP sent to the HTTPS port and is
// answered 400 without running the handler (a redirect would make a client that just sent a
// token or password in clear appear to work).
#include <utility>  // before Asio: Boost 1.74 + C++20 needs it (see ARCHITECTURE.md)

#include "http/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <type_traits>
#include <vector>

#include "http/heap_limits.h"
#include "http/tls_context.h"
#include "http/url.h"

namespace carechart::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

class ServerImpl;

// A body whose Content-Length is at least this is read straight into the request's string, sized
// up front, instead of through the connection's buffer 64 KiB at a time and copied from there
// (D105). Smaller and chunked bodies keep Beast's parser, which is cheaper for them.
constexpr std::uint64_t kDirectBodyBytes = 64 * 1024;

std::string ErrorBody(int status, std::string_view code, std::string_view text) {
  // The HTTP layer's own errors (before a handler runs) still answer with an OperationOutcome.
  std::string s = R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":")";
  s += code;
  s += R"(","diagnostics":")";
  s += text;
  s += "\"}]}";
  (void)status;
  return s;
}

// What the server keeps of a connection, whatever its stream (to close idle ones at shutdown).
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection if it is waiting for a request (used at shutdown).
  virtual void CloseIfIdle() = 0;
};

// One connection. Stream is beast::tcp_stream (HTTP) or TlsStream (HTTPS).
template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  // Plain HTTP. `buffer` holds bytes already read (by a Detector); `refuse` answers every
  // request 400 (plain HTTP on the HTTPS port).
  Session(beast::tcp_stream stream, ServerImpl& server, beast::flat_buffer buffer,
          bool refuse) requires(!kTls);
  // HTTPS: the handshake starts with the bytes the Detector already read.
  Session(beast::tcp_stream stream, net::ssl::context& tls, ServerImpl& server,
          beast::flat_buffer buffer) requires(kTls);
  void Start();
  void CloseIfIdle() override;

 private:
  using std::enable_shared_from_this<Session<Stream>>::shared_from_this;
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }
  void DoRead();
  void OnHeader(beast::error_code ec);
  void OnBody(beast::error_code ec);
  // Reads the `length` bytes of the body into the parser's message (D105), then OnBody.
  void ReadBodyDirectly(std::size_t length);
  void Dispatch();
  // Runs the handler; exceptions become a 500 (details only in the log).
  Response Invoke(Request& request);
  void SendError(int status, std::string_view code, std::string_view text, bool close);
  void Send(Response response, bool keep_alive);
  // Writes `res` (headers from `response`, body already set) and continues the connection.
  template <class Body>
  void Write(std::shared_ptr<bhttp::response<Body>> res, Response response, bool keep_alive);
  // `graceful`: no read is pending, so a TLS close_notify can be exchanged first.
  void Close(bool graceful = false);
  void CloseSocket();
  // After an early error reply: stop sending, read and discard what the client still sends (so
  // that closing does not reset the connection before the client has read the reply), then close.
  void DrainAndClose();
  void BeginRequest();
  void EndRequest();

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  ServerImpl& server_;
  std::string remote_;
  bool refuse_ = false;
  bool busy_ = false;
  bool closed_ = false;
  bool counted_ = false;  // this connection's request is counted in the server's in-flight total
  bool close_after_drain_ = false;
  // The request being answered is a HEAD: send the headers of the GET answer (its Content-Length
  // included, RFC 9110 §9.3.2) and no body, whatever body the handler produced.
  bool head_ = false;
  std::array<char, 65536> discard_{};
  std::chrono::steady_clock::time_point started_;
};

// The first bytes on an HTTPS port: a TLS handshake or plain HTTP (refused).
class Detector : public std::enable_shared_from_this<Detector> {
 public:
  Detector(tcp::socket socket, ServerImpl& server) : stream_(std::move(socket)), server_(server) {}
  void Run();

 private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  ServerImpl& server_;
};

class ServerImpl : public Server {
 public:
  ServerImpl(const ServerOptions& options, Handler handler)
      : options_(options),
        handler_(std::move(handler)),
        ioc_(options.io_threads),
        acceptor_(ioc_),
        signals_(ioc_, SIGINT, SIGTERM),
        work_guard_(net::make_work_guard(ioc_)),
        workers_(static_cast<size_t>(std::max(1, options.worker_threads))) {}

  ~ServerImpl() override {
    Stop();
    work_guard_.reset();
    ioc_.stop();
    JoinAll();
  }

  Status Bind() {
    if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
      if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
        return InvalidError(
            "HTTPS needs both a certificate (--tls-cert) and a private key (--tls-key)");
      }
      ASSIGN_OR_RETURN(tls_, ReloadingTlsContext::Start(
                                 ioc_, {options_.tls_cert_file, options_.tls_key_file, ""}));
    }
    beast::error_code ec;
    auto address = net::ip::make_address(options_.host, ec);
    if (ec) {
      return InvalidError("invalid listen address '" + options_.host + "': " + ec.message());
    }
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) {
      acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
      acceptor_.bind(endpoint, ec);
    }
    if (!ec) {
      acceptor_.listen(net::socket_base::max_listen_connections, ec);
    }
    if (ec) {
      return {StatusCode::kUnavailable, "cannot listen on " + options_.host + ":" +
                                            std::to_string(options_.port) + ": " + ec.message() +
                                            " (is another server using the port? try --port)"};
    }
    port_ = acceptor_.local_endpoint().port();
    signals_.async_wait([this](beast::error_code e, int sig) {
      if (!e) {
        spdlog::info("received signal {}, shutting down gracefully", sig);
        Stop();
      }
    });
    DoAccept();
    for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
      io_threads_.emplace_back([this] { ioc_.run(); });
    }
    return Status::Ok();
  }

  uint16_t port() const override { return port_; }

  void Run() override {
    {
      std::unique_lock lock(mu_);
      stop_cv_.wait(lock, [this] { return stopping_; });
    }
    Drain();
    JoinAll();
  }

  void Stop() override {
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        return;
      }
      stopping_ = true;
    }
    net::post(ioc_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
      signals_.cancel(ec);
      if (tls_) {
        tls_->Stop();
      }
    });
    stop_cv_.notify_all();
  }

  const ServerOptions& options() const { return options_; }
  const Handler& handler() const { return handler_; }
  // Each TLS session takes the context current when it starts: its SSL object holds a reference
  // to the OpenSSL context, so a reload never disturbs connections already open.
  std::shared_ptr<net::ssl::context> tls() { return tls_->current(); }
  net::thread_pool& workers() { return workers_; }
  bool stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }
  void Register(const std::shared_ptr<SessionBase>& s) {
    std::lock_guard lock(mu_);
    sessions_.insert(s);
  }
  void Unregister(const std::shared_ptr<SessionBase>& s) {
    {
      std::lock_guard lock(mu_);
      sessions_.erase(s);
    }
    stop_cv_.notify_all();
  }
  void RequestStarted() { ++in_flight_; }
  void RequestFinished() {
    {
      std::lock_guard lock(mu_);  // pairs with the waits in Drain(): no lost wake-up
      --in_flight_;
    }
    stop_cv_.notify_all();
  }

 private:
  void DoAccept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
      if (ec) {
        if (ec == net::error::operation_aborted) {
          return;
        }
        spdlog::warn("accept failed: {}", ec.message());
      } else if (tls_) {
        std::make_shared<Detector>(std::move(s), *this)->Run();
      } else {
        auto session = std::make_shared<Session<beast::tcp_stream>>(
            beast::tcp_stream(std::move(s)), *this, beast::flat_buffer(), false);
        Register(session);
        session->Start();
      }
      if (!stopping()) {
        DoAccept();
      }
    });
  }

  void Drain() {
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(options_.shutdown_grace_seconds);
    std::unique_lock lock(mu_);
    // Idle keep-alive connections close now; a connection in the middle of a request (reading
    // its body, running its handler or writing its response) is counted in in_flight_ and
    // finishes first.
    for (const auto& weak : sessions_) {
      if (auto s = weak.lock()) {
        s->CloseIfIdle();
      }
    }
    stop_cv_.wait_until(lock, deadline, [this] { return in_flight_.load() == 0; });
    if (in_flight_.load() != 0) {
      spdlog::warn("shutdown: {} requests still running after {} s; stopping anyway",
                   in_flight_.load(), options_.shutdown_grace_seconds);
    }
    for (const auto& weak : sessions_) {
      if (auto s = weak.lock()) {
        s->CloseIfIdle();
      }
    }
    stop_cv_.wait_until(
        lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(2)),
        [this] { return sessions_.empty(); });
    lock.unlock();
    work_guard_.reset();
    ioc_.stop();
  }

  void JoinAll() {
    for (auto& t : io_threads_) {
      if (t.joinable()) {
        t.join();
      }
    }
    io_threads_.clear();
    workers_.join();
  }

  ServerOptions options_;
  Handler handler_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::signal_set signals_;
  // Keeps the I/O threads running while a handler works on the pool with no socket operation
  // pending (otherwise io_context::run() would return and the response would never be written).
  net::executor_work_guard<net::io_context::executor_type> work_guard_;
  net::thread_pool workers_;
  std::unique_ptr<ReloadingTlsContext> tls_;  // null: plain HTTP; SIGHUP reloads it (D67)
  std::vector<std::thread> io_threads_;
  uint16_t port_ = 0;
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::atomic<int> in_flight_{0};
  std::set<std::weak_ptr<SessionBase>, std::owner_less<std::weak_ptr<SessionBase>>> sessions_;
};

std::string RemoteAddress(beast::tcp_stream& stream) {
  beast::error_code ec;
  auto ep = stream.socket().remote_endpoint(ec);
  return ec ? std::string() : ep.address().to_string();
}

template <class Stream>
Session<Stream>::Session(beast::tcp_stream stream, ServerImpl& server, beast::flat_buffer buffer,
                         bool refuse) requires(!kTls)
    : stream_(std::move(stream)),
      buffer_(std::move(buffer)),
      server_(server),
      remote_(RemoteAddress(stream_)),
      refuse_(refuse) {}

template <class Stream>
Session<Stream>::Session(beast::tcp_stream stream, net::ssl::context& tls, ServerImpl& server,
                         beast::flat_buffer buffer) requires(kTls)
    : stream_(std::move(stream), tls),
      buffer_(std::move(buffer)),
      server_(server),
      remote_(RemoteAddress(Lowest())) {}

template <class Stream>
void Session<Stream>::Start() {
  if constexpr (kTls) {
    // The handshake is bounded by the request timeout, so a stalled client cannot hold a slot.
    Lowest().expires_after(std::chrono::seconds(server_.options().request_timeout_seconds));
    stream_.async_handshake(net::ssl::stream_base::server, buffer_.data(),
                            [self = shared_from_this()](beast::error_code ec, std::size_t used) {
                              if (ec) {
                                spdlog::debug("TLS handshake with {} failed: {}", self->remote_,
                                              ec.message());
                                self->Close();
                                return;
                              }
                              self->buffer_.consume(used);
                              self->DoRead();
                            });
  } else {
    DoRead();
  }
}

template <class Stream>
void Session<Stream>::CloseIfIdle() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    if (!self->busy_) {
      self->Close();
    }
  });
}

template <class Stream>
void Session<Stream>::DoRead() {
  if (server_.stopping()) {
    Close();
    return;
  }
  busy_ = false;
  parser_.emplace();
  parser_->body_limit(server_.options().max_body_bytes);
  parser_->header_limit(static_cast<std::uint32_t>(server_.options().max_header_bytes));
  Lowest().expires_after(std::chrono::seconds(server_.options().idle_timeout_seconds));
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
}

template <class Stream>
void Session<Stream>::OnHeader(beast::error_code ec) {
  if (ec == bhttp::error::header_limit) {
    SendError(431, "too-costly", "request headers are larger than the limit", true);
    return;
  }
  if (ec == bhttp::error::body_limit) {  // a declared Content-Length over the limit
    BeginRequest();
    SendError(413, "too-costly",
              "request body is larger than the limit of " +
                  std::to_string(server_.options().max_body_bytes) + " bytes",
              true);
    return;
  }
  if (ec) {
    Close();
    return;
  }
  busy_ = true;
  BeginRequest();
  started_ = std::chrono::steady_clock::now();
  if (refuse_) {
    std::string host(parser_->get()[bhttp::field::host]);
    SendError(400, "security",
              "this port accepts HTTPS only: send the request to https://" +
                  (host.empty() ? std::string("<this host>") : host) +
                  " (nothing sent over plain HTTP is served)",
              true);
    return;
  }
  auto length = parser_->content_length();
  if (length && *length > server_.options().max_body_bytes) {
    SendError(413, "too-costly",
              "request body of " + std::to_string(*length) + " bytes is larger than the limit of " +
                  std::to_string(server_.options().max_body_bytes) + " bytes",
              true);
    return;
  }
  Lowest().expires_after(std::chrono::seconds(server_.options().request_timeout_seconds));
  if (length && *length >= kDirectBodyBytes) {  // within max_body_bytes: checked above
    ReadBodyDirectly(static_cast<std::size_t>(*length));
    return;
  }
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code e, std::size_t) { self->OnBody(e); });
}

template <class Stream>
void Session<Stream>::ReadBodyDirectly(std::size_t length) {
  // The parser has seen the header only; the message it releases in Dispatch gets this body.
  // Bytes past the body stay in buffer_ for the next request, as the parser would leave them.
  std::string& body = parser_->get().body();
  body.resize(length);
  std::size_t buffered = std::min<std::size_t>(buffer_.size(), length);
  net::buffer_copy(net::buffer(body.data(), buffered), buffer_.data());
  buffer_.consume(buffered);
  if (buffered == length) {
    OnBody({});
    return;
  }
  // A client that closes before sending every byte ends the read with an error: OnBody closes
  // the connection and no handler runs, as on the parser's path.
  net::async_read(
      stream_, net::buffer(body.data() + buffered, length - buffered),
      [self = shared_from_this()](beast::error_code e, std::size_t) { self->OnBody(e); });
}

template <class Stream>
void Session<Stream>::OnBody(beast::error_code ec) {
  if (ec == bhttp::error::body_limit) {
    SendError(413, "too-costly", "request body is larger than the limit", true);
    return;
  }
  if (ec == beast::error::timeout) {
    SendError(408, "timeout", "the request was not received in time", true);
    return;
  }
  if (ec) {
    Close();
    return;
  }
  Dispatch();
}

template <class Stream>
void Session<Stream>::Dispatch() {
  auto raw = parser_->release();
  auto request = std::make_shared<Request>();
  request->method = std::string(raw.method_string());
  head_ = request->method == "HEAD";
  request->target = std::string(raw.target());
  request->remote_address = remote_;
  for (const auto& field : raw) {
    std::string name(field.name_string());
    for (auto& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    request->headers.emplace_back(std::move(name), std::string(field.value()));
  }
  request->body = std::move(raw.body());
  std::string_view target = request->target;
  size_t q = target.find('?');
  auto path = PercentDecode(target.substr(0, q), false);
  auto query = q == std::string_view::npos
                   ? std::optional<std::vector<std::pair<std::string, std::string>>>(
                         std::vector<std::pair<std::string, std::string>>())
                   : ParseQuery(target.substr(q + 1));
  if (!path || !query) {
    SendError(400, "invalid", "the request URL has a malformed percent-escape or is not UTF-8",
              !raw.keep_alive());
    return;
  }
  request->path = std::move(*path);
  request->query = std::move(*query);
  bool keep_alive = raw.keep_alive();
  Lowest().expires_never();
  auto run = [self = shared_from_this(), request, keep_alive](bool inline_on_io) {
    Response response = self->Invoke(*request);
    if (inline_on_io) {
      self->Send(std::move(response), keep_alive);
      return;
    }
    net::post(self->stream_.get_executor(),
              [self, response = std::move(response), keep_alive]() mutable {
                self->Send(std::move(response), keep_alive);
              });
    // A large body (a transaction Bundle) left a large parse tree's memory free in this thread's
    // arena: give it back, so the RSS does not keep the peak of every request (heap_limits.h).
    if (request->body.size() >= kReleaseHeapAfterBodyBytes) {
      std::string().swap(request->body);
      ReleaseFreeHeap();
    }
  };
  // Reads never wait for a writer (SQLite WAL) and take tens of microseconds, so they run on the
  // I/O thread: handing them to the pool and back costs two thread wake-ups, more than the read.
  // Everything else (writes wait for the group commit's fsync) runs on the worker pool.
  bool is_read = request->method == "GET" || request->method == "HEAD";
  if (is_read && server_.options().reads_on_io_threads) {
    run(true);
  } else {
    net::post(server_.workers(), [run] { run(false); });
  }
}

template <class Stream>
Response Session<Stream>::Invoke(Request& request) {
  Response response;
  try {
    response = server_.handler()(request);
  } catch (const std::exception& e) {
    spdlog::error("handler threw for {} {}: {}", request.method, request.target, e.what());
    response.status = 500;
    response.body = ErrorBody(500, "exception", "internal error; see the server log");
    response.set_header("Content-Type", "application/fhir+json; charset=utf-8");
  }
  if (server_.options().access_log) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - started_)
                  .count();
    spdlog::info("{} {} {} {} {}B {}us", remote_, request.method, request.target, response.status,
                 response.body.size(), us);
  }
  return response;
}

template <class Stream>
void Session<Stream>::SendError(int status, std::string_view code, std::string_view text,
                                bool close) {
  Response r;
  r.status = status;
  r.body = ErrorBody(status, code, text);
  r.set_header("Content-Type", "application/fhir+json; charset=utf-8");
  if (server_.options().access_log) {
    spdlog::info("{} - - {} {}", remote_, status, text);
  }
  close_after_drain_ = close;
  Send(std::move(r), !close);
}

template <class Stream>
void Session<Stream>::Send(Response response, bool keep_alive) {
  if (head_) {
    std::uint64_t length = response.body.size();
    if (!response.body_file.empty() && response.body.empty()) {
      std::error_code size_ec;
      length = std::filesystem::file_size(response.body_file, size_ec);
      if (size_ec) {
        length = 0;
      }
    }
    head_ = false;
    auto res = std::make_shared<bhttp::response<bhttp::empty_body>>();
    res->content_length(length);
    Write(std::move(res), std::move(response), keep_alive);
    return;
  }
  if (!response.body_file.empty() && response.body.empty()) {
    bhttp::file_body::value_type file;
    beast::error_code open_ec;
    file.open(response.body_file.c_str(), beast::file_mode::scan, open_ec);
    if (!open_ec) {
      auto res = std::make_shared<bhttp::response<bhttp::file_body>>();
      res->body() = std::move(file);
      Write(std::move(res), std::move(response), keep_alive);
      return;
    }
    spdlog::error("cannot open {} for a response: {}", response.body_file, open_ec.message());
    response.status = 500;
    response.headers.clear();
    response.body = ErrorBody(500, "exception", "internal error; see the server log");
    response.set_header("Content-Type", "application/fhir+json; charset=utf-8");
  }
  auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
  res->body() = std::move(response.body);
  Write(std::move(res), std::move(response), keep_alive);
}

template <class Stream>
template <class Body>
void Session<Stream>::Write(std::shared_ptr<bhttp::response<Body>> res, Response response,
                            bool keep_alive) {
  bool stay = keep_alive && !server_.stopping();
  res->version(11);
  res->result(static_cast<unsigned>(response.status));
  res->set(bhttp::field::server, "Carechart");
  for (auto& [name, value] : response.headers) {
    res->set(name, value);
  }
  res->keep_alive(stay);
  if constexpr (!std::is_same_v<Body, bhttp::empty_body>) {
    res->prepare_payload();  // an empty_body answers a HEAD and already carries the GET's length
  }
  Lowest().expires_after(std::chrono::seconds(server_.options().request_timeout_seconds));
  bhttp::async_write(stream_, *res,
                     [self = shared_from_this(), res, stay](beast::error_code ec, std::size_t) {
                       self->EndRequest();
                       if (!ec && self->close_after_drain_) {
                         self->DrainAndClose();
                       } else if (ec || !stay) {
                         self->Close(!ec);
                       } else {
                         self->DoRead();
                       }
                     });
}

template <class Stream>
void Session<Stream>::BeginRequest() {
  if (!counted_) {
    counted_ = true;
    server_.RequestStarted();
  }
}

template <class Stream>
void Session<Stream>::EndRequest() {
  if (counted_) {
    counted_ = false;
    server_.RequestFinished();
  }
}

template <class Stream>
void Session<Stream>::DrainAndClose() {
  if constexpr (kTls) {
    Close(true);  // the TLS close exchange reads (and discards) what the client still sends
  } else {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    Lowest().expires_after(std::chrono::seconds(10));
    stream_.async_read_some(net::buffer(discard_),
                            [self = shared_from_this()](beast::error_code e, std::size_t) {
                              if (e) {
                                self->Close();
                              } else {
                                self->DrainAndClose();
                              }
                            });
  }
}

template <class Stream>
void Session<Stream>::Close(bool graceful) {
  if (closed_) {
    return;
  }
  closed_ = true;
  EndRequest();
  if constexpr (kTls) {
    if (graceful) {
      Lowest().expires_after(std::chrono::seconds(5));
      stream_.async_shutdown(
          [self = shared_from_this()](beast::error_code) { self->CloseSocket(); });
      return;
    }
  }
  (void)graceful;
  CloseSocket();
}

template <class Stream>
void Session<Stream>::CloseSocket() {
  beast::error_code ec;
  // Half-close first so a client still sending (e.g. an oversized body) can read our answer.
  Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
  Lowest().close();
  server_.Unregister(shared_from_this());
}

void Detector::Run() {
  stream_.expires_after(std::chrono::seconds(server_.options().request_timeout_seconds));
  beast::async_detect_ssl(
      stream_, buffer_, [self = shared_from_this()](beast::error_code ec, bool is_tls) {
        if (ec) {
          beast::error_code ignored;
          self->stream_.socket().close(ignored);
          return;
        }
        if (is_tls) {
          auto s =
              std::make_shared<Session<TlsStream>>(std::move(self->stream_), *self->server_.tls(),
                                                   self->server_, std::move(self->buffer_));
          self->server_.Register(s);
          s->Start();
        } else {
          auto s = std::make_shared<Session<beast::tcp_stream>>(
              std::move(self->stream_), self->server_, std::move(self->buffer_), true);
          self->server_.Register(s);
          s->Start();
        }
      });
}

}  // namespace

StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options, Handler handler) {
  try {
    auto server = std::make_unique<ServerImpl>(options, std::move(handler));
    RETURN_IF_ERROR(server->Bind());
    return std::unique_ptr<Server>(std::move(server));
  } catch (const std::exception& e) {
    return Status(StatusCode::kUnavailable,
                  std::string("cannot start the HTTP server: ") + e.what());
  }
}

}  // namespace carechart::http
