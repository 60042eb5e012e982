// kafka_mock_cluster: a Kafka cluster for tests and benchmarks, from librdkafka's mock cluster
// (rdkafka_mock.h): real Kafka protocol brokers over TCP on 127.0.0.1, with fault injection.
//
//   kafka_mock_cluster [--brokers N] [--topic NAME:PARTITIONS[:REPLICATION]]... [--control FILE]
//
// Prints "bootstrap.servers=HOST:PORT,..." on stdout once the brokers listen, then runs commands,
// one per line, from stdin and from lines appended to the --control file:
//   down ID | up ID                 a broker stops / starts answering (connections are closed)
//   rtt ID MS                       a broker answers MS milliseconds late
//   leader TOPIC PARTITION ID       moves a partition's leader
//   topic NAME PARTITIONS REPL      creates a topic
//   error APIKEY ERRCODE COUNT      the next COUNT requests of APIKEY fail with ERRCODE
//   quit
// Each command answers "ok: <command>" or "error: <why>" on stdout. SIGINT/SIGTERM end it.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> g_quit{false};
std::mutex g_mu;  // serialises commands and output

void OnSignal(int) {
  g_quit = true;
}

std::string Run(rd_kafka_mock_cluster_t* mc, const std::string& line) {
  std::istringstream in(line);
  std::string cmd;
  in >> cmd;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (cmd == "down" || cmd == "up") {
    int id = -1;
    if (!(in >> id)) return "error: usage: " + cmd + " BROKER_ID";
    err =
        cmd == "down" ? rd_kafka_mock_broker_set_down(mc, id) : rd_kafka_mock_broker_set_up(mc, id);
  } else if (cmd == "rtt") {
    int id = -1, ms = 0;
    if (!(in >> id >> ms)) return "error: usage: rtt BROKER_ID MS";
    err = rd_kafka_mock_broker_set_rtt(mc, id, ms);
  } else if (cmd == "leader") {
    std::string topic;
    int partition = -1, id = -1;
    if (!(in >> topic >> partition >> id)) return "error: usage: leader TOPIC PARTITION BROKER_ID";
    err = rd_kafka_mock_partition_set_leader(mc, topic.c_str(), partition, id);
  } else if (cmd == "topic") {
    std::string topic;
    int partitions = 0, replication = 0;
    if (!(in >> topic >> partitions >> replication)) {
      return "error: usage: topic NAME PARTITIONS REPLICATION";
    }
    err = rd_kafka_mock_topic_create(mc, topic.c_str(), partitions, replication);
  } else if (cmd == "error") {
    int api = 0, code = 0, count = 0;
    if (!(in >> api >> code >> count) || count <= 0) {
      return "error: usage: error APIKEY ERRCODE COUNT";
    }
    std::vector<rd_kafka_resp_err_t> errors(count, static_cast<rd_kafka_resp_err_t>(code));
    rd_kafka_mock_push_request_errors_array(mc, static_cast<int16_t>(api), errors.size(),
                                            errors.data());
  } else if (cmd == "quit") {
    g_quit = true;
  } else if (!cmd.empty()) {
    return "error: unknown command '" + cmd + "' (down, up, rtt, leader, topic, error, quit)";
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return std::string("error: ") + rd_kafka_err2str(err);
  return "ok: " + line;
}

void Answer(rd_kafka_mock_cluster_t* mc, const std::string& line) {
  if (line.empty()) return;
  std::lock_guard lock(g_mu);
  std::printf("%s\n", Run(mc, line).c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 3;
  std::vector<std::string> topics;
  std::string control;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--brokers" && i + 1 < argc) {
      brokers = std::atoi(argv[++i]);
    } else if (a == "--topic" && i + 1 < argc) {
      topics.push_back(argv[++i]);
    } else if (a == "--control" && i + 1 < argc) {
      control = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: kafka_mock_cluster [--brokers N] [--topic NAME:PARTITIONS[:REPL]]... "
                   "[--control FILE]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (brokers < 1) {
    std::fprintf(stderr, "kafka_mock_cluster: --brokers must be at least 1\n");
    return 2;
  }
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  signal(SIGPIPE, SIG_IGN);

  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    std::fprintf(stderr, "kafka_mock_cluster: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) {
    std::fprintf(stderr, "kafka_mock_cluster: cannot create the mock cluster\n");
    return 1;
  }
  for (const auto& t : topics) {
    std::string name = t;
    int partitions = 4, replication = std::min(brokers, 3);
    auto c1 = t.find(':');
    if (c1 != std::string::npos) {
      name = t.substr(0, c1);
      partitions = std::atoi(t.c_str() + c1 + 1);
      auto c2 = t.find(':', c1 + 1);
      if (c2 != std::string::npos) replication = std::atoi(t.c_str() + c2 + 1);
    }
    if (rd_kafka_mock_topic_create(mc, name.c_str(), partitions, replication) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "kafka_mock_cluster: cannot create topic %s\n", t.c_str());
      return 1;
    }
  }
  std::printf("bootstrap.servers=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  std::fflush(stdout);

  std::thread stdin_reader([mc] {
    std::string line;
    while (!g_quit && std::getline(std::cin, line)) Answer(mc, line);
  });
  stdin_reader.detach();  // blocked in getline at exit; the process ends anyway
  std::streamoff done = 0;
  while (!g_quit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (control.empty()) continue;
    std::ifstream in(control);
    if (!in) continue;
    in.seekg(done);
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof()) break;  // a line still being written
      done = in.tellg();
      Answer(mc, line);
    }
  }
  std::lock_guard lock(g_mu);
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
