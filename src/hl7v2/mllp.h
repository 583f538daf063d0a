// MLLP (minimal lower layer protocol) transport for HL7 v2: a listener that hands each framed
// message to a Processor and answers with its ACK, and a blocking client. Asio stays inside
// mllp_server.cc; the client uses plain POSIX sockets.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "hl7v2/processor.h"

namespace carechart::hl7v2 {

struct MllpOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 2575;  // 0 picks a free port; see MllpServer::port()
  int io_threads = 1;
  int worker_threads = 16;  // messages being applied at once (one per sender at most)
  // A frame larger than this is answered AR and its connection closed; a connection never
  // buffers more than this plus one read (it stops reading until its queued frames are applied).
  size_t max_frame_bytes = 16 * 1024 * 1024;
  int idle_timeout_seconds = 600;  // a connection with no traffic is closed
  int max_connections = 1000;
  // TLS (both set): PEM certificate chain and private key files. Plain TCP when both are empty.
  std::string tls_cert_file;
  std::string tls_key_file;
  // With TLS: when set, a client must present a certificate issued by one of these CAs (PEM).
  std::string tls_client_ca_file;
};

class MllpServer {
 public:
  static StatusOr<std::unique_ptr<MllpServer>> Start(const MllpOptions& options,
                                                     Processor& processor);
  virtual ~MllpServer() = default;
  virtual uint16_t port() const = 0;
  // Stops accepting, lets messages being applied finish and their ACKs go out, closes every
  // connection and joins the threads. Idempotent.
  virtual void Stop() = 0;
};

// TLS for the client: the server's certificate is verified against `ca_file` (else the system's
// trust store) and must name the host connected to (DNS name or IP address).
struct MllpTlsOptions {
  std::string ca_file;
  std::string cert_file;  // a client certificate (PEM chain), for listeners that ask for one
  std::string key_file;   // its private key (PEM)
};

// A blocking MLLP client connection, plain TCP or TLS.
class MllpClient {
 public:
  // `tls` null: plain TCP.
  static StatusOr<std::unique_ptr<MllpClient>> Connect(const std::string& host, uint16_t port,
                                                       int timeout_seconds = 30,
                                                       const MllpTlsOptions* tls = nullptr);
  ~MllpClient();
  // Sends one framed message and waits for one framed reply (the ACK).
  StatusOr<std::string> Send(const std::string& message);
  // Sends raw bytes (tests: partial frames).
  Status SendRaw(const std::string& bytes);
  StatusOr<std::string> ReadFrame();

  struct Tls;  // OpenSSL state (mllp_client.cc)

 private:
  MllpClient(int fd, int timeout);
  StatusOr<size_t> Receive(char* buf, size_t n);  // 0: closed by the peer
  int fd_;
  int timeout_;
  std::string buffer_;
  std::unique_ptr<Tls> tls_;
};

}  // namespace carechart::hl7v2
