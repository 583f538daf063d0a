// Helpers shared by the store tests.
#pragma once

#include <memory>
#include <string>

#include "store/resource_store.h"

namespace carechart::store::testing {

// A fresh directory under $TMPDIR (or /tmp) for one test; returns "<dir>/<name>.db".
std::string TempDbPath(const std::string& name);

std::unique_ptr<ResourceStore> OpenOrDie(const std::string& path, int reader_connections = 4);

// A version of type/id with a body naming it; version is filled by PutNext.
PreparedWrite MakeWrite(const std::string& type, const std::string& id, int64_t last_updated_us,
                        fhir::IndexEntries index = {});

// Writes `w` as the next version of its id (create, update, or deletion when w.deleted).
Status PutNext(ResourceStore& store, PreparedWrite w);

// The body MakeWrite gives (type, id, last_updated_us).
std::string BodyFor(const std::string& type, const std::string& id, int64_t last_updated_us);

}  // namespace carechart::store::testing
