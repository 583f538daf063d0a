// The body_dictionary table (migration 10) and the one path by which SQLite reads resource
// bodies (sqlite_body_codec.h describes the stored forms).
//
// body_dictionary(id, created_us, seq, bytes): every zstd dictionary ever used for a body of
// this database, keyed by the id its frames carry. Rows are never deleted or changed: old bodies
// keep needing theirs. `seq` is the database's version count (the writer's seq) when it was
// trained, so a later process knows when the bodies have doubled since.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/sqlite_db.h"

namespace carechart::store::sqlite {

// Loads every stored dictionary into `conn.body_codec()`; with `newest_for_new_bodies`, the
// newest (largest seq) becomes the one new bodies use. Returns how many there are.
StatusOr<int> LoadBodyDictionaries(Connection& conn, bool newest_for_new_bodies);

// Stores a trained dictionary (in the caller's write transaction). A dictionary of the same id
// already there (the same content: ZDICT derives ids at random, collisions are ~2^-31) is kept.
Status InsertBodyDictionary(Connection& conn, uint32_t id, std::string_view bytes, int64_t seq,
                            int64_t created_us);

// The `seq` of the newest stored dictionary, 0 when there is none.
StatusOr<int64_t> NewestBodyDictionarySeq(Connection& conn);

// The JSON of a stored body (resource.body or resource_history.body) read on `conn`, decoded by
// `conn.body_codec()`. A frame whose dictionary this process has not seen (another process
// trained it) loads the stored dictionaries once from `conn`, whose snapshot holds it if it holds
// the body. Errors (kInternal) name the resource, `type`/`id`.
Status DecodeStoredBody(Connection& conn, std::string_view stored, std::string* json,
                        std::string_view type, std::string_view id);

}  // namespace carechart::store::sqlite
