#include "integration/pg_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

namespace dataforge::testing {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

namespace {

constexpr char kBinDir[] = "/usr/lib/postgresql/15/bin/";
constexpr char kSuperuser[] = "postgres";
constexpr char kPassword[] = "secret";
constexpr int kPgCtlTimeoutSeconds = 60;

std::string Bin(const std::string& name) {
  return kBinDir + name;
}

// Whether something accepts TCP connections on 127.0.0.1:port.
bool PortOpen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool open = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return open;
}

std::string Tail(const std::string& text, int lines) {
  auto all = SplitLines(text);
  size_t from = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0;
  std::string out;
  for (size_t i = from; i < all.size(); ++i) out += all[i] + "\n";
  return out;
}

// The state letter of /proc/PID/stat ('R', 'S', 'Z', ...), or 0 when there is no such process.
char ProcState(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  auto paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return 0;
  return stat[paren + 2];
}

// The live (not zombie) processes whose working directory is `dir`: every PostgreSQL server
// process chdirs to its data directory, so these are the postmaster and its children, even
// after the postmaster died and they were re-parented.
std::vector<pid_t> ProcessesIn(const std::string& dir) {
  std::vector<pid_t> pids;
  std::error_code ec;
  std::string want = std::filesystem::weakly_canonical(dir, ec).string();
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code link_ec;
    auto cwd = std::filesystem::read_symlink(entry.path() / "cwd", link_ec);
    if (link_ec || cwd.string() != want) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    char state = ProcState(pid);
    if (state != 0 && state != 'Z') pids.push_back(pid);
  }
  return pids;
}

// After a crash the postmaster's small SysV shared memory segment (key and id on line 7 of
// postmaster.pid) stays behind. The next start of the cluster removes it; for a cluster that is
// not started again, this does.
void RemoveStaleSharedMemory(const std::string& data_dir) {
  auto lines = SplitLines(ReadFile(data_dir + "/postmaster.pid"));
  if (lines.size() < 7) return;
  std::istringstream in(lines[6]);
  long key = 0;
  int shmid = -1;
  in >> key >> shmid;
  if (!in || shmid < 0) return;
  shmid_ds ds{};
  if (shmctl(shmid, IPC_STAT, &ds) == 0 && ds.shm_perm.__key == key && ds.shm_nattch == 0) {
    shmctl(shmid, IPC_RMID, nullptr);
  }
}

std::string StripTrailingNewline(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// psql -X -q -A -t -w -v ON_ERROR_STOP=1 CONNECTION... -f SCRIPT (with `sql` in SCRIPT).
ProcessResult RunPsql(const std::vector<std::string>& connection, const std::string& sql,
                      std::vector<std::string> env) {
  TempDir tmp;
  std::string script = tmp.Sub("script.sql");
  WriteFile(script, sql);
  std::vector<std::string> argv = {Bin("psql"), "-X", "-q", "-A",
                                   "-t",        "-w", "-v", "ON_ERROR_STOP=1"};
  argv.insert(argv.end(), connection.begin(), connection.end());
  argv.push_back("-f");
  argv.push_back(script);
  env.push_back("PGCONNECT_TIMEOUT=10");
  return ChildProcess::Start(argv, env).Wait(120000);
}

}  // namespace

PostgresServer::PostgresServer() : PostgresServer(Options{}) {}

PostgresServer::PostgresServer(Options options)
    : options_(std::move(options)), as_postgres_(geteuid() == 0) {
  char tmpl[] = "/tmp/df_pg_XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << strerror(errno);
    return;
  }
  dir_ = tmpl;
  data_dir_ = dir_ + "/data";
  log_ = dir_ + "/server.log";
  // The postgres user must reach (and write) its own directory; /tmp itself is world-traversable.
  chmod(dir_.c_str(), 0755);
  if (as_postgres_) {
    passwd* pw = getpwnam(kSuperuser);
    if (pw == nullptr) {
      ADD_FAILURE() << "running as root, but there is no `postgres` user to run PostgreSQL as";
      return;
    }
    if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      ADD_FAILURE() << "chown " << dir_ << ": " << strerror(errno);
      return;
    }
  }

  // initdb insists on a superuser password when host connections use scram-sha-256.
  std::string pwfile = dir_ + "/pwfile";
  WriteFile(pwfile, std::string(kPassword) + "\n");
  auto initdb = RunAsOwner({Bin("initdb"), "-D", data_dir_, "--no-sync", "-U", kSuperuser,
                            "--pwfile=" + pwfile, "--auth-local=trust", "--auth-host=scram-sha-256",
                            "-E", "UTF8", "--no-locale"});
  std::filesystem::remove(pwfile);
  if (initdb.exit_code != 0) {
    ADD_FAILURE() << "initdb failed (exit " << initdb.exit_code << ") in " << dir_ << ":\n"
                  << initdb.out << initdb.err;
    return;
  }
  initdb_conf_ = ReadFile(data_dir_ + "/postgresql.conf");

  // The port is free when chosen, but someone may take it before the postmaster binds it.
  std::string error;
  bool started = false;
  for (int attempt = 0; attempt < 3 && !started; ++attempt) {
    port_ = FreePort();
    WriteConf();
    started = TryStart(&error);
    if (!started && error.find("Address already in use") == std::string::npos) break;
  }
  if (!started) {
    ADD_FAILURE() << error;
    return;
  }

  auto create =
      RunPsql({"-h", dir_, "-p", std::to_string(port_), "-U", kSuperuser, "-d", "postgres"},
              "CREATE DATABASE dataforge;", {});
  if (create.exit_code != 0) ADD_FAILURE() << "CREATE DATABASE dataforge failed: " << create.err;
}

PostgresServer::~PostgresServer() {
  if (dir_.empty()) return;
  // Only when it runs: after Kill9 postmaster.pid names a dead pid that may have been reused.
  if (!ProcessesIn(data_dir_).empty()) {
    RunAsOwner({Bin("pg_ctl"), "stop", "-m", "immediate", "-w", "-t", "30", "-s", "-D", data_dir_},
               60000);
  }
  // Whatever is left (a failed stop, a start that timed out): SIGKILL, and wait for it to go.
  for (int i = 0; i < 500; ++i) {
    auto left = ProcessesIn(data_dir_);
    if (left.empty()) break;
    for (pid_t pid : left) kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  RemoveStaleSharedMemory(data_dir_);  // after Kill9
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PostgresServer::LogTail(int lines) const {
  return Tail(ReadFile(log_), lines);
}

std::string PostgresServer::Url(const std::string& db, const std::string& user,
                                const std::string& password) const {
  return "postgresql://" + user + ":" + password + "@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

std::string PostgresServer::Psql(const std::string& sql, const std::string& db) {
  auto r = TryPsql(sql, db);
  if (r.exit_code != 0) {
    ADD_FAILURE() << "psql on port " << port_ << " db " << db << " exited " << r.exit_code
                  << " (signal " << r.signal << ")\nSQL: " << sql << "\nstderr:\n"
                  << r.err;
  }
  return StripTrailingNewline(r.out);
}

ProcessResult PostgresServer::TryPsql(const std::string& sql, const std::string& db) {
  return RunPsql({"-h", "127.0.0.1", "-p", std::to_string(port_), "-U", kSuperuser, "-d", db}, sql,
                 {std::string("PGPASSWORD=") + kPassword});
}

ProcessResult PostgresServer::TryPsqlUrl(const std::string& url, const std::string& sql) {
  return RunPsql({"-d", url}, sql, {});
}

void PostgresServer::Restart() {
  auto r = RunAsOwner({Bin("pg_ctl"), "restart", "-m", "fast", "-w", "-t",
                       std::to_string(kPgCtlTimeoutSeconds), "-s", "-D", data_dir_, "-l", log_});
  if (r.exit_code != 0) {
    ADD_FAILURE() << "pg_ctl restart failed (exit " << r.exit_code << "): " << r.out << r.err
                  << "\n--- " << log_ << ":\n"
                  << LogTail();
    return;
  }
  WaitAccepting();
}

void PostgresServer::Stop() {
  auto r = RunAsOwner({Bin("pg_ctl"), "stop", "-m", "fast", "-w", "-t",
                       std::to_string(kPgCtlTimeoutSeconds), "-s", "-D", data_dir_});
  if (r.exit_code != 0) {
    ADD_FAILURE() << "pg_ctl stop failed (exit " << r.exit_code << "): " << r.out << r.err
                  << "\n--- " << log_ << ":\n"
                  << LogTail();
  }
}

void PostgresServer::Start() {
  std::string error;
  if (!TryStart(&error)) {
    ADD_FAILURE() << error;
    return;
  }
  WaitAccepting();
}

void PostgresServer::Kill9() {
  auto lines = SplitLines(ReadFile(data_dir_ + "/postmaster.pid"));
  pid_t pid = lines.empty() ? 0 : static_cast<pid_t>(atol(lines[0].c_str()));
  if (pid <= 0) {
    ADD_FAILURE() << "Kill9: no postmaster.pid in " << data_dir_;
    return;
  }
  if (kill(pid, SIGKILL) != 0) {
    ADD_FAILURE() << "Kill9: kill " << pid << ": " << strerror(errno);
    return;
  }
  // The port closes with the postmaster; its children exit when they notice it died. Until they
  // have, a new postmaster refuses to start (their shared memory is still attached).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (PortOpen(port_) || !ProcessesIn(data_dir_).empty()) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "Kill9: postmaster " << pid << " or its children still running after 30 s";
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // The postmaster and its children are gone (SIGKILLed, port closed, no process of the data
  // dir left), so postmaster.pid is stale. A new postmaster would still take it for a running
  // server whenever its pid "exists" for kill(pid, 0): a dead postmaster nobody has reaped yet
  // (a zombie), or its pid already reused by another process (seen under CI's load: "lock file
  // postmaster.pid already exists ... another postmaster (PID n)"). Remove it and the unix
  // socket's lock file (the same check), as a reboot would.
  for (int i = 0; i < 300 && ProcState(pid) == 'Z'; ++i) {  // give init a moment to reap it
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  RemoveStaleSharedMemory(data_dir_);
  std::filesystem::remove(data_dir_ + "/postmaster.pid");
  std::filesystem::remove(dir_ + "/.s.PGSQL." + std::to_string(port_) + ".lock");  // the socket's
}

ProcessResult PostgresServer::RunAsOwner(std::vector<std::string> argv, int timeout_ms) {
  std::vector<std::string> full;
  if (as_postgres_) full = {"/usr/sbin/runuser", "-u", kSuperuser, "--"};
  // In the server's directory: the tools complain when they cannot read their working directory
  // (the test's may be root's, mode 0700).
  full.insert(full.end(), {"/usr/bin/env", "-C", dir_});
  full.insert(full.end(), argv.begin(), argv.end());
  return ChildProcess::Start(full).Wait(timeout_ms);
}

void PostgresServer::WriteConf() {
  std::string conf = initdb_conf_;
  conf += "\n# --- the test server's settings (tests/integration/pg_server.cc) ---\n";
  conf += "listen_addresses = '127.0.0.1'\n";
  conf += "unix_socket_directories = '" + dir_ + "'\n";
  conf += "wal_level = logical\n";
  conf += "max_wal_senders = 10\n";
  conf += "max_replication_slots = 10\n";
  conf += "fsync = on\n";
  conf += "shared_buffers = 32MB\n";
  conf += "max_connections = 50\n";
  for (const auto& line : options_.conf) conf += line + "\n";
  conf += "port = " + std::to_string(port_) + "\n";
  WriteFile(data_dir_ + "/postgresql.conf", conf);
}

bool PostgresServer::TryStart(std::string* error) {
  size_t log_before = ReadFile(log_).size();
  auto r = RunAsOwner({Bin("pg_ctl"), "start", "-w", "-t", std::to_string(kPgCtlTimeoutSeconds),
                       "-s", "-D", data_dir_, "-l", log_});
  if (r.exit_code == 0) return true;
  std::string log = ReadFile(log_);
  *error = "PostgreSQL did not start on port " + std::to_string(port_) + " in " + dir_ +
           ": pg_ctl start exited " + std::to_string(r.exit_code) + ": " + r.out + r.err +
           "\n--- " + log_ + " (tail):\n" + Tail(log.substr(std::min(log_before, log.size())), 40);
  return false;
}

void PostgresServer::WaitAccepting() {
  for (int i = 0; i < 3000; ++i) {
    if (PortOpen(port_)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "PostgreSQL on port " << port_ << " does not accept connections\n--- " << log_
                << ":\n"
                << LogTail();
}

}  // namespace dataforge::testing
