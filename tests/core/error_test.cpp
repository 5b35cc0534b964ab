#include "core/error.h"

#include <gtest/gtest.h>

TEST(error, shape_message_names_tensor_and_both_shapes) {
  try {
    vss::throw_shape_error("x", {2, -1, 4}, {2, 3});
    FAIL() << "no throw";
  } catch (const vss::Error& e) {
    EXPECT_STREQ(e.what(), "x: expected shape [2, *, 4], got [2, 3]");
  }
}

TEST(error, config_message_has_file_line_and_key) {
  try {
    vss::throw_config_error("a.yaml", 12, "model.depths", "expected a list");
    FAIL() << "no throw";
  } catch (const vss::Error& e) {
    EXPECT_STREQ(e.what(), "a.yaml:12: model.depths: expected a list");
  }
}
