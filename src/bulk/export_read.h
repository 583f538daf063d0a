// The two functions through which every exported resource is read. Authorisation (system/*.rs
// scopes) and per-resource access policy filter here, so that no export path can bypass them.
#pragma once

#include "core/status.h"
#include "store/resource_store.h"

namespace carechart::bulk {

// One page of current, non-deleted versions matching `query` (a keyset page: `query.after` set
// from the previous page's `next`). `query.want_total` should be false (exports never count
// through here).
StatusOr<store::SearchResult> ReadExportPage(store::ResourceStore& store,
                                             const store::SearchQuery& query);

// The system level's read: every current, non-deleted version of `scan` (ScanCurrent), passed to
// `fn` one at a time.
Status ScanExport(store::ResourceStore& store, const store::CurrentScan& scan,
                  const store::ScanFunction& fn);

}  // namespace carechart::bulk
