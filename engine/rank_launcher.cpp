#include "engine/rank_launcher.h"

#include "core/error.h"
#include "core/log.h"
#include "engine/distributed.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <thread>

extern char** environ;

namespace vss {
namespace {

// What the signal handler may touch: plain arrays filled before it is installed.
constexpr int kMaxRanks = 1024;
pid_t g_children[kMaxRanks];
volatile sig_atomic_t g_num_children = 0;
volatile sig_atomic_t g_forwarded = 0;

void signal_all(int signal) {
  for (int i = 0; i < g_num_children; ++i)
    if (g_children[i] > 0) kill(g_children[i], signal);
}

void forward_signal(int signal) {
  g_forwarded = signal;
  signal_all(signal);
}

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP};

std::string executable_path() {
  char buffer[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (n <= 0) throw Error("cannot find this program's path (/proc/self/exe) to start the ranks");
  return std::string(buffer, static_cast<size_t>(n));
}

bool is_launcher_variable(const std::string& entry) {
  const std::string name = entry.substr(0, entry.find('='));
  for (const char* v : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
                        "TORCHELASTIC_USE_AGENT_STORE"})
    if (name == v) return true;
  return false;
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
                                  strsignal(WTERMSIG(status)) + ")";
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

int launch_ranks(const std::vector<std::string>& args, int world_size, std::chrono::seconds grace) {
  if (world_size < 1 || world_size > kMaxRanks)
    throw Error("--gpus " + std::to_string(world_size) + ": expected 1 .. " + std::to_string(kMaxRanks));
  const StoreServer store(world_size);
  const std::string exe = executable_path();

  std::vector<std::string> base;
  bool has_omp = false;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    if (is_launcher_variable(entry)) continue;
    has_omp = has_omp || entry.rfind("OMP_NUM_THREADS=", 0) == 0;
    base.push_back(entry);
  }
  // As torchrun: ranks on one machine share its cores (matters for CPU ranks).
  if (!has_omp)
    base.push_back("OMP_NUM_THREADS=" +
                   std::to_string(std::max(1u, std::thread::hardware_concurrency() / static_cast<unsigned>(world_size))));
  std::vector<std::vector<std::string>> envs(static_cast<size_t>(world_size), base);
  for (int r = 0; r < world_size; ++r) {
    auto& env = envs[static_cast<size_t>(r)];
    for (const std::string& kv :
         {"RANK=" + std::to_string(r), "LOCAL_RANK=" + std::to_string(r), "WORLD_SIZE=" + std::to_string(world_size),
          "LOCAL_WORLD_SIZE=" + std::to_string(world_size), std::string("MASTER_ADDR=127.0.0.1"),
          "MASTER_PORT=" + std::to_string(store.port()), std::string("TORCHELASTIC_USE_AGENT_STORE=True")})
      env.push_back(kv);
  }
  // exec's arrays are made before fork: between fork and exec only async-signal-safe calls.
  std::vector<char*> argv{const_cast<char*>(exe.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::vector<char*>> envp(envs.size());
  for (size_t r = 0; r < envs.size(); ++r) {
    for (const auto& kv : envs[r]) envp[r].push_back(const_cast<char*>(kv.c_str()));
    envp[r].push_back(nullptr);
  }

  sigset_t forwarded, previous_mask;
  sigemptyset(&forwarded);
  for (int s : kForwarded) sigaddset(&forwarded, s);
  struct sigaction action {}, previous[3];
  action.sa_handler = forward_signal;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  g_num_children = 0;
  g_forwarded = 0;
  // Blocked while forking, so a signal is either forwarded to a started rank or delivered
  // to the rank itself after exec.
  sigprocmask(SIG_BLOCK, &forwarded, &previous_mask);
  for (int i = 0; i < 3; ++i) sigaction(kForwarded[i], &action, &previous[i]);
  const pid_t launcher = getpid();
  for (int r = 0; r < world_size; ++r) {
    const pid_t pid = fork();
    if (pid < 0) {
      const std::string what = std::strerror(errno);
      signal_all(SIGKILL);
      for (int i = 0; i < r; ++i) waitpid(g_children[i], nullptr, 0);
      sigprocmask(SIG_SETMASK, &previous_mask, nullptr);
      for (int i = 0; i < 3; ++i) sigaction(kForwarded[i], &previous[i], nullptr);
      throw Error("cannot start rank " + std::to_string(r) + ": fork: " + what);
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != launcher) _exit(128 + SIGTERM);  // the launcher died before prctl
      struct sigaction default_action {};
      default_action.sa_handler = SIG_DFL;
      for (int s : kForwarded) sigaction(s, &default_action, nullptr);
      sigprocmask(SIG_SETMASK, &previous_mask, nullptr);
      execve(exe.c_str(), argv.data(), envp[static_cast<size_t>(r)].data());
      _exit(127);
    }
    g_children[r] = pid;
    g_num_children = r + 1;
  }
  sigprocmask(SIG_SETMASK, &previous_mask, nullptr);

  int first_code = 0, remaining = world_size;
  bool stopping = false, killed = false;
  auto deadline = std::chrono::steady_clock::now();
  while (remaining > 0) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, stopping ? WNOHANG : 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;  // no children left
    }
    if (pid == 0) {  // stopping: a rank is still running
      if (!killed && std::chrono::steady_clock::now() > deadline) {
        log::error("ranks still running ", grace.count(), " s after SIGTERM; killing them");
        signal_all(SIGKILL);
        killed = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    int rank = -1;
    for (int i = 0; i < world_size; ++i)
      if (g_children[i] == pid) rank = i;
    if (rank < 0) continue;
    g_children[rank] = -1;
    --remaining;
    const int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    if (code == 0 || first_code != 0) continue;
    first_code = code;
    // After a forwarded Ctrl-C / SIGTERM every rank saves and exits 128 + signal on its own.
    const int asked = g_forwarded;
    if (asked != 0 && code == 128 + asked) continue;
    log::error("rank ", rank, " (pid ", pid, ") ", describe(status),
               remaining > 0 ? "; stopping the other ranks" : "");
    if (remaining > 0 && !stopping) {
      stopping = true;
      deadline = std::chrono::steady_clock::now() + grace;
      signal_all(SIGTERM);
    }
  }
  g_num_children = 0;
  for (int i = 0; i < 3; ++i) sigaction(kForwarded[i], &previous[i], nullptr);
  return first_code;
}

}  // namespace vss
