// The blocking MLLP client (carechart hl7 send, tests): POSIX sockets, and OpenSSL for TLS with
// the server's certificate and host name verified.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "hl7v2/mllp.h"

namespace carechart::hl7v2 {

struct MllpClient::Tls {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  ~Tls() {
    if (ssl) {
      SSL_free(ssl);
    }
    if (ctx) {
      SSL_CTX_free(ctx);
    }
  }
};

namespace {

// The OpenSSL error queue as text (emptied), or `fallback` when it holds nothing.
std::string SslErrors(const std::string& fallback) {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += out.empty() ? "" : "; ";
    out += buf;
  }
  return out.empty() ? fallback : out;
}

bool IsIpAddress(const std::string& host) {
  in6_addr a6;
  in_addr a4;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

// Sets up TLS on the connected socket `fd` and performs the handshake.
StatusOr<std::unique_ptr<MllpClient::Tls>> StartTls(int fd, const std::string& host,
                                                    const MllpTlsOptions& o) {
  auto tls = std::make_unique<MllpClient::Tls>();
  tls->ctx = SSL_CTX_new(TLS_client_method());
  if (!tls->ctx) {
    return Status(StatusCode::kInternal, SslErrors("cannot create a TLS context"));
  }
  SSL_CTX_set_min_proto_version(tls->ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(tls->ctx, SSL_VERIFY_PEER, nullptr);
  if (!o.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(tls->ctx, o.ca_file.c_str(), nullptr) != 1) {
      return InvalidError("cannot read the CA file " + o.ca_file + ": " + SslErrors("invalid"));
    }
  } else if (SSL_CTX_set_default_verify_paths(tls->ctx) != 1) {
    return Status(StatusCode::kInternal, SslErrors("cannot load the system's trusted CAs"));
  }
  if (!o.cert_file.empty() || !o.key_file.empty()) {
    if (o.cert_file.empty() || o.key_file.empty()) {
      return InvalidError("a client certificate needs both --cert and --key");
    }
    if (SSL_CTX_use_certificate_chain_file(tls->ctx, o.cert_file.c_str()) != 1) {
      return InvalidError("cannot read the client certificate " + o.cert_file + ": " +
                          SslErrors("invalid"));
    }
    if (SSL_CTX_use_PrivateKey_file(tls->ctx, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(tls->ctx) != 1) {
      return InvalidError("cannot use the client key " + o.key_file + ": " +
                          SslErrors("it does not match the certificate"));
    }
  }
  tls->ssl = SSL_new(tls->ctx);
  if (!tls->ssl || SSL_set_fd(tls->ssl, fd) != 1) {
    return Status(StatusCode::kInternal, SslErrors("cannot create a TLS connection"));
  }
  // The certificate must name the host we connected to.
  if (IsIpAddress(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls->ssl), host.c_str());
  } else {
    SSL_set_tlsext_host_name(tls->ssl, host.c_str());
    SSL_set1_host(tls->ssl, host.c_str());
  }
  if (SSL_connect(tls->ssl) != 1) {
    long verify = SSL_get_verify_result(tls->ssl);
    std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify)
                                          : SslErrors("the handshake failed");
    return Status(StatusCode::kUnavailable, "TLS with " + host + " failed: " + why);
  }
  return tls;
}

}  // namespace

MllpClient::MllpClient(int fd, int timeout) : fd_(fd), timeout_(timeout) {}

StatusOr<std::unique_ptr<MllpClient>> MllpClient::Connect(const std::string& host, uint16_t port,
                                                          int timeout_seconds,
                                                          const MllpTlsOptions* tls) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
    return Status(StatusCode::kUnavailable, "cannot resolve " + host + ": " + gai_strerror(rc));
  }
  int fd = -1;
  std::string last = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) {
      continue;
    }
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      break;
    }
    last = std::strerror(errno);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    return Status(StatusCode::kUnavailable,
                  "cannot connect to mllp://" + host + ":" + service + ": " + last);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::unique_ptr<MllpClient> client(new MllpClient(fd, timeout_seconds));
  if (tls) {
    // The handshake blocks: bound it (and every TLS read and write) by the timeout.
    timeval tv{timeout_seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ASSIGN_OR_RETURN(client->tls_, StartTls(fd, host, *tls));
  }
  return client;
}

MllpClient::~MllpClient() {
  if (tls_ && tls_->ssl) {
    SSL_shutdown(tls_->ssl);  // close_notify; the peer's answer is not awaited
  }
  tls_.reset();
  if (fd_ >= 0) {
    close(fd_);
  }
}

Status MllpClient::SendRaw(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    if (tls_) {
      int n = SSL_write(tls_->ssl, bytes.data() + off, static_cast<int>(bytes.size() - off));
      if (n <= 0) {
        return Status(StatusCode::kUnavailable, SslErrors("TLS write failed"));
      }
      off += static_cast<size_t>(n);
      continue;
    }
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Status(StatusCode::kUnavailable, std::string("send: ") + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

StatusOr<size_t> MllpClient::Receive(char* buf, size_t size) {
  for (;;) {
    if (!tls_ || SSL_pending(tls_->ssl) == 0) {
      pollfd p{fd_, POLLIN, 0};
      int rc = poll(&p, 1, timeout_ * 1000);
      if (rc == 0) {
        return Status(StatusCode::kTimeout, "no ACK within the timeout");
      }
      if (rc < 0) {
        if (errno == EINTR) {
          continue;
        }
        return Status(StatusCode::kUnavailable, std::string("poll: ") + std::strerror(errno));
      }
    }
    if (tls_) {
      int n = SSL_read(tls_->ssl, buf, static_cast<int>(size));
      if (n > 0) {
        return static_cast<size_t>(n);
      }
      int err = SSL_get_error(tls_->ssl, n);
      if (err == SSL_ERROR_ZERO_RETURN) {
        return size_t{0};
      }
      if (err == SSL_ERROR_WANT_READ) {
        continue;  // a TLS record without application data (e.g. a session ticket)
      }
      if (err == SSL_ERROR_SYSCALL && n == 0 && ERR_peek_error() == 0) {
        return size_t{0};  // closed without close_notify
      }
      return Status(StatusCode::kUnavailable, SslErrors("TLS read failed"));
    }
    ssize_t n = recv(fd_, buf, size, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Status(StatusCode::kUnavailable, std::string("recv: ") + std::strerror(errno));
    }
    return static_cast<size_t>(n);
  }
}

StatusOr<std::string> MllpClient::ReadFrame() {
  for (;;) {
    size_t start = buffer_.find(kMllpStart);
    if (start != std::string::npos) {
      size_t end = buffer_.find(std::string{kMllpEnd, kMllpCr}, start);
      if (end != std::string::npos) {
        std::string frame = buffer_.substr(start + 1, end - start - 1);
        buffer_.erase(0, end + 2);
        return frame;
      }
    }
    char buf[65536];
    ASSIGN_OR_RETURN(size_t n, Receive(buf, sizeof buf));
    if (n == 0) {
      return Status(StatusCode::kUnavailable, "the connection was closed");
    }
    buffer_.append(buf, n);
  }
}

StatusOr<std::string> MllpClient::Send(const std::string& message) {
  RETURN_IF_ERROR(SendRaw(Frame(message)));
  return ReadFrame();
}

}  // namespace carechart::hl7v2
