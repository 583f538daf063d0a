// The stored form of a resource body in the SQLite store (decisions D101–D103).
//
// A stored body (resource.body, resource_history.body) is one of:
// - plain JSON: its first byte is `{`. Every body of a database made before compression existed,
//   and every body written before the database's first dictionary, stays so forever: nothing
//   rewrites old rows.
// - a zstd frame (magic 28 B5 2F FD) compressed with a dictionary trained from the database's
//   own bodies (body_dictionary table, sqlite_body_dictionaries.h); the frame header carries the
//   dictionary's id and the content size, so a body names what decodes it.
// - empty: a deletion marker.
// Small FHIR JSON compresses about 2x with zstd alone and about 5x with a dictionary that holds
// the keys, systems and codes every body repeats.
//
// BodyCodec holds the dictionaries known to this process (each prepared once for compression
// and decompression) and which one new bodies use. It is thread-safe: each thread compresses
// and decompresses with a zstd context of its own, reused for every body.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"

namespace carechart::store::sqlite {

class BodyCodec {
 public:
  // zstd's level 1: with a dictionary it compresses these bodies within ~3% of level 3, at a
  // fraction of the CPU (D101).
  static constexpr int kDefaultLevel = 1;

  explicit BodyCodec(int level = kDefaultLevel);
  ~BodyCodec();
  BodyCodec(const BodyCodec&) = delete;
  BodyCodec& operator=(const BodyCodec&) = delete;

  // Adds a trained dictionary (as ZDICT makes and body_dictionary stores it); returns its id.
  // With `use_for_new_bodies`, Encode uses it from now on. Adding a known id again is harmless.
  // kInvalid when `bytes` is not a zstd dictionary.
  StatusOr<uint32_t> AddDictionary(std::string_view bytes, bool use_for_new_bodies);
  bool HasDictionary(uint32_t id) const;
  // The id of the dictionary new bodies are compressed with; 0 when none (plain JSON).
  uint32_t CurrentDictionary() const;
  // Makes new bodies plain JSON again (compression turned off); decoding is unchanged.
  void StopEncoding();

  // The bytes to store for `json` (a resource's compact JSON): a zstd frame with the current
  // dictionary into `*stored`, and true; false (and `*stored` untouched) when there is no
  // dictionary yet, so the JSON is stored as it is.
  bool Encode(std::string_view json, std::string* stored) const;

  // The JSON of a stored body into `*json` (plain JSON and empty bodies are copied as they are).
  // kInternal for a frame whose dictionary is not known here (DictionaryIdOf tells which, for a
  // caller that can load it), a damaged frame, or a body that is neither JSON nor zstd; the
  // message says which, and the caller names the resource.
  Status Decode(std::string_view stored, std::string* json) const;

  // Whether `stored` is a zstd frame (else plain JSON or empty).
  static bool IsCompressed(std::string_view stored);
  // The dictionary id in a compressed body's frame header (0: none, or not a frame).
  static uint32_t DictionaryIdOf(std::string_view stored);
  // The size of the JSON a stored body holds, without decoding it (a frame's header records it);
  // nullopt for a damaged body. `carechart storage` sums these.
  static std::optional<uint64_t> JsonSizeOf(std::string_view stored);

 private:
  struct Dictionary;
  std::shared_ptr<const Dictionary> Find(uint32_t id) const;

  const int level_;
  mutable std::shared_mutex mu_;
  std::unordered_map<uint32_t, std::shared_ptr<const Dictionary>> dictionaries_;  // guarded by mu_
  std::shared_ptr<const Dictionary> current_;                                     // guarded by mu_
};

}  // namespace carechart::store::sqlite
