#include "http/tls_context.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <csignal>

namespace carechart::http {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2 suites: forward-secret AEAD only (Mozilla's "intermediate" list without DHE). TLS 1.3
// suites are OpenSSL's defaults, all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// "valid until <date>" of the context's certificate, for the log line of a reload.
std::string ValidUntil(ssl::context& ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx.native_handle());
  BIO* bio = BIO_new(BIO_s_mem());
  std::string out = "valid until ?";
  if (cert != nullptr && bio != nullptr && ASN1_TIME_print(bio, X509_get0_notAfter(cert)) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    out = "valid until " + std::string(data, static_cast<size_t>(n));
  }
  BIO_free(bio);
  return out;
}

}  // namespace

StatusOr<std::unique_ptr<ssl::context>> MakeServerTlsContext(const TlsFiles& files) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::no_compression | ssl::context::single_dh_use);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return InvalidError("this OpenSSL offers none of the TLS 1.2 cipher suites Carechart allows");
  }
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(files.cert_file, ec);
  if (ec) {
    return InvalidError("cannot use the TLS certificate " + files.cert_file + ": " + ec.message() +
                        " (a PEM certificate chain is expected)");
  }
  ctx->use_private_key_file(files.key_file, ssl::context::pem, ec);
  if (ec) {
    return InvalidError("cannot use the TLS private key " + files.key_file + ": " + ec.message() +
                        " (an unencrypted PEM key is expected)");
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return InvalidError("the TLS private key " + files.key_file +
                        " does not match the certificate " + files.cert_file);
  }
  if (!files.client_ca_file.empty()) {
    ctx->load_verify_file(files.client_ca_file, ec);
    if (ec) {
      return InvalidError("cannot use the TLS client CA file " + files.client_ca_file + ": " +
                          ec.message() + " (PEM certificates are expected)");
    }
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

ReloadingTlsContext::ReloadingTlsContext(boost::asio::io_context& ioc, TlsFiles files,
                                         std::string log_prefix)
    : files_(std::move(files)), log_prefix_(std::move(log_prefix)), signals_(ioc) {}

StatusOr<std::unique_ptr<ReloadingTlsContext>> ReloadingTlsContext::Start(
    boost::asio::io_context& ioc, TlsFiles files, std::string log_prefix) {
  ASSIGN_OR_RETURN(std::unique_ptr<ssl::context> first, MakeServerTlsContext(files));
  std::unique_ptr<ReloadingTlsContext> self(
      new ReloadingTlsContext(ioc, std::move(files), std::move(log_prefix)));
  self->current_.store(std::move(first));
  // Only a TLS listener catches SIGHUP: without one, its default (end the process) is unchanged.
  self->signals_.add(SIGHUP);
  self->WaitForSighup();
  return self;
}

void ReloadingTlsContext::Stop() {
  boost::system::error_code ec;
  signals_.cancel(ec);
}

void ReloadingTlsContext::WaitForSighup() {
  signals_.async_wait([this](const boost::system::error_code& e, int) {
    if (e) {
      return;  // cancelled: the listener is stopping
    }
    StatusOr<std::unique_ptr<ssl::context>> ctx = MakeServerTlsContext(files_);
    if (ctx.ok()) {
      spdlog::info("{}SIGHUP: TLS certificate {} reloaded ({}); new connections use it",
                   log_prefix_, files_.cert_file, ValidUntil(**ctx));
      current_.store(std::move(ctx).value());
    } else {
      spdlog::error("{}SIGHUP: TLS certificate not reloaded, the previous one is still served: {}",
                    log_prefix_, ctx.status().message());
    }
    WaitForSighup();
  });
}

}  // namespace carechart::http
