// Reindexing, on any backend: the index rows wanted for some resources, matched against the
// rows a backend has stored for them (decisions D115, D116).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "fhir/search_index.h"
#include "store/index_rows.h"
#include "store/resource_store.h"

namespace carechart::store {

// The index rows wanted for one or more resources (each an "owner", numbered from 0), encoded as
// comparable bytes, and which of them stored rows have matched. Keeps its buffers for reuse.
// Numbers compare by value: an integral double and the same integer are equal (PostgreSQL's
// numeric columns give back 140 for the 140.0 written, SQLite's REAL columns 140.0 for 140).
class WantedIndexRows {
 public:
  void Clear();
  // The rows ForEachIndexRow makes of `ix` (only those of `params`, unless empty) for the next
  // owner: owners are added in order 0, 1, 2 ...
  void Add(const std::string& type, const fhir::IndexEntries& ix,
           const std::vector<int64_t>& params);
  // Call once every owner is added, before Match.
  void Seal();
  // A stored row of `owner` in index table `table` (its columns after res): whether it is a
  // wanted row not matched before.
  bool Match(uint32_t owner, size_t table, std::span<const IndexCol> columns);
  // Whether every wanted row of `owner` has matched (and, by Match, nothing else was stored).
  bool AllMatched(uint32_t owner) const { return matched_[owner] == wanted_count_[owner]; }

 private:
  // Every wanted row, one after another (owner, table, columns); then views of them, made once
  // the bytes are complete so that none moves under a view, each with whether a stored row
  // matched it. Hashed, not ordered: ordered sets of these bytes (long shared prefixes: table,
  // parameter, system) spent a quarter of the writer in memcmp (D115).
  std::string bytes_;
  struct Span {
    uint32_t owner;
    size_t begin, size, token_key_size;  // token_key_size: 0 for rows of other tables
  };
  std::vector<Span> spans_;
  std::unordered_map<std::string_view, bool> wanted_;
  std::unordered_set<std::string_view> token_keys_;
  std::vector<size_t> wanted_count_, matched_;
  std::string stored_;
};

// One chunk of a reindex compared by row keys (ResourceStore::SameIndex, D116): the backend reads
// each index table once for all of them — over [low, high] when dense(), else the keys' list —
// and hands every row to Row().
class ChunkComparison {
 public:
  // `keys`: (row key, position in `resources`) of the resources to compare; the others answer
  // false. `index[i]` are the entries of resources[i]; `param` non-empty: only its rows.
  ChunkComparison(std::vector<std::pair<int64_t, uint32_t>> keys,
                  std::span<const ResourceVersion> resources,
                  std::span<const fhir::IndexEntries> index, const std::string& param);
  bool empty() const { return keys_.empty(); }
  // The keys are dense in their range (under twice their number in it, as for resources of a
  // type written together): a range scan reads little else.
  bool dense() const;
  int64_t low() const { return keys_.front().first; }
  int64_t high() const { return keys_.back().first; }
  std::vector<int64_t> Keys() const;
  // A stored row of resource key `res` whose parameter key is `param`: whether it is compared
  // (a row of another resource in the range, of a parameter not reindexed, or of a resource
  // already found to differ is not). Then `Row` with its columns follows.
  bool Compares(int64_t res, int64_t param);
  // The columns (after res) of the row Compares accepted; `complete` false for a row with a
  // NULL (a damaged row: its resource differs).
  void Row(size_t table, std::span<const IndexCol> columns, bool complete = true);
  // Element i: whether resources[i]'s stored rows are exactly its wanted ones.
  std::vector<bool> Result() const;

 private:
  std::vector<std::pair<int64_t, uint32_t>> keys_;  // sorted; owner k is keys_[k]
  size_t positions_;
  std::vector<int64_t> params_;
  WantedIndexRows wanted_;
  std::vector<uint8_t> differs_;
  size_t owner_ = 0;  // of the last row: rows come grouped by key
};

// Whether `param` (a parameter key) is among `params` (empty: every parameter).
bool ParamWanted(const std::vector<int64_t>& params, int64_t param);

// The parameter keys whose rows a reindex of `param` of `type` replaces (its :of-type rows
// too); empty for every parameter.
std::vector<int64_t> ReindexedParamKeys(const std::string& type, const std::string& param);

// Those keys for every type among `types` (a parameter's key names its type, so one type's keys
// select no row of another's); empty when `param` is.
std::vector<int64_t> ReindexedParamKeys(std::span<const std::string* const> types,
                                        const std::string& param);

}  // namespace carechart::store
