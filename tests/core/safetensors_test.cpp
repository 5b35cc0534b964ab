#include "core/safetensors.h"
#include "core/error.h"
#include "core/remove_tree.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

void spit(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

// A safetensors file from its parts; `header_len` overrides the length prefix.
std::string make_file(const std::string& header, const std::string& buffer, int64_t header_len = -1) {
  const uint64_t n = header_len < 0 ? header.size() : uint64_t(header_len);
  std::string out(reinterpret_cast<const char*>(&n), 8);
  return out + header + buffer;
}

class Safetensors : public testing::Test {
 protected:
  void SetUp() override { dir_ = vss::test::make_temp_dir("vss-safetensors-test"); }
  void TearDown() override { vss::remove_tree(dir_); }

  // Reads `bytes` as a file and returns the vss::Error message ("" and a failure if none).
  std::string read_error(const std::string& bytes) {
    const fs::path p = dir_ / "bad.safetensors";
    spit(p, bytes);
    try {
      vss::read_safetensors(p);
    } catch (const vss::Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "no error for a malformed file";
    return "";
  }
  void expect_error(const std::string& bytes, const std::string& what) {
    const std::string msg = read_error(bytes);
    const std::string prefix = (dir_ / "bad.safetensors").string() + ": ";
    EXPECT_EQ(msg.rfind(prefix, 0), 0u) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << "message: " << msg << "\nexpected to contain: " << what;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  // One tensor entry of a header.
  static std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                           const std::string& offsets) {
    return "\"" + name + "\":{\"dtype\":" + dtype + ",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
  }

  fs::path dir_;
};

// One tensor of every supported dtype, plus 0-rank and empty ones.
std::vector<std::pair<std::string, at::Tensor>> sample_tensors() {
  torch::manual_seed(7);
  return {
      {"f32", torch::randn({3, 5})},
      {"f16", torch::randn({4, 3}).to(torch::kHalf)},
      {"bf16", torch::randn({7}).to(torch::kBFloat16)},
      {"f64", torch::randn({2, 2, 2}, torch::kDouble)},
      {"i64", torch::randint(-1000000000000LL, 1000000000000LL, {5}, torch::kLong)},
      {"i32", torch::randint(-100000, 100000, {3, 1}, torch::kInt)},
      {"i16", torch::randint(-30000, 30000, {9}, torch::kShort)},
      {"i8", torch::randint(-128, 128, {3}, torch::kChar)},
      {"u8", torch::randint(0, 256, {2, 3}, torch::kByte)},
      {"bool", torch::randint(0, 2, {5}, torch::kByte).to(torch::kBool)},
      {"scalar", torch::tensor(2.5)},
      {"scalar_i64", torch::tensor(int64_t(-3))},
      {"empty", torch::zeros({0, 4})},
      {"empty_f16", torch::zeros({2, 0}, torch::kHalf)},
      {"strided", torch::arange(12, torch::kFloat).reshape({3, 4}).t()},  // written contiguous
  };
}

}  // namespace

TEST_F(Safetensors, round_trip_every_dtype_with_metadata) {
  const auto tensors = sample_tensors();
  const fs::path p = dir_ / "rt.safetensors";
  vss::write_safetensors(p, tensors, {{"format", "pt"}, {"note", "ünïcode \"quoted\""}});
  const vss::SafetensorsFile f = vss::read_safetensors(p);
  EXPECT_EQ(f.source, p.string());
  EXPECT_EQ(f.metadata, (std::map<std::string, std::string>{{"format", "pt"}, {"note", "ünïcode \"quoted\""}}));
  ASSERT_EQ(f.tensors.size(), tensors.size());
  for (const auto& [name, expected] : tensors) {
    ASSERT_TRUE(f.contains(name)) << name;
    const at::Tensor& got = f.at(name);
    EXPECT_EQ(got.scalar_type(), expected.scalar_type()) << name;
    EXPECT_EQ(got.sizes(), expected.sizes()) << name;
    EXPECT_TRUE(got.device().is_cpu());
    EXPECT_TRUE(torch::equal(got, expected)) << name;
  }
  // File order is by decreasing dtype size, then name: every offset stays aligned.
  std::vector<std::string> order;
  for (const auto& t : f.tensors) order.push_back(t.first);
  EXPECT_EQ(order, (std::vector<std::string>{"i64", "scalar_i64", "f64", "empty", "f32", "scalar", "strided", "i32",
                                             "bf16", "empty_f16", "f16", "i16", "i8", "u8", "bool"}));
  EXPECT_EQ(vss::test::read_bytes(p).substr(8).find("\"__metadata__\""), 1u);  // written first, like the reference
  EXPECT_FALSE(f.contains("nope"));
  try {
    f.at("nope");
    FAIL() << "no throw";
  } catch (const vss::Error& e) {
    EXPECT_EQ(std::string(e.what()), p.string() + ": no tensor named 'nope'");
  }
}

TEST_F(Safetensors, empty_file_and_header_alignment) {
  const fs::path p = dir_ / "none.safetensors";
  vss::write_safetensors(p, {});
  EXPECT_EQ(vss::test::read_bytes(p), make_file("{}      ", ""));
  EXPECT_TRUE(vss::read_safetensors(p).tensors.empty());
  for (int n = 1; n < 10; ++n) {  // names of every length mod 8 give an 8-aligned data start
    vss::write_safetensors(p, {{std::string(n, 'x'), torch::ones({1})}});
    const std::string bytes = vss::test::read_bytes(p);
    uint64_t header_len = 0;
    std::memcpy(&header_len, bytes.data(), 8);
    EXPECT_EQ(header_len % 8, 0u);
    EXPECT_EQ(bytes.size(), 8 + header_len + 4);
  }
}

TEST_F(Safetensors, reads_files_written_by_python_safetensors) {
  if (!vss::test::python_has({"numpy", "safetensors", "torch"})) GTEST_SKIP() << "python oracle not available";
  const fs::path p = dir_ / "py.safetensors";
  const fs::path p_bf16 = dir_ / "py_bf16.safetensors";
  const std::string script = R"PY(
import sys, numpy as np, torch
from safetensors.numpy import save_file
from safetensors.torch import save_file as save_torch
t = {
  "a.f32": (np.arange(24, dtype=np.float32).reshape(2, 3, 4) * 0.5 - 3),
  "b.f64": np.linspace(-1, 1, 5, dtype=np.float64),
  "c.f16": np.array([[0.5, -2.0], [65504.0, 1e-3]], dtype=np.float16),
  "d.i64": np.array([-(2**62), 0, 2**62 + 5], dtype=np.int64),
  "e.i32": np.arange(-3, 3, dtype=np.int32),
  "f.i16": np.array([-32768, 32767], dtype=np.int16),
  "g.i8": np.array([-128, 127, 0], dtype=np.int8),
  "h.u8": np.array([0, 255, 7], dtype=np.uint8),
  "i.bool": np.array([True, False, True]),
  "j.scalar": np.array(42.0, dtype=np.float32),
  "k.empty": np.zeros((0, 3), dtype=np.float32),
}
save_file(t, sys.argv[1], metadata={"format": "np", "source": "python"})
save_torch({"bf": torch.tensor([1.5, -2.25, 3e8], dtype=torch.bfloat16)}, sys.argv[2])
print(float(np.float16(1e-3)))
)PY";
  std::string out;
  ASSERT_EQ(vss::test::run_python(script, {p.string(), p_bf16.string()}, &out), 0) << out;
  const double f16_small = std::stod(out);  // 1e-3 rounded to f16, as numpy rounds it

  const vss::SafetensorsFile f = vss::read_safetensors(p);
  EXPECT_EQ(f.metadata, (std::map<std::string, std::string>{{"format", "np"}, {"source", "python"}}));
  EXPECT_EQ(f.tensors.size(), 11u);
  EXPECT_TRUE(torch::equal(f.at("a.f32"), torch::arange(24, torch::kFloat).reshape({2, 3, 4}) * 0.5 - 3));
  EXPECT_TRUE(torch::equal(f.at("b.f64"), torch::tensor({-1.0, -0.5, 0.0, 0.5, 1.0}, torch::kDouble)));
  const at::Tensor c = f.at("c.f16");
  EXPECT_EQ(c.scalar_type(), torch::kHalf);
  EXPECT_EQ(c.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(c[0][0].item<float>(), 0.5f);
  EXPECT_EQ(c[0][1].item<float>(), -2.0f);
  EXPECT_EQ(c[1][0].item<float>(), 65504.0f);
  EXPECT_EQ(double(c[1][1].item<float>()), f16_small);
  EXPECT_TRUE(torch::equal(f.at("d.i64"), torch::tensor({-(int64_t(1) << 62), int64_t(0), (int64_t(1) << 62) + 5})));
  EXPECT_TRUE(torch::equal(f.at("e.i32"), torch::arange(-3, 3, torch::kInt)));
  EXPECT_TRUE(torch::equal(f.at("f.i16"), torch::tensor({-32768, 32767}, torch::kShort)));
  EXPECT_TRUE(torch::equal(f.at("g.i8"), torch::tensor({-128, 127, 0}, torch::kChar)));
  EXPECT_TRUE(torch::equal(f.at("h.u8"), torch::tensor({0, 255, 7}, torch::kByte)));
  EXPECT_TRUE(torch::equal(f.at("i.bool"), torch::tensor({true, false, true}, torch::kBool)));
  EXPECT_EQ(f.at("j.scalar").dim(), 0);
  EXPECT_EQ(f.at("j.scalar").item<float>(), 42.0f);
  EXPECT_EQ(f.at("k.empty").sizes(), (std::vector<int64_t>{0, 3}));
  const at::Tensor bf = vss::read_safetensors(p_bf16).at("bf");
  EXPECT_EQ(bf.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(bf[0].item<float>(), 1.5f);
  EXPECT_EQ(bf[1].item<float>(), -2.25f);
  EXPECT_EQ(bf[2].item<float>(), 299892736.0f);  // 3e8 rounded to bf16's 8-bit mantissa
}

TEST_F(Safetensors, python_reads_our_files_and_writes_the_same_bytes) {
  if (!vss::test::python_has({"numpy", "safetensors", "torch"})) GTEST_SKIP() << "python oracle not available";
  const auto tensors = sample_tensors();
  const fs::path ours = dir_ / "ours.safetensors";
  const fs::path theirs = dir_ / "theirs.safetensors";
  vss::write_safetensors(ours, tensors, {{"format", "pt"}});
  // Python checks the values against its own computation of the same data, then saves the
  // tensors again with the reference writer so the bytes can be compared.
  const std::string script = R"PY(
import sys, torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
t = load_file(sys.argv[1])
with safe_open(sys.argv[1], framework="pt") as f:
    assert f.metadata() == {"format": "pt"}, f.metadata()
assert len(t) == 15, sorted(t)
assert t["scalar"].shape == () and t["scalar"].item() == 2.5
assert t["scalar_i64"].dtype == torch.int64 and t["scalar_i64"].item() == -3
assert t["empty"].shape == (0, 4) and t["empty_f16"].shape == (2, 0) and t["empty_f16"].dtype == torch.float16
assert torch.equal(t["strided"], torch.arange(12, dtype=torch.float32).reshape(3, 4).t().contiguous())
for name, dt in [("f32", torch.float32), ("f16", torch.float16), ("bf16", torch.bfloat16), ("f64", torch.float64),
                 ("i64", torch.int64), ("i32", torch.int32), ("i16", torch.int16), ("i8", torch.int8),
                 ("u8", torch.uint8), ("bool", torch.bool)]:
    assert t[name].dtype == dt, (name, t[name].dtype)
assert t["i64"].abs().max() > 2**31  # values really use 64 bits
save_file(t, sys.argv[2], metadata={"format": "pt"})
)PY";
  std::string out;
  ASSERT_EQ(vss::test::run_python(script, {ours.string(), theirs.string()}, &out), 0) << out;
  EXPECT_EQ(vss::test::read_bytes(ours), vss::test::read_bytes(theirs)) << "our file differs from the reference writer's";
  // Values: torch in Python read exactly what we wrote (compared through the reference file).
  const vss::SafetensorsFile back = vss::read_safetensors(theirs);
  for (const auto& [name, expected] : tensors) EXPECT_TRUE(torch::equal(back.at(name), expected)) << name;
}

TEST_F(Safetensors, malformed_files_are_one_line_errors_naming_the_file) {
  const std::string f32x2 = entry("w", "\"F32\"", "[2]", "[0,8]");
  const std::string eight(8, '\0');
  for (int n = 0; n < 8; ++n) expect_error(std::string(n, '\0'), "file too short");
  expect_error(make_file("{}", "", 100'000'001), "exceeds the limit of 100000000 bytes");
  expect_error(make_file("{}", "", 3), "runs past the end of the file");
  expect_error(make_file("", ""), "header does not start with '{'");
  expect_error(make_file("[]", ""), "header does not start with '{'");
  expect_error(make_file(" {}", ""), "header does not start with '{'");
  expect_error(make_file("{\"w\":", ""), "invalid JSON header");
  expect_error(make_file("{} x", ""), "invalid JSON header");
  expect_error(make_file("{\"\xff\xfe\":{}}", ""), "invalid JSON header");  // not UTF-8
  expect_error(make_file("{" + f32x2 + "," + f32x2 + "}", eight), "duplicate key 'w'");
  expect_error(make_file("{\"w\":[1]}", ""), "tensor 'w': expected an object");
  expect_error(make_file("{\"w\":{\"dtype\":\"F32\",\"shape\":[0]}}", ""), "tensor 'w': missing field 'data_offsets'");
  expect_error(make_file("{" + entry("w", "5", "[2]", "[0,8]") + "}", eight), "tensor 'w': dtype must be a string");
  expect_error(make_file("{" + entry("w", "\"F32\"", "\"2\"", "[0,8]") + "}", eight), "tensor 'w': shape must be a list");
  expect_error(make_file("{" + entry("w", "\"F32\"", "[2.0]", "[0,8]") + "}", eight), "tensor 'w': shape must be a list of integers");
  expect_error(make_file("{" + entry("w", "\"F32\"", "[2]", "[0]") + "}", eight), "tensor 'w': data_offsets must be a list [begin, end]");
  expect_error(make_file("{" + entry("w", "\"F32\"", "[2]", "[\"0\",\"8\"]") + "}", eight), "tensor 'w': data_offsets must be non-negative integers");
  expect_error(make_file("{" + entry("w", "\"F32\"", "[2]", "[-8,0]") + "}", eight), "tensor 'w': data_offsets must be non-negative integers");
  expect_error(make_file("{" + entry("w", "\"F32\"", "[-2]", "[0,8]") + "}", eight), "tensor 'w': negative dimension");
  expect_error(make_file("{" + entry("w", "\"F32\"", "[4611686018427387904,4]", "[0,8]") + "}", eight), "tensor 'w': shape [4611686018427387904,4] is too large");
  expect_error(make_file("{" + entry("w", "\"F8_E4M3\"", "[8]", "[0,8]") + "}", eight), "tensor 'w': unsupported dtype 'F8_E4M3'");
  expect_error(make_file("{" + entry("w", "\"U16\"", "[4]", "[0,8]") + "}", eight), "tensor 'w': unsupported dtype 'U16'");
  expect_error(make_file("{" + entry("w", "\"U64\"", "[1]", "[0,8]") + "}", eight), "tensor 'w': unsupported dtype 'U64'");
  expect_error(make_file("{" + entry("w", "\"Q4\"", "[1]", "[0,8]") + "}", eight), "tensor 'w': unknown dtype 'Q4'");
  expect_error(make_file("{" + entry("w", "\"F32\"", "[3]", "[0,8]") + "}", eight), "tensor 'w': data_offsets [0,8] hold 8 bytes, but F32 [3] needs 12");
  expect_error(make_file("{" + entry("w", "\"F32\"", "[2]", "[8,0]") + "}", eight), "tensor 'w': data_offsets [8,0] end before they begin");
  expect_error(make_file("{" + entry("w", "\"F32\"", "[2]", "[4,12]") + "}", std::string(12, '\0')), "tensor 'w' leaves a hole");
  expect_error(make_file("{" + entry("w", "\"F32\"", "[2]", "[0,8]") + "," + entry("v", "\"F32\"", "[2]", "[4,12]") + "}", std::string(12, '\0')), "tensors 'w' and 'v' overlap");
  expect_error(make_file("{" + f32x2 + "}", std::string(4, '\0')), "tensor 'w': data_offsets end at 8, past the data buffer (4 bytes)");
  expect_error(make_file("{" + f32x2 + "}", std::string(12, '\0')), "the tensors cover 8 of the 12 bytes");
  expect_error(make_file("{}", "x"), "the tensors cover 0 of the 1 bytes");
  expect_error(make_file("{\"__metadata__\":{\"k\":1}}", ""), "__metadata__ value of 'k' must be a string");
  expect_error(make_file("{\"__metadata__\":[\"k\"]}", ""), "__metadata__ must be an object of strings");
  expect_error(make_file("{" + entry("b", "\"BOOL\"", "[2]", "[0,2]") + "}", std::string("\x01\x02", 2)), "tensor 'b': BOOL data holds bytes other than 0 and 1");
  // Not errors: padding after the JSON, null metadata, unaligned data, zero-size tensors anywhere.
  const fs::path ok = dir_ / "ok.safetensors";
  float values[2] = {1.5f, -2.0f};
  std::string data(1, '\x07');
  data.append(reinterpret_cast<const char*>(values), 8);
  spit(ok, make_file("{\"__metadata__\":null," + entry("u", "\"U8\"", "[1]", "[0,1]") + "," + entry("w", "\"F32\"", "[2]", "[1,9]") +
                         "," + entry("z", "\"F64\"", "[0,2]", "[1,1]") + "}   ",
                     data));
  const vss::SafetensorsFile f = vss::read_safetensors(ok);
  EXPECT_TRUE(torch::equal(f.at("w"), torch::tensor({1.5f, -2.0f})));  // read from an odd address
  EXPECT_EQ(f.at("u").item<uint8_t>(), 7);
  EXPECT_EQ(f.at("z").sizes(), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(f.tensors.front().first, "u");  // file order
}

TEST_F(Safetensors, missing_files_and_bad_writes_name_the_path) {
  const fs::path missing = dir_ / "missing.safetensors";
  try {
    vss::read_safetensors(missing);
    FAIL() << "no throw";
  } catch (const vss::Error& e) {
    EXPECT_EQ(std::string(e.what()), missing.string() + ": cannot open: No such file or directory");
  }
  try {
    vss::read_safetensors(dir_);
    FAIL() << "no throw";
  } catch (const vss::Error& e) {
    EXPECT_EQ(std::string(e.what()), dir_.string() + ": not a regular file");
  }
  const fs::path p = dir_ / "w.safetensors";
  auto write_error = [&](const std::vector<std::pair<std::string, at::Tensor>>& t) -> std::string {
    try {
      vss::write_safetensors(p, t);
    } catch (const vss::Error& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(write_error({{"a", torch::ones({1})}, {"a", torch::ones({2})}}), p.string() + ": tensor 'a' given twice");
  EXPECT_EQ(write_error({{"__metadata__", torch::ones({1})}}), p.string() + ": '__metadata__' cannot be a tensor name");
  EXPECT_EQ(write_error({{"c", torch::ones({1}, torch::kComplexFloat)}}),
            p.string() + ": tensor 'c': dtype ComplexFloat cannot be stored in safetensors here");
  EXPECT_EQ(write_error({{"u", at::Tensor()}}), p.string() + ": tensor 'u' is undefined");
  EXPECT_EQ(write_error({{std::string("bad\xff"), torch::ones({1})}}), p.string() + ": name 'bad\xff' is not valid UTF-8");
  EXPECT_FALSE(fs::exists(p));  // a failed write leaves nothing behind
}

TEST_F(Safetensors, truncated_or_corrupted_files_only_raise_errors) {
  const fs::path good = dir_ / "good.safetensors";
  vss::write_safetensors(good, {{"a", torch::arange(6, torch::kFloat).reshape({2, 3})},
                                {"b", torch::tensor({1, 2, 3}, torch::kShort)},
                                {"s", torch::tensor(true)}},
                         {{"k", "v"}});
  const std::string bytes = vss::test::read_bytes(good);
  const fs::path p = dir_ / "cut.safetensors";
  int errors = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    spit(p, bytes.substr(0, n));
    try {
      vss::read_safetensors(p);
      ADD_FAILURE() << "a file truncated to " << n << " bytes was accepted";
    } catch (const vss::Error&) {
      ++errors;
    }
  }
  EXPECT_EQ(errors, int(bytes.size()));
  // Every single-byte corruption of the prefix and header either reads or is a vss::Error.
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  for (size_t i = 0; i < 8 + header_len; ++i) {
    for (int x : {0x01, 0x20, 0x80, 0xff}) {
      std::string corrupt = bytes;
      corrupt[i] = char(corrupt[i] ^ x);
      spit(p, corrupt);
      try {
        vss::read_safetensors(p);
      } catch (const vss::Error&) {
      }  // anything else escapes and fails the test
    }
  }
}
