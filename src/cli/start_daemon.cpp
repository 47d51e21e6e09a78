// `capstan start`'s --runtime-dir and --daemon. With --daemon: fork, and the child leaves the
// terminal's session with its output appended to <runtime_dir>/<name>.log; the parent stays
// until the child listens (its state file is written then) or fails, through a pipe the child
// writes one line to: "ok", or "error <reason>". So a script's next command finds the server
// up, or a reason on stderr.
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "cli/runtime_state.hpp"
#include "cli/process_commands.hpp"
#include "util/log.hpp"

namespace capstan::cli {

namespace {

constexpr auto kStartTimeout = std::chrono::seconds(30);

// The child's one line to the parent, sent once, by whichever thread knows first.
class Report {
 public:
  explicit Report(int fd) : fd_(fd) {}
  void send(const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (fd_ < 0) return;
    std::string text = line + "\n";
    [[maybe_unused]] ssize_t n = ::write(fd_, text.data(), text.size());
    ::close(fd_);
    fd_ = -1;
  }

 private:
  std::mutex mutex_;
  int fd_;
};

int run_child(Server& server, int report_fd, int log_fd) {
  ::setsid();  // no controlling terminal: its hang-up and Ctrl-C are not ours
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) ::dup2(null, STDIN_FILENO);
  ::dup2(log_fd, STDOUT_FILENO);
  ::dup2(log_fd, STDERR_FILENO);
  if (null > STDERR_FILENO) ::close(null);
  ::close(log_fd);

  Report report(report_fd);
  std::atomic<bool> done{false};
  // The watcher must never take a signal meant for the server's signalfd: it starts with
  // every signal blocked (threads inherit the mask), the main thread's mask is restored after.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  std::thread watcher([&] {
    while (!done.load() && !server.running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (server.running()) report.send("ok");
  });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);

  const Status ran = run_with_state_file(server);
  done = true;
  watcher.join();
  report.send(ran ? "ok" : "error " + ran.error().message());  // ok: stopped again before the watcher looked
  return ran ? 0 : 1;
}

// Parent: the child's line, or why there is none.
int wait_for_child(pid_t pid, int report_fd, const std::string& name, const std::string& dir, const std::string& log_path) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{report_fd, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;  // the deadline check above ends it
    char buf[1024];
    ssize_t n = ::read(report_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  ::close(report_fd);
  while (!line.empty() && line.back() == '\n') line.pop_back();

  if (line == "ok") {
    std::string listen;
    if (const auto state = cli::read_state_file(cli::state_file_path(dir, name)))
      for (const auto& a : state->listen) listen += (listen.empty() ? "" : ", ") + a;
    std::printf("capstan: %s started (pid %d), listening on %s; log: %s\n", name.c_str(), static_cast<int>(pid),
                listen.empty() ? "?" : listen.c_str(), log_path.c_str());
    return 0;
  }
  if (timed_out) {
    ::kill(pid, SIGTERM);  // half started is worse than not started
    std::fprintf(stderr, "capstan: %s did not start listening within %lld s; sent it SIGTERM (pid %d); log: %s\n",
                 name.c_str(), static_cast<long long>(kStartTimeout.count()), static_cast<int>(pid), log_path.c_str());
    return 1;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);  // it has said its last word, or died: either way it is exiting
  if (line.rfind("error ", 0) == 0) {
    std::fprintf(stderr, "capstan: %s could not start: %s\n", name.c_str(), line.c_str() + 6);
  } else if (WIFSIGNALED(status)) {
    std::fprintf(stderr, "capstan: %s died before listening (signal %d); log: %s\n", name.c_str(), WTERMSIG(status), log_path.c_str());
  } else {
    std::fprintf(stderr, "capstan: %s exited before listening (status %d); log: %s\n", name.c_str(),
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1, log_path.c_str());
  }
  return 1;
}

}  // namespace

std::string absolute_path(const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  char cwd[4096];
  return ::getcwd(cwd, sizeof cwd) ? std::string(cwd) + "/" + path : path;
}

void add_start_options(CLI::App& start, StartOptions& options) {
  start.add_flag("--daemon", options.daemon, "detach; output to <runtime_dir>/<name>.log; return once listening");
  start.add_option("--runtime-dir", options.runtime_dir, "state files here, overrides server.runtime_dir");
}

void apply_start_options(const StartOptions& options, Config& config) {
  if (!options.runtime_dir.empty()) config.server.runtime_dir = absolute_path(options.runtime_dir);
}

Status run_with_state_file(Server& server) {
  RuntimeState state;  // withdrawn by its destructor, whatever way run() ends
  Status ran = state.claim(server.config());
  if (ran) {
    server.on_listening([&state](const ServerInfo& info) { return state.publish(info); });
    ran = server.run();
  }
  if (!ran) log::error("cannot start", {{"reason", ran.error().message()}});
  return ran;
}

int start_daemon(Server& server) {
  const Config& config = server.config();
  const std::string& name = config.server.name;
  if (!cli::valid_server_name(name)) {
    std::fprintf(stderr, "capstan: server.name '%s': it names a file, so letters, digits, '.', '_' and '-' only\n", name.c_str());
    return 2;
  }
  const std::string dir = cli::resolve_runtime_dir(config.server.runtime_dir, config.base_dir);
  if (const auto checked = cli::check_runtime_dir(dir, true); !checked) {
    std::fprintf(stderr, "capstan: %s\n", checked.error().message().c_str());
    return 1;
  }
  const std::string log_path = dir + "/" + name + ".log";
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (log_fd < 0) {
    std::fprintf(stderr, "capstan: cannot open %s: %s\n", log_path.c_str(), std::strerror(errno));
    return 1;
  }
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    std::fprintf(stderr, "capstan: pipe: %s\n", std::strerror(errno));
    ::close(log_fd);
    return 1;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::fprintf(stderr, "capstan: fork: %s\n", std::strerror(errno));
    ::close(log_fd);
    ::close(report[0]);
    ::close(report[1]);
    return 1;
  }
  if (pid == 0) {
    ::close(report[0]);
    return run_child(server, report[1], log_fd);
  }
  ::close(report[1]);
  ::close(log_fd);
  return wait_for_child(pid, report[0], name, dir, log_path);
}

}  // namespace capstan::cli
