#include "metrics/process_collector.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include <fmt/format.h>

#include "metrics/family.h"

namespace dataforge::metrics {
namespace {

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Internal(fmt::format("cannot read {}", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Result<ProcessStats> ReadProcessStats(const std::string& proc_dir, const std::string& proc_stat,
                                      long ticks_per_second, long page_size) {
  ProcessStats out;
  // stat: "pid (comm) state ppid ...": fields after the comm's closing parenthesis (the comm
  // may hold spaces and parentheses), numbered from 3 (state).
  std::string stat_path = proc_dir + "/stat";
  DF_ASSIGN_OR_RETURN(std::string stat, ReadText(stat_path));
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return Status::Internal(fmt::format("{}: no ')'", stat_path));
  std::istringstream fields(stat.substr(close + 1));
  std::vector<std::string> f;
  for (std::string s; fields >> s;) f.push_back(s);
  // f[0] is field 3; utime 14, stime 15, starttime 22, vsize 23, rss 24.
  if (f.size() < 22) {
    return Status::Internal(
        fmt::format("{}: {} fields, expected at least 24", stat_path, f.size() + 2));
  }
  auto field = [&](int n) { return std::stod(f[static_cast<size_t>(n - 3)]); };
  double ticks = static_cast<double>(ticks_per_second);
  try {
    out.cpu_seconds = (field(14) + field(15)) / ticks;
    double start_ticks = field(22);
    out.virtual_bytes = field(23);
    out.resident_bytes = field(24) * static_cast<double>(page_size);
    DF_ASSIGN_OR_RETURN(std::string system, ReadText(proc_stat));
    size_t at = system.find("\nbtime ");
    if (at == std::string::npos) {
      return Status::Internal(fmt::format("{}: no btime line", proc_stat));
    }
    out.start_time_seconds = std::stod(system.substr(at + 7)) + start_ticks / ticks;
  } catch (const std::exception&) {
    return Status::Internal(fmt::format("{}: a field is not a number", stat_path));
  }
  // limits: "Max open files            1024                 1048576              files".
  std::string limits_path = proc_dir + "/limits";
  DF_ASSIGN_OR_RETURN(std::string limits, ReadText(limits_path));
  size_t at = limits.find("Max open files");
  if (at == std::string::npos) {
    return Status::Internal(fmt::format("{}: no 'Max open files' line", limits_path));
  }
  std::istringstream line(limits.substr(at + 14));
  std::string soft;
  line >> soft;
  out.max_fds = soft == "unlimited" ? 0 : std::strtod(soft.c_str(), nullptr);
  std::error_code ec;
  size_t fds = 0;
  for (std::filesystem::directory_iterator it(proc_dir + "/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++fds;
  }
  if (ec) return Status::Internal(fmt::format("cannot list {}/fd: {}", proc_dir, ec.message()));
  out.open_fds = static_cast<double>(fds);
  return out;
}

ProcessCollector::ProcessCollector(std::string proc_dir, std::string proc_stat)
    : proc_dir_(std::move(proc_dir)), proc_stat_(std::move(proc_stat)) {}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  auto stats = ReadProcessStats(proc_dir_, proc_stat_, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE));
  if (!stats.ok()) return {};
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  auto add = [&](const char* name, const char* help, MetricType type, double v) {
    auto f = Family(name, help, type);
    f.metric.push_back(type == MetricType::Counter ? CounterValue(v) : GaugeValue(v));
    out.push_back(std::move(f));
  };
  add("process_cpu_seconds_total", "User and system CPU time spent, seconds.", MetricType::Counter,
      stats->cpu_seconds);
  add("process_resident_memory_bytes", "Resident memory size, bytes.", MetricType::Gauge,
      stats->resident_bytes);
  add("process_virtual_memory_bytes", "Virtual memory size, bytes.", MetricType::Gauge,
      stats->virtual_bytes);
  add("process_open_fds", "Open file descriptors.", MetricType::Gauge, stats->open_fds);
  if (stats->max_fds > 0) {
    add("process_max_fds", "The open file descriptor limit (soft).", MetricType::Gauge,
        stats->max_fds);
  }
  add("process_start_time_seconds", "Start time of the process, Unix seconds.", MetricType::Gauge,
      stats->start_time_seconds);
  return out;
}

}  // namespace dataforge::metrics
