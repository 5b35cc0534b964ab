#pragma once
// Pairing the files of several folders by name, the way change detection sets (A / B / label)
// and prediction-vs-gt folders are organised: files correspond when their names without the
// extension agree (LEVIR-CD's A/x.png, B/x.png, label/x.png; a .jpg image may pair with a
// .png mask). A name missing from some folder is not an error: it is skipped and reported,
// so a caller can warn and list it in its summary.
#include <string>
#include <vector>

namespace vss {

struct FileRole {
  std::string role;                // "A", "B", "label", "gt", ... (used in messages)
  std::vector<std::string> paths;  // the role's files (e.g. list_images of its folder)
};

struct MatchedFiles {
  std::string name;                // the shared name (stem)
  std::vector<std::string> paths;  // one per role, in the roles' order
};

struct FileMatching {
  std::vector<MatchedFiles> matched;  // sorted by name
  std::vector<std::string> skipped;   // one line per incomplete name: "x: only in A, B (no label)"
};

// A name present in every role is matched; one missing from some role is skipped. Two files
// of one role with the same stem (x.png and x.jpg) are a vss::Error naming both.
FileMatching match_by_name(const std::vector<FileRole>& roles);

}  // namespace vss
