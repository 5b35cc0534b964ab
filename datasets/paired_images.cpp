#include "datasets/paired_images.h"

#include "core/error.h"
#include "core/image_io.h"
#include "datasets/degradations.h"
#include "datasets/image_bank.h"

#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace vss {

namespace {

// The images of one folder, by stem, and how to read them.
class Folder {
 public:
  Folder(const std::string& dir, std::shared_ptr<const ImageBank> bank, const char* role)
      : dir_(dir), bank_(std::move(bank)) {
    if (bank_) {
      for (const auto& stem : bank_->list(dir)) entries_[stem] = dir.empty() ? stem : dir + "/" + stem;
      if (entries_.empty())
        throw_file_error(bank_->path().string(), std::string("holds no images in folder '") + dir + "' (" + role + ")");
    } else {
      if (!fs::is_directory(dir)) throw_file_error(dir, std::string(role) + ": no such directory");
      for (const auto& path : list_images(dir)) {
        const std::string stem = fs::path(path).stem().string();
        const auto [pos, inserted] = entries_.emplace(stem, path);
        if (!inserted) throw_file_error(path, "has the same name as " + pos->second + " apart from the extension");
      }
    }
  }
  const std::map<std::string, std::string>& entries() const { return entries_; }
  std::string where(const std::string& key) const { return bank_ ? bank_->path().string() + ":" + key : key; }
  at::Tensor read(const std::string& key) const {
    return bank_ ? bank_->image(key) : read_image(key, ImageMode::kUnchanged);
  }
  std::string describe() const { return bank_ ? bank_->path().string() + ":" + dir_ : dir_; }

 private:
  std::string dir_;
  std::shared_ptr<const ImageBank> bank_;
  std::map<std::string, std::string> entries_;  // stem -> path or bank name
};

std::string size_text(const at::Tensor& t) { return std::to_string(t.size(0)) + "x" + std::to_string(t.size(1)); }

}  // namespace

std::string apply_filename_tmpl(const std::string& tmpl, const std::string& stem) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl.compare(i, 2, "{}") == 0) {
      out += stem;
      ++i;
    } else {
      out += tmpl[i];
    }
  }
  return out;
}

std::vector<ImagePair> read_paired_images(const PairedImagesOptions& o) {
  if (o.scale < 1) throw Error("paired images: scale must be >= 1, got " + std::to_string(o.scale));
  if (o.gt.empty() && !o.bank) throw Error("paired images: no GT folder given");
  const Folder gt(o.gt, o.bank, "gt");
  std::unique_ptr<Folder> lq;
  if (!o.lq.empty()) lq = std::make_unique<Folder>(o.lq, o.bank, "lq");
  std::vector<ImagePair> pairs;
  for (const auto& [stem, key] : gt.entries()) {
    ImagePair p;
    p.name = stem;
    p.source = gt.where(key);
    const at::Tensor image = gt.read(key);
    try {
      p.gt = mod_crop(image, o.scale);
    } catch (const Error& e) {
      throw_file_error(p.source, e.what());
    }
    if (lq) {
      const std::string lq_stem = apply_filename_tmpl(o.filename_tmpl, stem);
      const auto it = lq->entries().find(lq_stem);
      if (it == lq->entries().end())
        throw_file_error(p.source, "has no LQ partner '" + lq_stem + "' in " + lq->describe() +
                                       " (filename_tmpl '" + o.filename_tmpl + "')");
      p.lq = lq->read(it->second);
      if (p.lq.size(0) * o.scale != p.gt.size(0) || p.lq.size(1) * o.scale != p.gt.size(1) ||
          p.lq.size(2) != p.gt.size(2))
        throw_file_error(lq->where(it->second), "LQ is " + size_text(p.lq) + "x" + std::to_string(p.lq.size(2)) +
                                                    " but the GT " + p.source + " is " + size_text(image) + "x" +
                                                    std::to_string(image.size(2)) + " (GTmod " + size_text(p.gt) +
                                                    ", scale " + std::to_string(o.scale) + ")");
    } else if (o.bicubic_lq && o.scale > 1) {
      p.lq = bicubic_downsample(p.gt, o.scale);
    }
    pairs.push_back(std::move(p));
  }
  return pairs;
}

}  // namespace vss
