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

// The names of a split list (BIT_CD's list/<split>.txt, ChangeMamba's train_list.txt): one a
// line, with or without extension, blank lines and surrounding spaces ignored. A missing
// file is a vss::Error naming it.
std::vector<std::string> read_name_list(const std::string& list_file);

// The names of `list_file` out of `all` (match_by_name of the roles), in the list's order,
// each once: a listed name that is incomplete keeps its skipped line, one found in no role
// gets "<name>: listed in <list_file> but in none of <roles>".
FileMatching select_listed(const FileMatching& all, const std::string& list_file, const std::string& roles);

}  // namespace vss
