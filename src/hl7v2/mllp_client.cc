#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "hl7v2/mllp.h"

namespace carechart::hl7v2 {

StatusOr<std::unique_ptr<MllpClient>> MllpClient::Connect(const std::string& host, uint16_t port,
                                                          int timeout_seconds) {
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
  return std::unique_ptr<MllpClient>(new MllpClient(fd, timeout_seconds));
}

MllpClient::~MllpClient() {
  if (fd_ >= 0) {
    close(fd_);
  }
}

Status MllpClient::SendRaw(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
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
    char buf[65536];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n == 0) {
      return Status(StatusCode::kUnavailable, "the connection was closed");
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Status(StatusCode::kUnavailable, std::string("recv: ") + std::strerror(errno));
    }
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

StatusOr<std::string> MllpClient::Send(const std::string& message) {
  RETURN_IF_ERROR(SendRaw(Frame(message)));
  return ReadFrame();
}

}  // namespace carechart::hl7v2
