// Internal to the importer: byte sources, folder listing and the splitting of an input into
// units of work (NDJSON chunks or one whole document).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "rest/importer.h"

namespace carechart::rest::import {

// The files to import for `paths`: files as given, folders expanded to their *.json, *.ndjson
// (and .gz) files sorted by name. A path that does not exist is kNotFound naming it.
StatusOr<std::vector<std::string>> ListImportFiles(const std::vector<std::string>& paths);

// Size of a file in bytes, 0 when unknown.
int64_t FileBytes(const std::string& path);

// What the reader hands to the pipeline.
struct ReadCallbacks {
  // Complete NDJSON lines (each ending in '\n'); `first_line` is the 1-based number of the first.
  // `offset` is the input's Offset() after them. Returns false to stop reading.
  std::function<bool(std::string lines, int64_t first_line, int64_t offset)> ndjson;
  // One whole JSON document (a Bundle or a single resource). Returns false to stop reading.
  std::function<bool(std::string text, int64_t offset)> document;
};

// Reads `input` to its end. A stream whose first non-blank line is a complete JSON value and
// that has more non-blank lines is NDJSON (handed over in chunks of about `chunk_lines` lines);
// anything else is one document. Fails only when the input cannot be read.
Status SplitInput(ImportInput& input, size_t chunk_lines, const ReadCallbacks& callbacks);

}  // namespace carechart::rest::import
