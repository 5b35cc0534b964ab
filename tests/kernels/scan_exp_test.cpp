// scan_exp (the CPU scans' vectorizable exp) and scan_decay_exp (the cheaper one for decay
// arguments) against long-double exp.
#include "kernels/scan_exp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace {

// Distance from long-double exp in units of the float spacing at the result.
double ulp_error(float x, float got) {
  const long double want = std::exp(static_cast<long double>(x));
  const long double ulp = std::nextafter(static_cast<float>(want), std::numeric_limits<float>::infinity()) -
                          static_cast<float>(want);
  return static_cast<double>(std::fabs(static_cast<long double>(got) - want) / ulp);
}

TEST(ScanExp, WithinTwoUlpOverTheWholeRange) {
  // Every 2^-12 from -87.3 to 88.7 (720k points), plus the ends and around 0.
  std::vector<float> xs;
  for (double x = -87.3; x <= 88.7; x += 1.0 / 4096) xs.push_back(static_cast<float>(x));
  for (float x : {-87.3f, 88.7f, 0.0f, -0.0f, 1e-30f, -1e-30f, 1e-7f, -1e-7f, 0.34657359f, -0.34657359f})
    xs.push_back(x);
  std::vector<float> got(xs.size());
  vss::scan_decays(xs.data(), 1.0f, static_cast<int64_t>(xs.size()), got.data());
  double worst = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double err = ulp_error(xs[i], got[i]);
    worst = std::max(worst, err);
    ASSERT_LE(err, 2.0) << "x = " << xs[i] << " got " << got[i];
  }
  RecordProperty("worst_ulp", std::to_string(worst));
}

TEST(ScanExp, OutOfRangeAndNan) {
  EXPECT_EQ(vss::scan_exp(0.0f), 1.0f);
  for (float x : {-88.0f, -100.0f, -1e30f, -std::numeric_limits<float>::infinity()}) {
    EXPECT_GE(vss::scan_exp(x), 0.0f) << x;
    EXPECT_LE(vss::scan_exp(x), 1.23e-38f) << x;  // e^-87.3 = 1.219e-38
  }
  EXPECT_TRUE(std::isfinite(vss::scan_exp(88.7f)));
  EXPECT_NEAR(vss::scan_exp(88.7f) / std::exp(88.7f), 1.0f, 1e-6f);
  EXPECT_GE(vss::scan_exp(1e30f), 3.0e38f);  // clamped to e^88.7, not a wrapped exponent
  EXPECT_TRUE(std::isnan(vss::scan_exp(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(vss::scan_exp(2.0), std::exp(2.0));  // float64 keeps libm
}

typedef float Floats8 __attribute__((vector_size(32)));
typedef int32_t Ints8 __attribute__((vector_size(32)));

float decay_exp(float x) {
  vss::scan_decay_exp<float, int32_t>(x);
  return x;
}

TEST(ScanDecayExp, WithinTwoUlpFromMinus86To88AsScalarAndVector) {
  std::vector<float> xs;
  for (double x = -86.0; x <= 88.0; x += 1.0 / 4096) xs.push_back(static_cast<float>(x));
  for (float x : {0.0f, -0.0f, -1e-30f, -1e-7f, 1e-7f, -0.34657359f, 0.34657359f, -86.0f, 88.0f}) xs.push_back(x);
  while (xs.size() % 8) xs.push_back(-1.0f);
  double worst = 0;
  for (size_t i = 0; i < xs.size(); i += 8) {
    Floats8 v;
    std::memcpy(&v, xs.data() + i, sizeof v);
    vss::scan_decay_exp<Floats8, Ints8>(v);
    for (size_t j = 0; j < 8; ++j) {
      const float x = xs[i + j], scalar = decay_exp(x);
      const double err = ulp_error(x, scalar);
      worst = std::max(worst, err);
      ASSERT_LE(err, 2.0) << "x = " << x << " got " << scalar;
      ASSERT_EQ(v[j], scalar) << "vector lane differs from the scalar at x = " << x;
    }
  }
  RecordProperty("worst_ulp", std::to_string(worst));
}

TEST(ScanDecayExp, ClampsBelowAndKeepsNan) {
  EXPECT_EQ(decay_exp(0.0f), 1.0f);
  for (float x : {-86.5f, -100.0f, -1e30f, -std::numeric_limits<float>::infinity()}) {
    EXPECT_GT(decay_exp(x), 0.0f) << x;
    EXPECT_LE(decay_exp(x), 4.5e-38f) << x;  // e^-86 = 4.47e-38: a normal float, no decay left
  }
  EXPECT_TRUE(std::isnan(decay_exp(std::numeric_limits<float>::quiet_NaN())));
}

}  // namespace
