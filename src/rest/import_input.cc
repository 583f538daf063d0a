#include "rest/import_input.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>

#include "fhir/json.h"

namespace carechart::rest {

namespace {

namespace fs = std::filesystem;

constexpr size_t kReadBlock = 1 << 20;
constexpr size_t kMaxChunkBytes = 4 << 20;  // a chunk ends early when its lines are long

// gzread reads plain files unchanged ("transparent" mode), so one reader serves both.
class GzFileInput : public ImportInput {
 public:
  GzFileInput(gzFile file, std::string path, int64_t size)
      : file_(file), path_(std::move(path)), size_(size) {}
  ~GzFileInput() override { gzclose(file_); }

  StatusOr<size_t> Read(char* buffer, size_t n) override {
    int got = gzread(file_, buffer, static_cast<unsigned>(std::min<size_t>(n, 1u << 30)));
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(file_, &code);
      return InvalidError("cannot read '" + path_ + "': " + (message ? message : "read error") +
                          " (a truncated or corrupt .gz file?)");
    }
    return static_cast<size_t>(got);
  }
  int64_t Offset() const override { return static_cast<int64_t>(gzoffset(file_)); }
  int64_t Size() const override { return size_; }

 private:
  gzFile file_;
  std::string path_;
  int64_t size_;
};

class TextInput : public ImportInput {
 public:
  explicit TextInput(std::string text) : text_(std::move(text)) {}
  StatusOr<size_t> Read(char* buffer, size_t n) override {
    size_t k = std::min(n, text_.size() - pos_);
    std::copy_n(text_.data() + pos_, k, buffer);
    pos_ += k;
    return k;
  }
  int64_t Offset() const override { return static_cast<int64_t>(pos_); }
  int64_t Size() const override { return static_cast<int64_t>(text_.size()); }

 private:
  std::string text_;
  size_t pos_ = 0;
};

bool IsImportableName(const std::string& name) {
  std::string n = name;
  if (n.ends_with(".gz")) {
    n.resize(n.size() - 3);
  }
  return n.ends_with(".json") || n.ends_with(".ndjson");
}

bool Blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

}  // namespace

StatusOr<std::unique_ptr<ImportInput>> OpenImportFile(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return InvalidError("'" + path + "' is a folder; import its files with ImportPaths");
  }
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    return NotFoundError("cannot open '" + path + "': check the path and permissions");
  }
  gzbuffer(f, 256 * 1024);
  return std::unique_ptr<ImportInput>(new GzFileInput(f, path, import::FileBytes(path)));
}

std::unique_ptr<ImportInput> ImportInputFromText(std::string text) {
  return std::make_unique<TextInput>(std::move(text));
}

namespace import {

int64_t FileBytes(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

StatusOr<std::vector<std::string>> ListImportFiles(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(p, ec)) {
        if (entry.is_regular_file() && IsImportableName(entry.path().filename().string())) {
          found.push_back(entry.path().string());
        }
      }
      if (ec) {
        return NotFoundError("cannot list the folder '" + p + "': " + ec.message());
      }
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::exists(p, ec)) {
      out.push_back(p);
    } else {
      return NotFoundError("'" + p + "' does not exist: check the path");
    }
  }
  return out;
}

Status SplitInput(ImportInput& input, size_t chunk_lines, const ReadCallbacks& callbacks) {
  std::string pending;  // bytes read but not handed over yet
  std::string block(kReadBlock, '\0');
  bool eof = false;
  auto read_more = [&]() -> Status {
    ASSIGN_OR_RETURN(size_t n, input.Read(block.data(), block.size()));
    if (n == 0) {
      eof = true;
    }
    pending.append(block.data(), n);
    return Status::Ok();
  };

  // Decide the format: the first non-blank line must parse alone, and more must follow.
  size_t line_end = std::string::npos;
  size_t first_start = 0;
  while (true) {
    first_start = pending.find_first_not_of(" \t\r\n");
    if (first_start != std::string::npos) {
      line_end = pending.find('\n', first_start);
    }
    if (line_end != std::string::npos || eof) {
      break;
    }
    RETURN_IF_ERROR(read_more());
  }
  // Whether more follows is looked at first: a Bundle is usually one line (or ends with its only
  // newline), and parsing that whole document here only to learn it is not NDJSON cost as much
  // as the worker's own parse of it.
  bool ndjson = false;
  if (line_end != std::string::npos) {
    while (Blank(std::string_view(pending).substr(line_end)) && !eof) {
      RETURN_IF_ERROR(read_more());
    }
    ndjson =
        !Blank(std::string_view(pending).substr(line_end)) &&
        json::Parse(std::string_view(pending).substr(first_start, line_end - first_start)).ok();
  }
  if (!ndjson) {
    while (!eof) {
      RETURN_IF_ERROR(read_more());
    }
    (void)callbacks.document(std::move(pending), input.Offset());
    return Status::Ok();
  }

  int64_t next_line = 1;
  while (true) {
    // Hand over every complete line, in chunks of chunk_lines lines.
    size_t start = 0;
    size_t lines = 0;
    size_t pos = 0;
    while ((pos = pending.find('\n', pos)) != std::string::npos) {
      ++pos;
      ++lines;
      if (lines >= chunk_lines || pos - start >= kMaxChunkBytes) {
        if (!callbacks.ndjson(pending.substr(start, pos - start), next_line, input.Offset())) {
          return Status::Ok();
        }
        next_line += static_cast<int64_t>(lines);
        lines = 0;
        start = pos;
      }
    }
    if (eof) {
      if (start < pending.size()) {
        std::string rest = pending.substr(start);
        if (!rest.ends_with('\n')) {
          rest += '\n';
        }
        (void)callbacks.ndjson(std::move(rest), next_line, input.Offset());
      }
      return Status::Ok();
    }
    // Keep the unfinished lines (fewer than chunk_lines, and a partial one).
    pending.erase(0, start);
    RETURN_IF_ERROR(read_more());
  }
}

}  // namespace import
}  // namespace carechart::rest
