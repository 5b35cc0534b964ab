#include "core/opencv_log.h"

#include <mutex>

#ifdef VSS_HAVE_OPENCV
#include <opencv2/core/utils/logger.hpp>
#endif

namespace vss {

void silence_opencv_log() {
#ifdef VSS_HAVE_OPENCV
  static std::once_flag once;
  std::call_once(once, [] { cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT); });
#endif
}

}  // namespace vss
