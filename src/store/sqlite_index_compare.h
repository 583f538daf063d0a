// Reindexing on SQLite: whether resources' stored index rows are exactly those their entries
// make. A reindex asks this of every resource it visits, most of whose rows have not changed, so
// the comparison is most of what a reindex costs: it runs on the extraction threads, on reader
// connections, a chunk of resources at a time (IndexRowsSame), and the writer only rewrites what
// differs, comparing once more (IndexRowComparison) inside its transaction (decisions D116).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/status.h"
#include "fhir/search_index.h"
#include "store/resource_store.h"
#include "store/sqlite_db.h"

namespace carechart::store::sqlite {

// The index rows wanted for one or more resources (each an "owner", numbered from 0), encoded as
// comparable bytes, and which of them stored rows have matched. Keeps its buffers for reuse.
class WantedIndexRows {
 public:
  void Clear();
  // The rows ForEachIndexRow makes of `ix` (only those of `params`, unless empty) for `owner`;
  // owners are added in order 0, 1, 2 ...
  void Add(const std::string& type, const fhir::IndexEntries& ix,
           const std::vector<int64_t>& params);
  // Call once every owner is added, before Match.
  void Seal();
  // A stored row of `owner` (`table`, then the row's columns after res, read by `stmt`):
  // whether it is a wanted row not matched before. Columns from `first_column`.
  bool Match(uint32_t owner, size_t table, const Statement& stmt, int first_column);
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

// One resource's rows, compared on the writer (ReplaceIndex).
class IndexRowComparison {
 public:
  // Whether the rows of resource key `pk` in every index table (only those of `params`, unless
  // empty) are exactly the rows ForEachIndexRow makes of `ix`: each once, none missing, none
  // more. `conn` must see the rows (the writer, or a reader inside a read transaction).
  StatusOr<bool> Same(Connection& conn, int64_t pk, const std::string& type,
                      const fhir::IndexEntries& ix, const std::vector<int64_t>& params);

 private:
  WantedIndexRows wanted_;
};

// For each of `resources` (versions a search read) with its entries `index[i]`: true when its
// stored rows (of `param` only, when given) are exactly those of index[i]. Resources that carry
// their row_key (search pages in key order) are compared by it, a table at a time for the whole
// chunk; others are looked up by (type, id, version). A version changed since it was read may
// answer either way: the writer's ReplaceIndex finds it is no longer current. One read
// transaction on `conn`.
StatusOr<std::vector<bool>> IndexRowsSame(Connection& conn,
                                          std::span<const ResourceVersion> resources,
                                          std::span<const fhir::IndexEntries> index,
                                          const std::string& param);

// The parameter keys whose rows a reindex of `param` of `type` replaces (its :of-type rows
// too); empty for every parameter.
std::vector<int64_t> ReindexedParamKeys(const std::string& type, const std::string& param);

}  // namespace carechart::store::sqlite
