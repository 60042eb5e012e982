#include "integration/kafka_cluster.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

namespace dataforge::testing {

MockKafkaCluster::MockKafkaCluster(int brokers, const std::vector<std::string>& topics)
    : control_(dir_.Sub("control")), process_(ChildProcess::Start([&] {
        std::vector<std::string> argv = {KAFKA_MOCK_CLUSTER_BIN, "--brokers",
                                         std::to_string(brokers), "--control", control_};
        for (const auto& t : topics) {
          argv.push_back("--topic");
          argv.push_back(t);
        }
        return argv;
      }())) {
  WriteFile(control_, "");
  for (int i = 0; i < 500 && bootstrap_.empty(); ++i) {
    usleep(10'000);
    std::string out = process_.Stdout();
    auto pos = out.find("bootstrap.servers=");
    auto end = out.find('\n', pos);
    if (pos != std::string::npos && end != std::string::npos) {
      bootstrap_ = out.substr(pos + 18, end - pos - 18);
    }
  }
  EXPECT_FALSE(bootstrap_.empty()) << "kafka_mock_cluster did not start: " << process_.Stderr();
}

MockKafkaCluster::~MockKafkaCluster() {
  process_.Signal(SIGTERM);
  process_.Wait(20000);
}

void MockKafkaCluster::Command(const std::string& line) {
  {
    std::ofstream out(control_, std::ios::app);
    out << line << "\n";
  }
  ++commands_;
  std::string want = "ok: " + line + "\n";
  for (int i = 0; i < 500; ++i) {
    std::string out = process_.Stdout();
    if (out.find(want) != std::string::npos) return;
    if (out.find("error: ") != std::string::npos) break;
    usleep(10'000);
  }
  ADD_FAILURE() << "kafka_mock_cluster did not run '" << line << "': " << process_.Stdout();
}

std::vector<KcatRecord> KcatConsume(const std::string& bootstrap, const std::string& topic) {
  auto child = ChildProcess::Start({"/usr/bin/kcat", "-b", bootstrap, "-C", "-t", topic, "-o",
                                    "beginning", "-e", "-q", "-f", "%p\t%o\t%k\t%h\n"});
  auto r = child.Wait(60000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<KcatRecord> out;
  for (const auto& line : SplitLines(r.out)) {
    KcatRecord rec;
    size_t a = line.find('\t'), b = line.find('\t', a + 1), c = line.find('\t', b + 1);
    if (a == std::string::npos || b == std::string::npos || c == std::string::npos) {
      ADD_FAILURE() << "kcat line: " << line;
      continue;
    }
    rec.partition = std::stoi(line.substr(0, a));
    rec.offset = std::stoll(line.substr(a + 1, b - a - 1));
    rec.key = line.substr(b + 1, c - b - 1);
    rec.headers = line.substr(c + 1);
    out.push_back(std::move(rec));
  }
  return out;
}

void KcatProduce(const std::string& bootstrap, const std::string& topic,
                 const std::vector<std::string>& lines, const std::vector<std::string>& extra) {
  TempDir dir;
  std::string input;
  for (const auto& l : lines) input += l + "\n";
  WriteFile(dir.Sub("in"), input);
  std::vector<std::string> argv = {"/usr/bin/kcat", "-b", bootstrap, "-P", "-t",
                                   topic,           "-K", "\t",      "-l", dir.Sub("in")};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto child = ChildProcess::Start(argv);
  auto r = child.Wait(60000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace dataforge::testing
