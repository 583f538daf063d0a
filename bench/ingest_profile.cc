// Profiling driver for the per-resource CPU work of an import, without threads, SQLite or the
// pipeline: for every line of the NDJSON files given, json::Parse, fhir::Validate,
// fhir::ExtractIndex and json::Write, each timed on this thread's CPU clock, repeated --rounds
// times. Prints µs per resource per stage. Meant for comparing changes to the validator, the
// FHIRPath engine and the extractor, wall-clock or under `valgrind --tool=callgrind` (instruction
// counts are repeatable on a loaded machine; see docs/import.md). Not a test; built only on
// request (target ingest_profile).
// --no-shortcuts evaluates every invariant and search expression (the validator's and the
// extractor's shortcuts off), to measure what they save; --no-member-paths evaluates the
// search expressions that are plain member paths instead of walking them (fhirpath::MemberPath).
// usage: ingest_profile [--rounds N] [--only parse|validate|extract|write] [--no-shortcuts]
//        [--no-member-paths] FILE.ndjson...
#include <time.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "fhir/json.h"
#include "fhir/search_index.h"
#include "fhir/validator.h"
#include "fhir/validator_internal.h"

namespace {

double ThreadCpuUs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

struct Stage {
  const char* name;
  double us = 0;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace carechart;
  int rounds = 1;
  std::string only;
  std::vector<std::string> lines;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else if (std::strcmp(argv[i], "--no-shortcuts") == 0) {
      fhir::validation::SetConstraintShortcuts(false);
      fhir::SetIndexShortcuts(false);
    } else if (std::strcmp(argv[i], "--no-member-paths") == 0) {
      fhir::SetIndexMemberPaths(false);
    } else if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::puts(
          "usage: ingest_profile [--rounds N] [--only parse|validate|extract|write] "
          "[--no-shortcuts] [--no-member-paths] FILE...");
      return 0;
    } else {
      std::ifstream in(argv[i]);
      if (!in) {
        std::fprintf(stderr, "ingest_profile: cannot read %s\n", argv[i]);
        return 2;
      }
      for (std::string line; std::getline(in, line);) {
        if (!line.empty()) {
          lines.push_back(std::move(line));
        }
      }
    }
  }
  if (lines.empty()) {
    std::fprintf(stderr, "ingest_profile: no NDJSON lines (see --help)\n");
    return 2;
  }
  Stage parse{"parse"}, validate{"validate"}, extract{"extract"}, write{"write"};
  size_t issues = 0, entries = 0, bytes = 0;
  const bool all = only.empty();
  for (int r = 0; r < rounds; ++r) {
    for (const std::string& line : lines) {
      double t0 = ThreadCpuUs();
      auto parsed = json::Parse(line);
      double t1 = ThreadCpuUs();
      parse.us += t1 - t0;
      if (!parsed.ok()) {
        ++issues;
        continue;
      }
      if (all || only == "validate") {
        issues += fhir::Validate(*parsed).size();
        double t2 = ThreadCpuUs();
        validate.us += t2 - t1;
        t1 = t2;
      }
      if (all || only == "extract") {
        fhir::IndexEntries ix = fhir::ExtractIndex(*parsed);
        entries += ix.tokens.size() + ix.strings.size() + ix.dates.size() + ix.references.size() +
                   ix.quantities.size() + ix.numbers.size() + ix.uris.size() + ix.composites.size();
        double t2 = ThreadCpuUs();
        extract.us += t2 - t1;
        t1 = t2;
      }
      if (all || only == "write") {
        bytes += json::Write(*parsed).size();
        write.us += ThreadCpuUs() - t1;
      }
    }
  }
  const double n = static_cast<double>(lines.size()) * rounds;
  std::printf("%zu resources x %d rounds: issues %zu, index entries %zu, written bytes %zu\n",
              lines.size(), rounds, issues, entries, bytes);
  for (const Stage* s : {&parse, &validate, &extract, &write}) {
    std::printf("  %-9s %8.2f us/resource\n", s->name, s->us / n);
  }
  std::printf("  %-9s %8.2f us/resource\n", "total",
              (parse.us + validate.us + extract.us + write.us) / n);
  return 0;
}
