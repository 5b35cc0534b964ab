#pragma once
// Helpers shared by the test suites: where fixtures live, running the Python oracles,
// and comparing tensors with a readable failure message.
#include "core/config.h"

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace vss::test {

// $VSS_PARITY_DIR, else ../shared/parity beside the project root.
std::filesystem::path parity_dir();
// Every *.safetensors file directly under parity_dir()/sub, sorted; empty if none.
std::vector<std::filesystem::path> parity_cases(const std::string& sub);
// The project's source root ($VSS_SOURCE_DIR, else the configured one).
std::filesystem::path source_dir();
// A fresh empty directory under the system temp dir, removed by the caller if wanted.
std::filesystem::path make_temp_dir(const std::string& prefix);
// The whole content of a file, byte for byte ("" if it cannot be read).
std::string read_bytes(const std::filesystem::path& path);

// Runs `$VSS_PYTHON -c script` (default: the VSS_PYTHON CMake was configured with) (args appended); returns its exit code, stdout in *out.
int run_python(const std::string& script, const std::vector<std::string>& args,
               std::string* out = nullptr);
// The built app `name` (e.g. "vss-segment") in $VSS_APPS_DIR, else the build's apps/ folder.
std::filesystem::path app_path(const std::string& name);
// Runs that app with `args` (no shell interpretation); returns its exit code, stdout and
// stderr together in *out. App tests live in tests/apps/ (ctest label cpu).
int run_app_command(const std::string& app, const std::vector<std::string>& args, std::string* out = nullptr);
// The same for any executable (vss-bench: $<TARGET_FILE>).
int run_command(const std::filesystem::path& exe, const std::vector<std::string>& args, std::string* out = nullptr);
// Starts the app in the background: stdout and stderr into `log`, in `cwd` (empty: this one),
// with OMP_NUM_THREADS=1 and `env_extra` ("K=V") in its environment. Returns its pid.
pid_t start_app(const std::string& app, const std::vector<std::string>& args, const std::filesystem::path& log,
                const std::filesystem::path& cwd = {}, const std::vector<std::string>& env_extra = {});
// Waits for a started app: its exit code, or 128 + signal when a signal ended it.
int wait_app(pid_t pid);
// The JSON document in an app's output: run_app_command merges stderr, so warning lines may
// come before it.
std::string json_output(const std::string& out);
// That document, parsed.
nlohmann::json json_of(const std::string& out);
// run_python with a prelude that defines convert(ckpt, stem): torch.save(ckpt, stem + ".pth"),
// then tools/convert_pth.py from it to stem + ".safetensors" (one process: torch loads once).
int run_python_converting(const std::string& script, const std::vector<std::string>& args,
                          std::string* out = nullptr);
// True when $VSS_PYTHON can import every module in `modules`.
bool python_has(const std::vector<std::string>& modules);

// configs/train/shapes_tiny.yaml shrunk to a few seconds of CPU training (10 steps of 2x8
// samples), then `overrides` ("key=value") applied.
vss::Config tiny_train_config(const std::vector<std::string>& overrides = {});

// The bytes of a PNG whose header claims width x height (8-bit RGB) without the pixels:
// signature, IHDR (correct CRC), an empty IDAT, IEND. Decoders read the header, and must
// refuse the size before allocating.
std::string png_claiming_size(uint32_t width, uint32_t height);

// The message of the vss::Error that fn throws, or "" when it throws none.
std::string error_of(const std::function<void()>& fn);

// Runs fn, which must throw a c10::Error (a TORCH_CHECK) whose message is one line containing
// `needle`; anything else is a test failure.
void expect_one_line_error(const std::function<void()>& fn, const std::string& needle);

// A tensor as space-separated numbers (17 digits), for Python oracles' command lines, and
// the numbers an oracle printed back as a float64 tensor of `shape`.
std::string to_text(const at::Tensor& t);
at::Tensor from_text(const std::string& text, std::vector<int64_t> shape);

// max |a - b| over all elements, computed in float64 (shapes must match).
double max_abs_diff(const at::Tensor& a, const at::Tensor& b);
// max |a - b| / max(1, |b|) elementwise, in float64.
double max_rel_diff(const at::Tensor& a, const at::Tensor& b);

}  // namespace vss::test
