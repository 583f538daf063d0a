// A system-less token code whose index rows all carry one system drives as that system|code
// (decisions D83): D42's one-code join then walks the code's rows in key order and stops after
// a page, where the code alone (`Patient?gender=female`) built the key set of every resource
// holding it (5,185 Patients at 10 k patients) before the first row. Which systems a code has is
// read in the search's own read transaction (two seeks in sp_token_code), never cached: a write
// of the code under another system is seen by the next search, so the rewrite never changes an
// answer.
#pragma once

#include <optional>

#include "core/status.h"
#include "store/search_query.h"
#include "store/sqlite_db.h"

namespace carechart::store::sqlite {

// `query` with SearchValue::sole_system_key set on each plain, one-code, system-less token
// clause whose rows under its parameter all carry one system; nothing when no clause has one.
StatusOr<std::optional<SearchQuery>> WithSoleTokenSystems(Connection& conn,
                                                          const SearchQuery& query);

}  // namespace carechart::store::sqlite
