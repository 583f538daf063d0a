// Training of the SQLite store's body dictionaries (decisions D101–D103), on a thread of its own
// named body-dict-train.
//
// When: first once the database holds `first_after` versions; again when its versions have
// doubled since the newest dictionary, or when the types written since the last dictionary this
// process trained differ a lot from those it was trained on (an import that goes file by file,
// one type after another). A dictionary is trained from a sample of each type's most recent
// bodies, weighted by the type's share, so it fits the mix of the whole database.
// How: ZDICT's fastCover trainer (~64 KiB dictionaries); the dictionary is stored through the
// store's single writer and, once committed, given to the codec, so no body can name a
// dictionary that is not in the database.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "store/resource_store.h"
#include "store/sqlite_body_codec.h"
#include "store/sqlite_db.h"

namespace carechart::store::sqlite {

// The training sample: bodies concatenated, each one's size, and the types' shares.
struct BodySample {
  std::string bytes;
  std::vector<size_t> sizes;
  std::map<std::string, double, std::less<>> shares;
};

// The bodies the writer has stored since the store was opened, per type: added to on the writer
// thread at each Put, read by the trainer. Until the first dictionary it also keeps a copy of
// the first bodies (at most `sample_bodies` and `sample_bytes`): an import writes thousands of
// them in one transaction, and the first dictionary need not wait for its commit.
class BodyWriteCounts {
 public:
  BodyWriteCounts(size_t sample_bodies, size_t sample_bytes);
  void Add(std::string_view type, std::string_view body);
  int64_t total() const { return total_.load(std::memory_order_relaxed); }
  std::map<std::string, int64_t, std::less<>> ByType() const;
  // The bodies kept so far (shares unset); stops keeping them.
  BodySample TakeFirstBodies();

 private:
  const size_t sample_bodies_;
  const size_t sample_bytes_;
  std::atomic<int64_t> total_{0};
  std::atomic<bool> sampling_{true};
  mutable std::mutex mu_;
  std::map<std::string, int64_t, std::less<>> by_type_;  // guarded by mu_
  BodySample first_;                                     // guarded by mu_
};

struct BodyTrainerOptions {
  int64_t first_after = SqliteOptions::kDefaultCompressBodiesAfter;  // > 0
  size_t dictionary_bytes = 64 * 1024;
  // The sample: at most this many bodies and bytes (zstd advises ~100 times the dictionary;
  // twice as many gained 0.5% on the generated data, D101).
  static constexpr size_t kSampleBodies = 3000;
  static constexpr size_t kSampleBytes = 4 << 20;
  std::chrono::milliseconds poll{200};
};

class BodyDictionaryTrainer {
 public:
  // Runs a write function on the store's writer (the dictionary's insert).
  using Writer = std::function<Status(WriteFunction)>;

  // Starts the thread. `path`: the database (read on a connection of the trainer's own, sharing
  // `codec`); `versions_at_open`: its version count (seq) when the store opened; the newest stored
  // dictionary's seq is read from the file.
  static StatusOr<std::unique_ptr<BodyDictionaryTrainer>> Start(
      const std::string& path, std::shared_ptr<BodyCodec> codec,
      std::shared_ptr<BodyWriteCounts> counts, Writer write, int64_t versions_at_open,
      BodyTrainerOptions options);
  ~BodyDictionaryTrainer();  // Stop()s

  // Ends the thread, abandoning a training in progress (nothing of it is stored). Idempotent;
  // must be called before the writer closes.
  void Stop();
  // Dictionaries this trainer has stored (for tests and logs).
  int trained() const { return trained_.load(); }
  // The last training's failure (e.g. too few distinct bodies), "" when none.
  std::string last_error() const;

 private:
  BodyDictionaryTrainer(std::unique_ptr<Connection> conn, std::shared_ptr<BodyCodec> codec,
                        std::shared_ptr<BodyWriteCounts> counts, Writer write,
                        int64_t versions_at_open, int64_t newest_seq, BodyTrainerOptions options);
  void Run();
  bool Due(int64_t versions, const std::map<std::string, int64_t, std::less<>>& written) const;
  Status Train(int64_t versions, const std::map<std::string, int64_t, std::less<>>& written);
  // A sample of the stored bodies: each type's most recent ones, by its share.
  StatusOr<BodySample> SampleStored();
  bool stopping() const;

  std::unique_ptr<Connection> conn_;  // the trainer thread's
  std::shared_ptr<BodyCodec> codec_;
  std::shared_ptr<BodyWriteCounts> counts_;
  Writer write_;
  const int64_t versions_at_open_;
  const BodyTrainerOptions options_;
  // Trainer thread only: the versions when the newest dictionary was trained (0: none), and,
  // when this process trained it, the types' shares in its sample and the bodies written by
  // then (the mix rule's baseline).
  int64_t trained_at_ = 0;
  std::map<std::string, double, std::less<>> sample_shares_;
  std::map<std::string, int64_t, std::less<>> written_at_training_;

  std::atomic<int> trained_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;       // guarded by mu_
  std::string last_error_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace carechart::store::sqlite
