#pragma once
// Labelled image folders for classification, in the two layouts users already have:
// - torchvision's ImageFolder: ROOT/<class>/**/*.jpg|png|... — the classes are the sorted
//   sub-folder names, images are found recursively and sorted (ImageNet's train/ and its val/
//   once sorted into synset folders are this layout);
// - ImageNet's flat validation folder: every image in one folder plus a labels file with one
//   line per image, "<file> <class>" (whitespace or a comma between them; the file with or
//   without its extension; the class a name or a 0-based index into the class list). The
//   header of Kaggle's LOC_val_solution.csv ("ImageId,PredictionString") is skipped, and of
//   its prediction string only the first word (the synset) is read.
// With `classes` given (the training split's, or a checkpoint's), the labels index into it
// and a class it does not hold is an error naming the folder or the labels-file line.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace vss {

struct LabelledImages {
  std::vector<std::string> classes;  // label i is classes[i]
  std::vector<std::string> paths;    // sorted by class, then path
  std::vector<int64_t> labels;       // one per path
  int64_t size() const { return static_cast<int64_t>(paths.size()); }
};

// Errors (vss::Error, one line naming the folder or file): ROOT missing or without class
// folders, a class folder without images, a class not in `classes`.
LabelledImages open_image_folder(const std::filesystem::path& root, const std::vector<std::string>& classes = {});

// Without `classes`, the class list is the sorted distinct names of the labels file (digits
// are then names too, sorted as text, as ImageFolder sorts folders named 0, 1, ..., 10). Errors: a line without two fields, a file the folder does not
// hold, an image the labels file does not name, an image named twice, an unknown class or
// an index out of range — each naming the labels file and line, or the image.
LabelledImages open_labelled_folder(const std::filesystem::path& folder, const std::filesystem::path& labels_file,
                                    const std::vector<std::string>& classes = {});

}  // namespace vss
