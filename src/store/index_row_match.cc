#include "store/index_row_match.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <variant>

#include "store/index_keys.h"

namespace carechart::store {
namespace {

// A column as comparable bytes: typed (i/d/t) and exact; integral doubles as integers.
void AppendColumn(std::string& out, const IndexCol& c) {
  if (const double* d = std::get_if<double>(&c)) {
    constexpr double kExactIntegers = 9007199254740992.0;  // 2^53
    if (std::trunc(*d) == *d && std::fabs(*d) <= kExactIntegers) {
      AppendColumn(out, IndexCol(static_cast<int64_t>(*d)));
      return;
    }
    out += 'd';
    out.append(reinterpret_cast<const char*>(d), sizeof *d);
  } else if (const int64_t* i = std::get_if<int64_t>(&c)) {
    out += 'i';
    out.append(reinterpret_cast<const char*>(i), sizeof *i);
  } else {
    std::string_view t = std::get<std::string_view>(c);
    const uint32_t n = static_cast<uint32_t>(t.size());
    out += 't';
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
    out.append(t);
  }
}

void AppendHead(std::string& out, uint32_t owner, size_t table) {
  out.append(reinterpret_cast<const char*>(&owner), sizeof owner);
  out += static_cast<char>('0' + table);
}

}  // namespace

bool ParamWanted(const std::vector<int64_t>& params, int64_t param) {
  return params.empty() || std::find(params.begin(), params.end(), param) != params.end();
}

std::vector<int64_t> ReindexedParamKeys(const std::string& type, const std::string& param) {
  if (param.empty()) {
    return {};
  }
  return {ParamKey(type, param), ParamKey(type, param + ":of-type")};
}

std::vector<int64_t> ReindexedParamKeys(std::span<const std::string* const> types,
                                        const std::string& param) {
  std::vector<int64_t> keys;
  for (const std::string* type : types) {
    for (int64_t key : ReindexedParamKeys(*type, param)) {
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        keys.push_back(key);
      }
    }
  }
  return keys;
}

void WantedIndexRows::Clear() {
  bytes_.clear();
  spans_.clear();
  wanted_count_.clear();
  matched_.clear();
}

void WantedIndexRows::Add(const std::string& type, const fhir::IndexEntries& ix,
                          const std::vector<int64_t>& params) {
  const auto owner = static_cast<uint32_t>(wanted_count_.size());
  wanted_count_.push_back(0);
  ForEachIndexRow(type, ix, [&](int table, std::initializer_list<IndexCol> cols) {
    if (!ParamWanted(params, std::get<int64_t>(*cols.begin()))) {
      return;
    }
    Span span{owner, bytes_.size(), 0, 0};
    AppendHead(bytes_, owner, static_cast<size_t>(table));
    size_t n = 0;
    for (const IndexCol& c : cols) {
      AppendColumn(bytes_, c);
      if (table == kTokenTable && ++n == kTokenKeyColumns) {
        span.token_key_size = bytes_.size() - span.begin;
      }
    }
    span.size = bytes_.size() - span.begin;
    spans_.push_back(span);
  });
}

void WantedIndexRows::Seal() {
  wanted_.clear();
  token_keys_.clear();
  wanted_.reserve(spans_.size());
  matched_.assign(wanted_count_.size(), 0);
  for (const Span& s : spans_) {
    std::string_view row(bytes_.data() + s.begin, s.size);
    // sp_token's key is (res, param, sys, code): the first row of a key wins, as the insert's
    // conflict handling does.
    if (s.token_key_size > 0 && !token_keys_.insert(row.substr(0, s.token_key_size)).second) {
      continue;
    }
    if (wanted_.emplace(row, false).second) {
      ++wanted_count_[s.owner];
    }
  }
}

bool WantedIndexRows::Match(uint32_t owner, size_t table, std::span<const IndexCol> columns) {
  stored_.clear();
  AppendHead(stored_, owner, table);
  for (const IndexCol& c : columns) {
    AppendColumn(stored_, c);
  }
  auto it = wanted_.find(stored_);
  if (it == wanted_.end() || it->second) {
    return false;  // a row not wanted, or the same row twice
  }
  it->second = true;
  ++matched_[owner];
  return true;
}

ChunkComparison::ChunkComparison(std::vector<std::pair<int64_t, uint32_t>> keys,
                                 std::span<const ResourceVersion> resources,
                                 std::span<const fhir::IndexEntries> index,
                                 const std::string& param)
    : keys_(std::move(keys)), positions_(resources.size()) {
  std::sort(keys_.begin(), keys_.end());
  std::vector<const std::string*> types;
  for (const auto& [pk, i] : keys_) {
    const std::string& type = resources[i].type;
    if (std::find_if(types.begin(), types.end(), [&](auto* t) { return *t == type; }) ==
        types.end()) {
      types.push_back(&type);
    }
  }
  params_ = ReindexedParamKeys(types, param);
  for (const auto& [pk, i] : keys_) {
    wanted_.Add(resources[i].type, index[i], params_);
  }
  wanted_.Seal();
  differs_.assign(keys_.size(), 0);
}

bool ChunkComparison::dense() const {
  return !keys_.empty() && static_cast<uint64_t>(high() - low()) < 2 * keys_.size();
}

std::vector<int64_t> ChunkComparison::Keys() const {
  std::vector<int64_t> out;
  out.reserve(keys_.size());
  for (const auto& [pk, i] : keys_) {
    out.push_back(pk);
  }
  return out;
}

bool ChunkComparison::Compares(int64_t res, int64_t param) {
  if (keys_[owner_].first != res) {
    auto it = std::lower_bound(keys_.begin(), keys_.end(), std::make_pair(res, uint32_t{0}));
    if (it == keys_.end() || it->first != res) {
      return false;  // another resource's, inside the range
    }
    owner_ = static_cast<size_t>(it - keys_.begin());
  }
  return differs_[owner_] == 0 && ParamWanted(params_, param);
}

void ChunkComparison::Row(size_t table, std::span<const IndexCol> columns, bool complete) {
  if (!complete || !wanted_.Match(static_cast<uint32_t>(owner_), table, columns)) {
    differs_[owner_] = 1;
  }
}

std::vector<bool> ChunkComparison::Result() const {
  std::vector<bool> same(positions_, false);
  for (size_t k = 0; k < keys_.size(); ++k) {
    same[keys_[k].second] = differs_[k] == 0 && wanted_.AllMatched(static_cast<uint32_t>(k));
  }
  return same;
}

}  // namespace carechart::store
