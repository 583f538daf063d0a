// The HTTP/1.1 server: keep-alive, non-blocking I/O on a few threads, handlers on a worker pool,
// size and time limits, graceful shutdown. Boost.Beast lives only in server.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "http/message.h"

namespace carechart::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks a free port; see Server::port()
  int io_threads = 2;    // threads doing socket I/O (and, by default, GET/HEAD handlers)
  // Run GET and HEAD handlers on the I/O threads (they must not block for long); other methods
  // always run on the worker pool.
  bool reads_on_io_threads = true;
  int worker_threads = 16;  // threads running handlers (database work blocks here)
  size_t max_body_bytes = 16 * 1024 * 1024;
  size_t max_header_bytes = 64 * 1024;
  int request_timeout_seconds = 60;  // to receive a whole request once it has started
  int idle_timeout_seconds = 75;     // keep-alive connection with no request
  int shutdown_grace_seconds = 30;   // in-flight requests get this long on SIGTERM
  bool access_log = true;
  // HTTPS: PEM certificate chain and private key. Both set: the port speaks TLS 1.2+ only, and a
  // plain HTTP request on it is answered 400 (never served, never redirected). Both empty: HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
};

class Server {
 public:
  // Binds and starts serving on background threads. Errors name the address and the reason (or
  // the certificate/key file that cannot be used).
  static StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options, Handler handler);
  virtual ~Server() = default;

  virtual uint16_t port() const = 0;
  // Blocks until SIGTERM/SIGINT or Stop(), then drains: stops accepting, lets in-flight requests
  // finish (up to the grace period), closes idle connections, and returns.
  virtual void Run() = 0;
  // Starts a graceful shutdown; thread-safe; Run() returns once it is done.
  virtual void Stop() = 0;
};

}  // namespace carechart::http
