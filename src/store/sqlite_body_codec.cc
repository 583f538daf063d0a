#include "store/sqlite_body_codec.h"

#include <mutex>

#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>
#include <zstd.h>

namespace carechart::store::sqlite {
namespace {

constexpr char kZstdMagic[4] = {'\x28', '\xB5', '\x2F', '\xFD'};
// A frame claiming more content than this is damaged (a FHIR body is megabytes at most): refused
// before any allocation.
constexpr unsigned long long kMaxBodyBytes = 1ULL << 30;

struct CContextFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DContextFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// One context per thread, kept for the thread's life: a context holds ~100 KB–1 MB of tables,
// which allocating per body would cost more than compressing a small body.
ZSTD_CCtx* ThreadCContext() {
  thread_local std::unique_ptr<ZSTD_CCtx, CContextFree> ctx(ZSTD_createCCtx());
  return ctx.get();
}
ZSTD_DCtx* ThreadDContext() {
  thread_local std::unique_ptr<ZSTD_DCtx, DContextFree> ctx(ZSTD_createDCtx());
  return ctx.get();
}

}  // namespace

// A dictionary prepared once for each direction (ZSTD_createCDict digests it for one level).
struct BodyCodec::Dictionary {
  uint32_t id = 0;
  ZSTD_CDict* cdict = nullptr;
  ZSTD_DDict* ddict = nullptr;
  ~Dictionary() {
    ZSTD_freeCDict(cdict);
    ZSTD_freeDDict(ddict);
  }
};

BodyCodec::BodyCodec(int level) : level_(level) {}
BodyCodec::~BodyCodec() = default;

StatusOr<uint32_t> BodyCodec::AddDictionary(std::string_view bytes, bool use_for_new_bodies) {
  const uint32_t id = ZDICT_getDictID(bytes.data(), bytes.size());
  if (id == 0) {
    return InvalidError("a body dictionary of " + std::to_string(bytes.size()) +
                        " bytes is not a zstd dictionary");
  }
  std::shared_ptr<const Dictionary> dict = Find(id);
  if (!dict) {
    auto made = std::make_shared<Dictionary>();
    made->id = id;
    made->cdict = ZSTD_createCDict(bytes.data(), bytes.size(), level_);
    made->ddict = ZSTD_createDDict(bytes.data(), bytes.size());
    if (made->cdict == nullptr || made->ddict == nullptr) {
      return InternalError("zstd could not load body dictionary " + std::to_string(id));
    }
    dict = std::move(made);
  }
  std::unique_lock lock(mu_);
  dictionaries_.emplace(id, dict);
  if (use_for_new_bodies) {
    current_ = dict;
  }
  return id;
}

std::shared_ptr<const BodyCodec::Dictionary> BodyCodec::Find(uint32_t id) const {
  std::shared_lock lock(mu_);
  auto it = dictionaries_.find(id);
  return it == dictionaries_.end() ? nullptr : it->second;
}

bool BodyCodec::HasDictionary(uint32_t id) const { return Find(id) != nullptr; }

uint32_t BodyCodec::CurrentDictionary() const {
  std::shared_lock lock(mu_);
  return current_ ? current_->id : 0;
}

void BodyCodec::StopEncoding() {
  std::unique_lock lock(mu_);
  current_.reset();
}

bool BodyCodec::Encode(std::string_view json, std::string* stored) const {
  std::shared_ptr<const Dictionary> dict;
  {
    std::shared_lock lock(mu_);
    dict = current_;
  }
  if (!dict) {
    return false;
  }
  stored->resize(ZSTD_compressBound(json.size()));
  const size_t n = ZSTD_compress_usingCDict(ThreadCContext(), stored->data(), stored->size(),
                                            json.data(), json.size(), dict->cdict);
  if (ZSTD_isError(n)) {  // cannot happen with a bound-sized buffer; the JSON is stored instead
    return false;
  }
  stored->resize(n);
  return true;
}

bool BodyCodec::IsCompressed(std::string_view stored) {
  return stored.size() >= sizeof kZstdMagic &&
         stored.compare(0, sizeof kZstdMagic, kZstdMagic, sizeof kZstdMagic) == 0;
}

uint32_t BodyCodec::DictionaryIdOf(std::string_view stored) {
  return IsCompressed(stored) ? ZSTD_getDictID_fromFrame(stored.data(), stored.size()) : 0;
}

std::optional<uint64_t> BodyCodec::JsonSizeOf(std::string_view stored) {
  if (stored.empty() || stored.front() == '{') {
    return stored.size();
  }
  if (!IsCompressed(stored)) {
    return std::nullopt;
  }
  const unsigned long long size = ZSTD_getFrameContentSize(stored.data(), stored.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    return std::nullopt;
  }
  return static_cast<uint64_t>(size);
}

Status BodyCodec::Decode(std::string_view stored, std::string* json) const {
  if (stored.empty() || stored.front() == '{') {
    json->assign(stored);
    return Status::Ok();
  }
  if (!IsCompressed(stored)) {
    return InternalError("it is neither JSON nor a zstd frame (a damaged row)");
  }
  const uint32_t id = DictionaryIdOf(stored);
  std::shared_ptr<const Dictionary> dict = id == 0 ? nullptr : Find(id);
  if (!dict) {
    return InternalError("it needs body dictionary " + std::to_string(id) +
                         ", which the database does not hold");
  }
  const unsigned long long size = ZSTD_getFrameContentSize(stored.data(), stored.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > kMaxBodyBytes) {
    return InternalError("its zstd frame header is damaged");
  }
  json->resize(size);
  const size_t n = ZSTD_decompress_usingDDict(ThreadDContext(), json->data(), json->size(),
                                              stored.data(), stored.size(), dict->ddict);
  if (ZSTD_isError(n) || n != size) {
    json->clear();
    return InternalError(
        std::string("its zstd frame does not decompress: ") +
        (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "the size differs from the header's"));
  }
  return Status::Ok();
}

}  // namespace carechart::store::sqlite
