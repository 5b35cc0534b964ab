#include "tests/support/test_support.h"

#include "core/error.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <cerrno>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace vss::test {

namespace fs = std::filesystem;

static std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v && *v) ? std::string(v) : fallback;
}

fs::path parity_dir() { return env_or("VSS_PARITY_DIR", VSS_DEFAULT_PARITY_DIR); }

std::vector<fs::path> parity_cases(const std::string& sub) {
  std::vector<fs::path> out;
  const fs::path dir = parity_dir() / sub;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".safetensors") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

fs::path source_dir() { return env_or("VSS_SOURCE_DIR", VSS_DEFAULT_SOURCE_DIR); }

vss::Config tiny_train_config(const std::vector<std::string>& overrides) {
  vss::Config c = vss::Config::load(source_dir() / "configs/train/shapes_tiny.yaml");
  for (const char* s : {"train.steps=10", "train.batch_size=8", "train.grad_accum=2", "train.log_every=2",
                        "train.eval_every=4", "train.checkpoint_every=0", "data.train.size=96",
                        "data.val.size=32", "schedule.warmup_steps=3"})
    c.apply_override(s);
  for (const auto& s : overrides) c.apply_override(s);
  return c;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::string json_output(const std::string& out) {
  if (!out.empty() && out[0] == '{') return out;
  const auto start = out.find("\n{");
  return start == std::string::npos ? out : out.substr(start + 1);
}

fs::path make_temp_dir(const std::string& prefix) {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path p = fs::temp_directory_path() / (prefix + "-" + std::to_string(rd()));
    if (fs::create_directory(p)) return p;
  }
  throw std::runtime_error("cannot create a temporary directory");
}

static std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs a shell command line, stdout and stderr together into *out; the exit code, or -1.
static int run_shell(const std::string& cmd, std::string* out) {
  FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  std::string text;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) text.append(buf.data(), n);
  int status = pclose(pipe);
  if (out) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int run_python(const std::string& script, const std::vector<std::string>& args, std::string* out) {
  std::string cmd = shell_quote(env_or("VSS_PYTHON", VSS_DEFAULT_PYTHON)) + " -c " + shell_quote(script);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  return run_shell(cmd, out);
}

fs::path app_path(const std::string& name) { return fs::path(env_or("VSS_APPS_DIR", VSS_DEFAULT_APPS_DIR)) / name; }

int run_command(const fs::path& exe, const std::vector<std::string>& args, std::string* out) {
  std::string cmd = shell_quote(exe.string());
  for (const auto& a : args) cmd += " " + shell_quote(a);
  return run_shell(cmd, out);
}

int run_app_command(const std::string& app, const std::vector<std::string>& args, std::string* out) {
  return run_command(app_path(app), args, out);
}

pid_t start_app(const std::string& app, const std::vector<std::string>& args, const fs::path& log, const fs::path& cwd,
                const std::vector<std::string>& env_extra) {
  const std::string exe = app_path(app).string();
  std::vector<std::string> env = {"OMP_NUM_THREADS=1"};
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind("OMP_NUM_THREADS=", 0) != 0) env.push_back(*e);
  env.insert(env.end(), env_extra.begin(), env_extra.end());
  // Everything exec needs is made before fork: between fork and exec only async-signal-safe calls.
  std::vector<char*> argv{const_cast<char*>(exe.c_str())}, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& kv : env) envp.push_back(const_cast<char*>(kv.c_str()));
  envp.push_back(nullptr);
  const std::string dir = cwd.string(), log_path = log.string();
  const pid_t pid = fork();
  if (pid == 0) {
    if (!dir.empty() && chdir(dir.c_str()) != 0) _exit(126);
    const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(126);
    execve(exe.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

int wait_app(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

int run_python_converting(const std::string& script, const std::vector<std::string>& args, std::string* out) {
  static const std::string prelude = R"PY(
import runpy, sys, torch
CONVERTER = sys.argv.pop(1)
def convert(ckpt, stem):
    torch.save(ckpt, stem + ".pth")
    argv, sys.argv = sys.argv, [CONVERTER, stem + ".pth", stem + ".safetensors"]
    runpy.run_path(CONVERTER, run_name="__main__")
    sys.argv = argv
)PY";
  std::vector<std::string> all{(source_dir() / "tools" / "convert_pth.py").string()};
  all.insert(all.end(), args.begin(), args.end());
  return run_python(prelude + script, all, out);
}

bool python_has(const std::vector<std::string>& modules) {
  std::string script = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)";
  return run_python(script, modules) == 0;
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  TORCH_CHECK(a.sizes() == b.sizes(), "max_abs_diff: shapes differ ", a.sizes(), " vs ", b.sizes());
  if (a.numel() == 0) return 0.0;
  auto d = (a.detach().cpu().to(torch::kFloat64) - b.detach().cpu().to(torch::kFloat64)).abs();
  return d.max().item<double>();
}

double max_rel_diff(const at::Tensor& a, const at::Tensor& b) {
  TORCH_CHECK(a.sizes() == b.sizes(), "max_rel_diff: shapes differ ", a.sizes(), " vs ", b.sizes());
  if (a.numel() == 0) return 0.0;
  auto bd = b.detach().cpu().to(torch::kFloat64);
  auto d = (a.detach().cpu().to(torch::kFloat64) - bd).abs() / bd.abs().clamp_min(1.0);
  return d.max().item<double>();
}

// PNG's CRC-32 (ISO 3309, reflected polynomial 0xEDB88320) of `bytes`.
static uint32_t png_crc(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xFFFFFFFFu;
}

std::string png_claiming_size(uint32_t width, uint32_t height) {
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
  };
  auto chunk = [&](const std::string& type, const std::string& data) {
    return be32(static_cast<uint32_t>(data.size())) + type + data + be32(png_crc(type + data));
  };
  // bit depth 8, colour type 2 (RGB), compression 0, filter 0, no interlace
  const std::string ihdr = be32(width) + be32(height) + std::string{8, 2, 0, 0, 0};
  const std::string no_pixels("\x78\x9c\x03\x00\x00\x00\x00\x01", 8);  // zlib's stream of nothing
  return std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IDAT", no_pixels) + chunk("IEND", "");
}

nlohmann::json json_of(const std::string& out) { return nlohmann::json::parse(json_output(out)); }

std::string to_text(const at::Tensor& t) {
  const at::Tensor flat = t.contiguous().view(-1).to(torch::kDouble);
  std::ostringstream s;
  s.precision(17);
  for (int64_t i = 0; i < flat.numel(); ++i) s << flat[i].item<double>() << ' ';
  return s.str();
}

at::Tensor from_text(const std::string& text, std::vector<int64_t> shape) {
  std::istringstream s(text);
  std::vector<double> v;
  for (double x; s >> x;) v.push_back(x);
  return torch::tensor(v, torch::kDouble).view(shape);
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const vss::Error& e) {
    return e.what();
  }
  return "";
}

void expect_one_line_error(const std::function<void()>& fn, const std::string& needle) {
  auto check = [&](const std::string& msg) {
    EXPECT_NE(msg.find(needle), std::string::npos) << "message: " << msg << "\nexpected to contain: " << needle;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "not one line: " << msg;
  };
  try {
    fn();
  } catch (const c10::Error& e) {  // the ops' TORCH_CHECKs (what() adds a backtrace)
    return check(e.what_without_backtrace());
  } catch (const std::exception& e) {  // vss::Error from the layers above
    return check(e.what());
  }
  ADD_FAILURE() << "no error; expected one containing: " << needle;
}

}  // namespace vss::test
