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
#include <sys/wait.h>

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

int run_app_command(const std::string& app, const std::vector<std::string>& args, std::string* out) {
  std::string cmd = shell_quote(app_path(app).string());
  for (const auto& a : args) cmd += " " + shell_quote(a);
  return run_shell(cmd, out);
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

nlohmann::json json_of(const std::string& out) { return nlohmann::json::parse(json_output(out)); }

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
