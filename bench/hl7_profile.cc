// Profiling driver for the HL7 v2 apply path, without MLLP or a client: processes N ORU^R01
// messages (10 OBX, the shape of bench/hl7_bench.mjs) or ADT^A08 through hl7v2::Processor into a
// fresh SQLite store, from one or several threads, and prints wall-clock figures. Meant to be run
// under `valgrind --tool=callgrind` for instruction counts per phase (see docs/hl7v2.md,
// "Performance"). Not a test; built only on request (target hl7_profile).
// usage: hl7_profile [--adt] [--messages N] [--threads T] [--db FILE]
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hl7v2/processor.h"
#include "store/resource_store.h"

namespace {

std::string Oru(int s, int i) {
  std::string obx;
  for (int k = 0; k < 10; ++k) {
    char value[32];
    std::snprintf(value, sizeof value, "%.1f", 4 + k * 0.7);
    obx += "OBX|" + std::to_string(k + 1) + "|NM|" + std::to_string(2000 + k) + "-" +
           std::to_string(k) + "^Analyte " + std::to_string(k) + "^LN||" + value +
           "|mmol/L^mmol/L^UCUM|3.5-9.0|" + (k % 3 == 0 ? "H" : "N") + "|||F|||20240101100000\r";
  }
  std::string S = std::to_string(s), I = std::to_string(i), P = std::to_string(i % 500);
  return "MSH|^~\\&|LAB" + S + "|LABFAC|EHR|EHRFAC|20240101120000||ORU^R01^ORU_R01|O" + S + "-" +
         I + "|P|2.5.1\rPID|1||BP" + S + "-" + P +
         "^^^HOSP^MR||DOE^JANE||19800101|F\rPV1|1|O|LAB^1|||" + "|||||||||||||BV" + S + "-" + P +
         "^^^HOSP^VN\rORC|RE|PL" + S + "-" + I + "|FL" + S + "-" + I + "||CM\rOBR|1|PL" + S + "-" +
         I + "|FL" + S + "-" + I +
         "|24323-8^Metabolic panel^LN|||20240101100000|||||||||1234^ORDER^OLIVIA||||||"
         "20240101120000||CH|F\r" +
         obx;
}

std::string A08(int s, int i) {
  std::string S = std::to_string(s), I = std::to_string(i), P = std::to_string(i % 500);
  return "MSH|^~\\&|ADT" + S + "|HOSP|EHR|EHRFAC|20240101120000||ADT^A08^ADT_A01|A" + S + "-" + I +
         "|P|2.5\rEVN|A08|20240101120000\rPID|1||AP" + S + "-" + P + "^^^HOSP^MR||DOE^JOHN^" + I +
         "||19800101|M|||1 MAIN ST^^TOWN^ST^12345\rPV1|1|I|W1^" + std::to_string(i % 20) +
         "^1||||1234^ATTEND^ANN|||MED||||||||||AV" + S + "-" + P +
         "^^^HOSP^VN|||||||||||||||||||||||||20240101110000\r";
}

// CPU time (user + system, ms) of each thread of this process, from /proc/self/task.
std::vector<std::pair<pid_t, double>> ThreadCpuMs() {
  std::vector<std::pair<pid_t, double>> out;
  const double tick_ms = 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(e.path() / "stat");
    std::string line;
    std::getline(in, line);
    size_t close = line.rfind(')');
    if (close == std::string::npos) {
      continue;
    }
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 14 and 15: utime, stime
      if (i == 14) {
        utime = std::stod(field);
      } else if (i == 15) {
        stime = std::stod(field);
      }
    }
    out.push_back(
        {static_cast<pid_t>(std::stol(e.path().filename().string())), (utime + stime) * tick_ms});
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace carechart;
  bool adt = false;
  int messages = 200, threads = 1;
  std::string db;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--adt") {
      adt = true;
    } else if (a == "--messages" && i + 1 < argc) {
      messages = std::atoi(argv[++i]);
    } else if (a == "--threads" && i + 1 < argc) {
      threads = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--db" && i + 1 < argc) {
      db = argv[++i];
    } else {
      std::fprintf(stderr, "usage: hl7_profile [--adt] [--messages N] [--threads T] [--db FILE]\n");
      return 2;
    }
  }
  std::filesystem::path dir;
  if (db.empty()) {
    dir = std::filesystem::temp_directory_path() / ("cc-hl7-profile-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    db = (dir / "p.db").string();
  }
  store::SqliteOptions so;
  so.path = db;
  auto store = store::OpenSqliteStore(so);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  hl7v2::Processor processor(**store, hl7v2::ProcessorOptions{});
  std::vector<std::vector<std::string>> inputs(threads);
  for (int t = 0; t < threads; ++t) {
    for (int i = 0; i < messages / threads; ++i) {
      inputs[t].push_back(adt ? A08(t, i) : Oru(t, i));
    }
  }
  std::atomic<int> failed{0};
  std::mutex tids_mu;
  std::set<pid_t> worker_tids;
  auto cpu0 = ThreadCpuMs();
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      {
        std::lock_guard<std::mutex> l(tids_mu);
        worker_tids.insert(static_cast<pid_t>(::gettid()));
      }
      for (const auto& m : inputs[t]) {
        if (processor.Process(m).code != "AA") {
          ++failed;
        }
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int n = static_cast<int>(inputs.size() * inputs[0].size());
  std::printf("%s: %d messages, %d threads, %.3f s, %.0f msg/s, %d not AA\n",
              adt ? "ADT^A08" : "ORU^R01", n, threads, secs, n / secs, failed.load());
  // CPU per message by thread: the callers (mapping, validation, preparation) and each other
  // thread (the store's writer is the busiest of those). Workers have exited; their time is
  // what the process accumulated minus the threads still alive.
  auto cpu1 = ThreadCpuMs();
  double others = 0;
  std::vector<double> alive;
  for (const auto& [tid, ms] : cpu1) {
    double before = 0;
    for (const auto& [t0id, ms0] : cpu0) {
      if (t0id == tid) {
        before = ms0;
      }
    }
    if (tid != ::getpid() && !worker_tids.count(tid)) {
      alive.push_back(ms - before);
      others += ms - before;
    }
  }
  std::sort(alive.rbegin(), alive.rend());
  std::ifstream self("/proc/self/stat");
  std::string line;
  std::getline(self, line);
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  double total_ticks = 0;
  for (int i = 3; i <= 17 && rest >> field; ++i) {  // 14..17: utime, stime, cutime, cstime
    if (i == 14 || i == 15) {
      total_ticks += std::stod(field);
    }
  }
  double total_ms = total_ticks * 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::printf(
      "CPU per message: busiest store thread %.3f ms, all store threads %.3f ms, "
      "whole process %.3f ms (includes setup)\n",
      alive.empty() ? 0.0 : alive[0] / n, others / n, total_ms / n);
  (*store)->Close();
  if (!dir.empty()) {
    std::filesystem::remove_all(dir);
  }
  return failed ? 1 : 0;
}
