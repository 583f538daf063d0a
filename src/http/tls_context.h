// The TLS side of Carechart's listeners (HTTPS, http/server.cc; MLLP, hl7v2/mllp_server.cc): one
// OpenSSL policy for both, and the certificate read again on SIGHUP (decisions D67, D80).
//
// SIGHUP builds a new context from the same files with the same checks and, if it can be used,
// makes it the current one atomically; each new connection takes the context current at its
// start and keeps it (its SSL object holds a reference to its SSL_CTX), so connections already
// open are not disturbed. If the files cannot be used, the current context stays and the error is
// logged: a listener never ends up without a certificate. Every listener holding one reloads on
// the same signal (Asio delivers a signal to every signal_set waiting for it).
#pragma once

#include <utility>  // before Asio: Boost 1.74 + C++20 needs it (see ARCHITECTURE.md)

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "core/status.h"

namespace carechart::http {

struct TlsFiles {
  std::string cert_file;  // PEM certificate chain
  std::string key_file;   // its private key, unencrypted PEM
  // "": no client certificate asked for; else a client must present one issued by one of these
  // CAs (PEM).
  std::string client_ca_file;
};

// A server context for `files`: TLS 1.2 or later, forward-secret AEAD suites only, no
// renegotiation or compression; the key checked against the certificate. Errors name the file.
StatusOr<std::unique_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const TlsFiles& files);

// The context a listener's new connections take, read again from its files on each SIGHUP.
class ReloadingTlsContext {
 public:
  // Builds the first context (an error stops the listener's start) and catches SIGHUP on `ioc`
  // from then on; log lines of a reload begin with `log_prefix` ("" or "hl7: ").
  static StatusOr<std::unique_ptr<ReloadingTlsContext>> Start(boost::asio::io_context& ioc,
                                                              TlsFiles files,
                                                              std::string log_prefix = "");
  ReloadingTlsContext(const ReloadingTlsContext&) = delete;
  ReloadingTlsContext& operator=(const ReloadingTlsContext&) = delete;

  // The context for a connection starting now.
  std::shared_ptr<boost::asio::ssl::context> current() const { return current_.load(); }
  // Stops catching SIGHUP (the listener is stopping); on the io_context's thread.
  void Stop();

 private:
  ReloadingTlsContext(boost::asio::io_context& ioc, TlsFiles files, std::string log_prefix);
  void WaitForSighup();

  const TlsFiles files_;
  const std::string log_prefix_;
  boost::asio::signal_set signals_;
  std::atomic<std::shared_ptr<boost::asio::ssl::context>> current_;
};

}  // namespace carechart::http
