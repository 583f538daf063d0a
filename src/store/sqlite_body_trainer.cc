#include "store/sqlite_body_trainer.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>

#include "store/sqlite_body_dictionaries.h"
#include "store/sqlite_write_txn.h"

namespace carechart::store::sqlite {
namespace {

using TypeCounts = std::map<std::string, int64_t, std::less<>>;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A type's bodies in the sample: its share of the database, but at least a few of each type so
// that a rare type's keys are in the dictionary too.
constexpr int64_t kMinBodiesPerType = 16;
// The mix rule: retrain when the types written since the last dictionary are this far (total
// variation distance, 0..1) from the sample it was trained on.
constexpr double kMixShift = 0.5;

// The bodies written since `before`, as shares.
std::map<std::string, double, std::less<>> SharesSince(const TypeCounts& now,
                                                       const TypeCounts& before, int64_t* total) {
  std::map<std::string, double, std::less<>> out;
  *total = 0;
  for (const auto& [type, n] : now) {
    auto it = before.find(type);
    const int64_t since = n - (it == before.end() ? 0 : it->second);
    if (since > 0) {
      out[type] = static_cast<double>(since);
      *total += since;
    }
  }
  for (auto& [type, n] : out) {
    n /= static_cast<double>(*total);
  }
  return out;
}

double Distance(const std::map<std::string, double, std::less<>>& a,
                const std::map<std::string, double, std::less<>>& b) {
  double sum = 0;
  for (const auto& [type, share] : a) {
    auto it = b.find(type);
    sum += std::fabs(share - (it == b.end() ? 0.0 : it->second));
  }
  for (const auto& [type, share] : b) {
    if (!a.contains(type)) {
      sum += share;
    }
  }
  return sum / 2;
}

StatusOr<TypeCounts> StoredTypes(Connection& conn) {
  ASSIGN_OR_RETURN(Statement s, conn.Prepare("SELECT type, count(*) FROM resource GROUP BY type"));
  TypeCounts out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      return out;
    }
    out.emplace(s.TextView(0), s.Int(1));
  }
}

}  // namespace

BodyWriteCounts::BodyWriteCounts(size_t sample_bodies, size_t sample_bytes)
    : sample_bodies_(sample_bodies), sample_bytes_(sample_bytes) {}

void BodyWriteCounts::Add(std::string_view type, std::string_view body) {
  total_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  auto it = by_type_.find(type);
  if (it == by_type_.end()) {
    by_type_.emplace(std::string(type), 1);
  } else {
    ++it->second;
  }
  if (sampling_.load(std::memory_order_relaxed) && first_.sizes.size() < sample_bodies_ &&
      first_.bytes.size() + body.size() <= sample_bytes_) {
    first_.bytes.append(body);
    first_.sizes.push_back(body.size());
    first_.shares[std::string(type)] += 1;
  }
}

TypeCounts BodyWriteCounts::ByType() const {
  std::lock_guard lock(mu_);
  return by_type_;
}

BodySample BodyWriteCounts::TakeFirstBodies() {
  sampling_.store(false, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  BodySample out = std::move(first_);
  first_ = {};
  return out;
}

StatusOr<std::unique_ptr<BodyDictionaryTrainer>> BodyDictionaryTrainer::Start(
    const std::string& path, std::shared_ptr<BodyCodec> codec,
    std::shared_ptr<BodyWriteCounts> counts, Writer write, int64_t versions_at_open,
    BodyTrainerOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(path, /*read_only=*/true));
  conn->set_body_codec(codec);
  // Each sample is read once: a small page cache instead of the usual 32 MiB (which the
  // sampling filled, +40 MB of RSS in demo-data).
  RETURN_IF_ERROR(conn->Exec("PRAGMA cache_size = -2048"));
  ASSIGN_OR_RETURN(int64_t newest_seq, NewestBodyDictionarySeq(*conn));
  if (newest_seq > 0) {
    (void)counts->TakeFirstBodies();  // only the first dictionary is trained from them
  }
  std::unique_ptr<BodyDictionaryTrainer> trainer(
      new BodyDictionaryTrainer(std::move(conn), std::move(codec), std::move(counts),
                                std::move(write), versions_at_open, newest_seq, options));
  trainer->thread_ = std::thread([t = trainer.get()] { t->Run(); });
  // Named here rather than in Run, so that it has its name once Start returns.
  pthread_setname_np(trainer->thread_.native_handle(), "body-dict-train");
  return trainer;
}

BodyDictionaryTrainer::BodyDictionaryTrainer(std::unique_ptr<Connection> conn,
                                             std::shared_ptr<BodyCodec> codec,
                                             std::shared_ptr<BodyWriteCounts> counts, Writer write,
                                             int64_t versions_at_open, int64_t newest_seq,
                                             BodyTrainerOptions options)
    : conn_(std::move(conn)),
      codec_(std::move(codec)),
      counts_(std::move(counts)),
      write_(std::move(write)),
      versions_at_open_(versions_at_open),
      options_(options),
      trained_at_(newest_seq) {}

BodyDictionaryTrainer::~BodyDictionaryTrainer() { Stop(); }

void BodyDictionaryTrainer::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

bool BodyDictionaryTrainer::stopping() const {
  std::lock_guard lock(mu_);
  return stop_;
}

std::string BodyDictionaryTrainer::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

void BodyDictionaryTrainer::Run() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, options_.poll, [&] { return stop_; })) {
        return;
      }
    }
    const int64_t versions = versions_at_open_ + counts_->total();
    TypeCounts written = counts_->ByType();
    if (!Due(versions, written)) {
      continue;
    }
    Status s = Train(versions, written);
    std::lock_guard lock(mu_);
    last_error_ = s.ok() ? "" : s.message();
    if (!s.ok()) {
      // Not again before the next doubling (a sample that cannot make a dictionary now, such
      // as thousands of identical bodies, will not make one a moment later).
      trained_at_ = versions;
      sample_shares_.clear();
    }
  }
}

bool BodyDictionaryTrainer::Due(int64_t versions, const TypeCounts& written) const {
  if (trained_at_ == 0) {
    return versions >= options_.first_after;
  }
  if (versions >= 2 * trained_at_) {
    return true;
  }
  if (sample_shares_.empty()) {
    return false;  // trained by an earlier process: its sample's mix is not known here
  }
  int64_t since = 0;
  auto shares = SharesSince(written, written_at_training_, &since);
  return since >= std::max(options_.first_after, trained_at_ / 2) &&
         Distance(shares, sample_shares_) > kMixShift;
}

StatusOr<BodySample> BodyDictionaryTrainer::SampleStored() {
  BodySample sample;
  RETURN_IF_ERROR(InReadTxn(*conn_, [&]() -> Status {
    ASSIGN_OR_RETURN(TypeCounts stored, StoredTypes(*conn_));
    int64_t all = 0;
    for (const auto& [type, n] : stored) {
      all += n;
    }
    ASSIGN_OR_RETURN(Statement s, conn_->Prepare("SELECT id, body FROM resource WHERE type = ?1 "
                                                 "AND deleted = 0 ORDER BY seq DESC LIMIT ?2"));
    std::string json;
    for (const auto& [type, n] : stored) {
      if (stopping()) {
        return Status(StatusCode::kUnavailable, "the store is closing");
      }
      const int64_t wanted = std::max<int64_t>(
          kMinBodiesPerType, static_cast<int64_t>(BodyTrainerOptions::kSampleBodies) * n / all);
      // A type's bytes up to its share, or an even share if more (a few large bodies of a rare
      // type would otherwise crowd out the common ones).
      const size_t max_bytes =
          std::max(BodyTrainerOptions::kSampleBytes / stored.size(),
                   static_cast<size_t>(BodyTrainerOptions::kSampleBytes * n / all));
      s.Reset();
      s.Bind(1, type).Bind(2, wanted);
      size_t bytes = 0;
      int64_t taken = 0;
      while (bytes < max_bytes) {
        ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) {
          break;
        }
        RETURN_IF_ERROR(DecodeStoredBody(*conn_, s.TextView(1), &json, type, s.TextView(0)));
        sample.bytes += json;
        sample.sizes.push_back(json.size());
        bytes += json.size();
        ++taken;
      }
      sample.shares[type] = static_cast<double>(taken);
    }
    return Status::Ok();
  }));
  return sample;
}

Status BodyDictionaryTrainer::Train(int64_t versions, const TypeCounts& written) {
  ASSIGN_OR_RETURN(BodySample sample, SampleStored());
  if (trained_at_ == 0) {
    // The first dictionary: the bodies written so far may not be committed yet (an import's
    // first transaction holds thousands); the writer kept a copy of the first ones.
    BodySample first = counts_->TakeFirstBodies();
    if (first.sizes.size() > sample.sizes.size()) {
      sample = std::move(first);
    }
  }
  for (auto& [type, n] : sample.shares) {
    n /= static_cast<double>(std::max<size_t>(sample.sizes.size(), 1));
  }
  std::string dict(options_.dictionary_bytes, '\0');
  ZDICT_fastCover_params_t params{};
  // Segment and d-mer sizes fixed at what ZDICT's search picked on generated and on Synthea
  // data (1511, 8): searching took 3-5 times as long for the same ratio (D101).
  params.k = 1511;
  params.d = 8;
  params.nbThreads = 1;
  params.zParams.compressionLevel = BodyCodec::kDefaultLevel;
  const size_t n = ZDICT_optimizeTrainFromBuffer_fastCover(
      dict.data(), dict.size(), sample.bytes.data(), sample.sizes.data(),
      static_cast<unsigned>(sample.sizes.size()), &params);
  if (ZDICT_isError(n)) {
    return InternalError("a body dictionary could not be trained from " +
                         std::to_string(sample.sizes.size()) + " bodies: " + ZDICT_getErrorName(n));
  }
  dict.resize(n);
  const uint32_t id = ZDICT_getDictID(dict.data(), dict.size());
  if (stopping()) {
    return Status(StatusCode::kUnavailable, "the store is closing");
  }
  RETURN_IF_ERROR(write_([&](WriteTxn& txn) {
    return InsertBodyDictionary(static_cast<SqliteWriteTxn&>(txn).connection(), id, dict, versions,
                                NowUs());
  }));
  // Committed: bodies may name it from now on.
  RETURN_IF_ERROR(codec_->AddDictionary(dict, /*use_for_new_bodies=*/true).status());
  trained_at_ = versions;
  sample_shares_ = std::move(sample.shares);
  written_at_training_ = written;
  ++trained_;
  return Status::Ok();
}

}  // namespace carechart::store::sqlite
