// The MLLP listener, plain TCP or TLS (Boost.Asio and its OpenSSL layer are confined to this
// file).
#include <utility>  // boost 1.74 asio needs std::exchange declared first

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "hl7v2/mllp.h"
#include "http/tls_context.h"

namespace carechart::hl7v2 {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

class ServerImpl;

// Queued (received, not yet applied) frames above which a connection stops reading until they
// are applied: a sender that does not wait for its ACKs is slowed down, not buffered without end.
constexpr size_t kMaxQueuedFrames = 64;

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `tls` null: plain TCP.
  Session(tcp::socket socket, ServerImpl& server, std::shared_ptr<asio::ssl::context> tls);
  void Start();
  void Close();  // on the strand
  void StopWhenIdle();

 private:
  void Read();
  void ReadIfRoom();
  void OnRead(const boost::system::error_code& ec, size_t n);
  size_t QueuedBytes() const;
  template <class Buffers, class Handler>
  void AsyncWrite(const Buffers& b, Handler&& h);
  void Extract();
  void Dispatch();
  void WriteAck(std::string ack, bool close_after);
  void ArmTimer();

  tcp::socket socket_;
  std::shared_ptr<asio::ssl::context> tls_context_;  // the one current when the connection came
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;  // null: plain TCP
  ServerImpl& server_;
  asio::strand<asio::any_io_executor> strand_;
  asio::steady_timer timer_;
  std::array<char, 65536> chunk_{};
  std::string buffer_;
  size_t scanned_ = 0;  // buffer_ holds no frame end before this offset
  std::deque<std::string> frames_;
  bool busy_ = false;
  bool reading_ = false;        // a read is outstanding
  std::string pending_reject_;  // an AR for an oversized frame, sent after the ACK in flight
  bool closed_ = false;
  bool stopping_ = false;
  std::string peer_;
};

class ServerImpl : public MllpServer {
 public:
  ServerImpl(const MllpOptions& o, Processor& p)
      : options(o), processor(p), acceptor_(io), workers(std::max(1, o.worker_threads)) {}
  ~ServerImpl() override { Stop(); }

  Status Listen() {
    boost::system::error_code ec;
    if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
      if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
        return InvalidError("HL7 TLS needs both a certificate and a key file");
      }
      ASSIGN_OR_RETURN(
          tls, http::ReloadingTlsContext::Start(
                   io, {options.tls_cert_file, options.tls_key_file, options.tls_client_ca_file},
                   "hl7: "));
    } else if (!options.tls_client_ca_file.empty()) {
      return InvalidError("HL7 client certificates need TLS (a certificate and a key)");
    }
    auto addr = asio::ip::make_address(options.host, ec);
    if (ec) {
      return InvalidError("--host '" + options.host + "' is not an IP address");
    }
    tcp::endpoint ep(addr, options.port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) {
      acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
      acceptor_.bind(ep, ec);
    }
    if (!ec) {
      acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
      return Status(StatusCode::kUnavailable, "cannot listen for HL7 on " + options.host + ":" +
                                                  std::to_string(options.port) + ": " +
                                                  ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (int i = 0; i < std::max(1, options.io_threads); ++i) {
      threads_.emplace_back([this] { io.run(); });
    }
    return Status::Ok();
  }

  uint16_t port() const override { return port_; }

  void Stop() override {
    if (stopped_.exchange(true)) {
      return;
    }
    asio::post(io, [this] {
      boost::system::error_code ec;
      acceptor_.close(ec);
      if (tls) {
        tls->Stop();
      }
      std::vector<std::weak_ptr<Session>> copy;
      {
        std::lock_guard<std::mutex> l(mu);
        copy = sessions;
      }
      for (auto& w : copy) {
        if (auto s = w.lock()) {
          s->StopWhenIdle();
        }
      }
    });
    {
      std::unique_lock<std::mutex> l(mu);
      cv.wait_for(l, std::chrono::seconds(30), [this] {
        std::erase_if(sessions, [](const std::weak_ptr<Session>& w) { return w.expired(); });
        return sessions.empty();
      });
    }
    workers.join();
    work_.reset();
    io.stop();
    for (auto& t : threads_) {
      t.join();
    }
    threads_.clear();
  }

  void Remove(Session* s) {
    std::lock_guard<std::mutex> l(mu);
    std::erase_if(sessions, [s](const std::weak_ptr<Session>& w) {
      auto p = w.lock();
      return !p || p.get() == s;
    });
    cv.notify_all();
  }

  MllpOptions options;
  Processor& processor;
  asio::io_context io;
  // null: plain TCP; read again on SIGHUP, each connection keeping the one it started with (D80)
  std::unique_ptr<http::ReloadingTlsContext> tls;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::weak_ptr<Session>> sessions;

 private:
  void Accept() {
    acceptor_.async_accept(
        asio::make_strand(io), [this](boost::system::error_code ec, tcp::socket socket) {
          if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
              return;
            }
            spdlog::warn("hl7: accept failed: {}", ec.message());
          } else {
            bool full;
            {
              std::lock_guard<std::mutex> l(mu);
              std::erase_if(sessions, [](const std::weak_ptr<Session>& w) { return w.expired(); });
              full = static_cast<int>(sessions.size()) >= options.max_connections;
            }
            if (full) {
              boost::system::error_code ignored;
              socket.close(ignored);
            } else {
              auto s = std::make_shared<Session>(std::move(socket), *this,
                                                 tls ? tls->current() : nullptr);
              {
                std::lock_guard<std::mutex> l(mu);
                sessions.push_back(s);
              }
              s->Start();
            }
          }
          if (!stopped_) {
            Accept();
          }
        });
  }

  tcp::acceptor acceptor_;

 public:
  asio::thread_pool workers;

 private:
  asio::executor_work_guard<asio::io_context::executor_type> work_{io.get_executor()};
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
};

Session::Session(tcp::socket socket, ServerImpl& server, std::shared_ptr<asio::ssl::context> tls)
    : socket_(std::move(socket)),
      tls_context_(std::move(tls)),
      server_(server),
      strand_(asio::make_strand(socket_.get_executor())),
      timer_(strand_) {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec) {
    peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  socket_.set_option(tcp::no_delay(true), ec);
  if (tls_context_) {
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *tls_context_);
  }
}

void Session::Start() {
  asio::dispatch(strand_, [self = shared_from_this()] {
    self->ArmTimer();  // the idle timeout covers a stalled handshake too
    if (!self->tls_) {
      self->Read();
      return;
    }
    self->tls_->async_handshake(
        asio::ssl::stream_base::server,
        asio::bind_executor(self->strand_, [self](boost::system::error_code ec) {
          if (self->closed_) {
            return;
          }
          if (ec) {
            spdlog::warn("hl7: TLS handshake with {} failed: {}", self->peer_, ec.message());
            self->Close();
            return;
          }
          self->Read();
        }));
  });
}

template <class Buffers, class Handler>
void Session::AsyncWrite(const Buffers& b, Handler&& h) {
  if (tls_) {
    asio::async_write(*tls_, b, std::forward<Handler>(h));
  } else {
    asio::async_write(socket_, b, std::forward<Handler>(h));
  }
}

size_t Session::QueuedBytes() const {
  size_t n = buffer_.size();
  for (const auto& f : frames_) {
    n += f.size();
  }
  return n;
}

// Reads on unless the frames already queued are too many or too large (backpressure).
void Session::ReadIfRoom() {
  if (reading_ || closed_ || stopping_) {
    return;
  }
  if (frames_.size() >= kMaxQueuedFrames || QueuedBytes() > server_.options.max_frame_bytes + 2) {
    return;  // resumed by WriteAck once frames were applied
  }
  Read();
}

void Session::ArmTimer() {
  timer_.expires_after(std::chrono::seconds(server_.options.idle_timeout_seconds));
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->closed_) {
      return;
    }
    if (self->busy_ || !self->frames_.empty()) {
      self->ArmTimer();
      return;
    }
    spdlog::info("hl7: closing idle connection {}", self->peer_);
    self->Close();
  });
}

void Session::Read() {
  if (closed_) {
    return;
  }
  reading_ = true;
  auto handler = asio::bind_executor(
      strand_, [self = shared_from_this()](boost::system::error_code ec, size_t n) {
        self->reading_ = false;
        self->OnRead(ec, n);
      });
  if (tls_) {
    tls_->async_read_some(asio::buffer(chunk_), std::move(handler));
  } else {
    socket_.async_read_some(asio::buffer(chunk_), std::move(handler));
  }
}

void Session::OnRead(const boost::system::error_code& ec, size_t n) {
  if (closed_) {
    return;
  }
  if (ec) {
    // The sender went away: what was received but not applied is dropped (it has no ACK and
    // will be resent); a message being applied completes.
    frames_.clear();
    if (!busy_) {
      Close();
    } else {
      closed_ = true, server_.Remove(this);
    }
    return;
  }
  buffer_.append(chunk_.data(), n);
  ArmTimer();
  Extract();
  ReadIfRoom();
}

void Session::Extract() {
  const size_t max = server_.options.max_frame_bytes;
  for (;;) {
    size_t start = buffer_.find(kMllpStart);
    if (start == std::string::npos) {
      buffer_.clear();  // bytes outside a frame are ignored
      scanned_ = 0;
      return;
    }
    if (start > 0) {
      buffer_.erase(0, start);
      scanned_ = 0;
    }
    // Only the bytes not searched yet (a large frame arrives in many reads).
    size_t end = buffer_.find(std::string{kMllpEnd, kMllpCr}, std::max<size_t>(1, scanned_));
    if (end == std::string::npos ? buffer_.size() > max + 2 : end - 1 > max) {
      Error e{"MSH", 0, 0, 207,
              "MLLP frame larger than " + std::to_string(max) + " bytes; connection closed"};
      spdlog::warn("hl7: {}: {}", peer_, e.text);
      buffer_.clear();
      scanned_ = 0;
      frames_.clear();
      stopping_ = true;  // no more reads: the AR goes out (after a message being applied) and
                         // the connection is closed
      if (!busy_) {
        WriteAck(Frame(BuildRejectForUnparsable("", e)), true);
      } else {
        pending_reject_ = Frame(BuildRejectForUnparsable("", e));
      }
      return;
    }
    if (end == std::string::npos) {
      scanned_ = buffer_.size() - 1;  // the end marker may straddle two reads
      return;
    }
    frames_.push_back(buffer_.substr(1, end - 1));
    buffer_.erase(0, end + 2);
    scanned_ = 0;
    if (!busy_) {
      Dispatch();
    }
  }
}

void Session::Dispatch() {
  if (busy_ || frames_.empty() || closed_) {
    return;
  }
  busy_ = true;
  std::string frame = std::move(frames_.front());
  frames_.pop_front();
  asio::post(server_.workers, [self = shared_from_this(), frame = std::move(frame)] {
    std::string ack;
    try {
      ack = self->server_.processor.Process(frame).ack;
    } catch (const std::exception& e) {
      spdlog::error("hl7: processing failed: {}", e.what());
      ack = BuildRejectForUnparsable(frame, Error{"MSH", 1, 0, 207, "internal error"});
    }
    asio::post(self->strand_,
               [self, ack = Frame(ack)]() mutable { self->WriteAck(std::move(ack), false); });
  });
}

void Session::WriteAck(std::string ack, bool close_after) {
  auto data = std::make_shared<std::string>(std::move(ack));
  if (closed_) {
    busy_ = false;
    boost::system::error_code ec;
    socket_.close(ec);
    return;
  }
  busy_ = true;
  AsyncWrite(asio::buffer(*data),
             asio::bind_executor(strand_, [self = shared_from_this(), data, close_after](
                                              boost::system::error_code ec, size_t) {
               self->busy_ = false;
               if (ec || close_after || self->closed_) {
                 self->Close();
                 return;
               }
               if (!self->pending_reject_.empty()) {
                 self->WriteAck(std::exchange(self->pending_reject_, {}), true);
                 return;
               }
               if (!self->frames_.empty()) {
                 self->Dispatch();
               } else if (self->stopping_) {
                 self->Close();
                 return;
               }
               self->ReadIfRoom();
             }));
}

void Session::StopWhenIdle() {
  asio::post(strand_, [self = shared_from_this()] {
    self->stopping_ = true;
    self->frames_.clear();
    if (!self->busy_) {
      self->Close();
    }
  });
}

void Session::Close() {
  boost::system::error_code ec;
  timer_.cancel();
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  bool was_closed = closed_;
  closed_ = true;
  if (!was_closed) {
    server_.Remove(this);
  }
}

}  // namespace

StatusOr<std::unique_ptr<MllpServer>> MllpServer::Start(const MllpOptions& options,
                                                        Processor& processor) {
  auto s = std::make_unique<ServerImpl>(options, processor);
  RETURN_IF_ERROR(s->Listen());
  return std::unique_ptr<MllpServer>(std::move(s));
}

}  // namespace carechart::hl7v2
