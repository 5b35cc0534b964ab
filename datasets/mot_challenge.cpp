#include "datasets/mot_challenge.h"

#include "core/atomic_file.h"
#include "core/error.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <utility>

namespace vss::track {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  if (line.find(',') != std::string::npos) {
    size_t start = 0;
    while (true) {
      const size_t comma = line.find(',', start);
      out.push_back(trim(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  } else {
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      size_t j = i;
      while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
      if (j > i) out.push_back(line.substr(i, j - i));
      i = j;
    }
  }
  return out;
}

[[noreturn]] void line_error(const std::filesystem::path& file, int64_t line, const std::string& what) {
  throw Error(file.string() + ":" + std::to_string(line) + ": " + what);
}

int64_t parse_int(const std::string& text, const std::filesystem::path& file, int64_t line, const char* column) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size())
    line_error(file, line, std::string("column ") + column + ": expected an integer, got '" + text + "'");
  return v;
}

double parse_double(const std::string& text, const std::filesystem::path& file, int64_t line, const char* column) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size())
    line_error(file, line, std::string("column ") + column + ": expected a number, got '" + text + "'");
  if (!std::isfinite(v)) line_error(file, line, std::string("column ") + column + ": not finite ('" + text + "')");
  return v;
}

// Python's str(round(s, 2)) for ordinary scores: "0.88", "0.5", "1.0".
std::string format_score(double score) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.2f", score);
  std::string s = text;
  if (s.size() > 3 && s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
  return s;
}

}  // namespace

SeqInfo read_seqinfo(const std::filesystem::path& ini) {
  std::ifstream in(ini);
  if (!in) throw_file_error(ini.string(), "cannot open seqinfo.ini");
  SeqInfo info;
  bool in_sequence = false, has_length = false;
  int64_t n = 0;
  for (std::string raw; std::getline(in, raw);) {
    ++n;
    const std::string line = trim(raw);
    if (line.empty() || line[0] == ';' || line[0] == '#') continue;
    if (line.front() == '[') {
      in_sequence = line == "[Sequence]";
      continue;
    }
    if (!in_sequence) continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) line_error(ini, n, "expected key=value, got '" + line + "'");
    const std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    if (key == "name") info.name = value;
    else if (key == "imDir") info.im_dir = value;
    else if (key == "imExt") info.im_ext = value;
    else if (key == "frameRate") info.frame_rate = parse_double(value, ini, n, "frameRate");
    else if (key == "seqLength") info.seq_length = parse_int(value, ini, n, "seqLength"), has_length = true;
    else if (key == "imWidth") info.im_width = parse_int(value, ini, n, "imWidth");
    else if (key == "imHeight") info.im_height = parse_int(value, ini, n, "imHeight");
  }
  if (!has_length) throw_file_error(ini.string(), "[Sequence] has no seqLength");
  if (info.seq_length < 1) throw_file_error(ini.string(), "seqLength must be >= 1, got " + std::to_string(info.seq_length));
  return info;
}

BoxFile read_boxes(const std::filesystem::path& file, FileKind kind, int64_t seq_length) {
  std::ifstream in(file);
  if (!in) throw_file_error(file.string(), "cannot open");
  BoxFile result;
  size_t columns = 0;
  std::set<std::pair<int64_t, int64_t>> seen;  // (frame, id)
  int64_t n = 0;
  for (std::string raw; std::getline(in, raw);) {
    ++n;
    if (trim(raw).empty()) continue;
    const auto f = split_fields(raw);
    const size_t min_columns = kind == FileKind::GroundTruth ? 6 : 7;
    if (f.size() < min_columns || f.size() > 10)
      line_error(file, n, "expected " + std::to_string(min_columns) + " to 10 columns, got " + std::to_string(f.size()));
    if (columns == 0) columns = f.size();
    if (f.size() != columns)
      line_error(file, n, "has " + std::to_string(f.size()) + " columns, earlier lines have " + std::to_string(columns));
    Box b;
    b.frame = parse_int(f[0], file, n, "0 (frame)");
    if (b.frame < 1) line_error(file, n, "column 0 (frame): frames start at 1, got " + f[0]);
    if (seq_length > 0 && b.frame > seq_length)
      line_error(file, n, "column 0 (frame): " + f[0] + " is beyond seqLength " + std::to_string(seq_length));
    b.id = parse_int(f[1], file, n, "1 (id)");
    b.x = parse_double(f[2], file, n, "2 (bb_left)");
    b.y = parse_double(f[3], file, n, "3 (bb_top)");
    b.w = parse_double(f[4], file, n, "4 (bb_width)");
    b.h = parse_double(f[5], file, n, "5 (bb_height)");
    if (b.w < 0) line_error(file, n, "column 4 (bb_width): negative width " + f[4]);
    if (b.h < 0) line_error(file, n, "column 5 (bb_height): negative height " + f[5]);
    if (kind == FileKind::Detections && (b.w == 0 || b.h == 0))
      line_error(file, n, "zero-size detection box (" + f[4] + " x " + f[5] + ")");
    if (f.size() > 6) b.score = parse_double(f[6], file, n, "6 (conf)");
    if (kind == FileKind::GroundTruth && f.size() == 9) {
      b.cls = static_cast<int>(parse_int(f[7], file, n, "7 (class)"));
      b.visibility = parse_double(f[8], file, n, "8 (visibility)");
    }
    if (kind == FileKind::Results && f.size() >= 8) {
      // TrackEval reads column 7 as the class and accepts only pedestrians (1) or -1.
      const double cls = parse_double(f[7], file, n, "7 (class)");
      if (cls > 1) line_error(file, n, "column 7 (class): results must hold -1 or 1 (pedestrian), got " + f[7]);
    }
    if (kind != FileKind::Detections && !seen.emplace(b.frame, b.id).second)
      line_error(file, n, "column 1 (id): id " + f[1] + " appears twice in frame " + f[0]);
    result.boxes.push_back(b);
  }
  result.has_class = kind == FileKind::GroundTruth && columns == 9;
  return result;
}

void write_results(const std::filesystem::path& file, const std::vector<Box>& boxes) {
  std::vector<const Box*> order;
  order.reserve(boxes.size());
  for (const Box& b : boxes) order.push_back(&b);
  std::stable_sort(order.begin(), order.end(), [](const Box* a, const Box* b) {
    return a->frame != b->frame ? a->frame < b->frame : a->id < b->id;
  });
  std::string text;
  char line[256];
  for (const Box* b : order) {
    if (b->frame < 1) throw_file_error(file.string(), "cannot write frame " + std::to_string(b->frame) + " (frames start at 1)");
    std::snprintf(line, sizeof(line), "%lld,%lld,%.1f,%.1f,%.1f,%.1f,", static_cast<long long>(b->frame),
                  static_cast<long long>(b->id), b->x, b->y, b->w, b->h);
    text += line;
    text += format_score(b->score);
    text += ",-1,-1,-1\n";
  }
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i]->frame == order[i - 1]->frame && order[i]->id == order[i - 1]->id)
      throw_file_error(file.string(), "cannot write id " + std::to_string(order[i]->id) + " twice in frame " +
                                          std::to_string(order[i]->frame));
  write_file_atomically(file, text);
}

std::vector<std::string> read_seqmap(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw_file_error(file.string(), "cannot open seqmap");
  std::vector<std::string> names;
  bool header = true;
  for (std::string raw; std::getline(in, raw);) {
    const auto fields = split_fields(raw);
    if (fields.empty() || fields[0].empty()) continue;
    const std::string& name = fields[0];
    if (header) {
      header = false;
      if (name == "name") continue;
    }
    names.push_back(name);
  }
  if (names.empty()) throw_file_error(file.string(), "seqmap lists no sequences");
  return names;
}

std::filesystem::path Sequence::image_path(int64_t frame) const {
  std::string digits = std::to_string(frame);
  if (static_cast<int>(digits.size()) < image_digits) digits.insert(0, image_digits - digits.size(), '0');
  return dir / info.im_dir / (digits + info.im_ext);
}

std::vector<std::filesystem::path> Sequence::frame_paths() const {
  std::vector<std::filesystem::path> out;
  for (int64_t f = 1; f <= info.seq_length; ++f) {
    out.push_back(image_path(f));
    if (!std::filesystem::exists(out.back()))
      throw_file_error(out.back().string(), "missing frame " + std::to_string(f) + " of sequence " + info.name +
                                                " (seqLength " + std::to_string(info.seq_length) + ")");
  }
  if (out.empty()) throw_file_error(seqinfo_path().string(), "seqLength 0: no frames");
  return out;
}

Sequence open_sequence(const std::filesystem::path& dir) {
  Sequence seq;
  seq.dir = dir;
  if (!std::filesystem::exists(seq.seqinfo_path()))
    throw_file_error(seq.seqinfo_path().string(), "missing (a sequence folder needs seqinfo.ini)");
  seq.info = read_seqinfo(seq.seqinfo_path());
  if (seq.info.name.empty()) seq.info.name = dir.filename().string();
  seq.image_digits = 8;
  if (!std::filesystem::exists(seq.image_path(1))) seq.image_digits = 6;
  return seq;
}

}  // namespace vss::track
