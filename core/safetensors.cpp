#include "core/safetensors.h"

#include "core/atomic_file.h"
#include "core/error.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vss {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr uint64_t kMaxHeaderSize = 100'000'000;  // the reference reader's MAX_HEADER_SIZE

struct DtypeInfo {
  const char* name;
  at::ScalarType type;
  size_t size;
  int rank;  // the reference writer's dtype order: larger first in the file
};

// `rank` follows the reference's Dtype enum order, so equal-size dtypes are laid out the
// same way and our files match Python's byte for byte.
const DtypeInfo kDtypes[] = {
    {"BOOL", at::kBool, 1, 0},      {"U8", at::kByte, 1, 1},       {"I8", at::kChar, 1, 2},
    {"I16", at::kShort, 2, 3},      {"F16", at::kHalf, 2, 5},      {"BF16", at::kBFloat16, 2, 6},
    {"I32", at::kInt, 4, 7},        {"F32", at::kFloat, 4, 9},     {"F64", at::kDouble, 8, 10},
    {"I64", at::kLong, 8, 11},
};
// Valid safetensors dtypes that have no supported tensor type here.
const char* const kUnsupportedDtypes[] = {"F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2",
                                          "U16", "U32", "U64", "C64"};

const DtypeInfo* dtype_by_name(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

const DtypeInfo* dtype_by_type(at::ScalarType t) {
  for (const auto& d : kDtypes)
    if (t == d.type) return &d;
  return nullptr;
}

// Owns a read-only mapping of a whole file.
class Mapping {
 public:
  explicit Mapping(const fs::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_file_error(file.string(), std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw_file_error(file.string(), "not a regular file");
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        const int err = errno;
        ::close(fd);
        throw_file_error(file.string(), std::string("cannot map file: ") + std::strerror(err));
      }
      data_ = static_cast<const uint8_t*>(p);
    }
    ::close(fd);  // the mapping stays valid
  }
  ~Mapping() {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

struct Entry {
  std::string name;
  const DtypeInfo* dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};

// Parses JSON, rejecting a key repeated within one object (nlohmann would keep the last).
json parse_header_json(const std::string& path, const char* begin, const char* end) {
  std::vector<std::set<std::string>> keys_per_object;
  std::string duplicate;
  auto callback = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: keys_per_object.emplace_back(); break;
      case json::parse_event_t::object_end: keys_per_object.pop_back(); break;
      case json::parse_event_t::key:
        if (!keys_per_object.back().insert(parsed.get<std::string>()).second && duplicate.empty())
          duplicate = parsed.get<std::string>();
        break;
      default: break;
    }
    return true;
  };
  json header;
  try {
    header = json::parse(begin, end, callback);
  } catch (const json::exception& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ..."
    std::string why = e.what();
    if (const size_t close = why.find("] "); close != std::string::npos) why = why.substr(close + 2);
    throw_file_error(path, "invalid JSON header: " + why);
  }
  if (!duplicate.empty()) throw_file_error(path, "duplicate key '" + duplicate + "' in the header");
  return header;
}

uint64_t read_offset(const std::string& path, const std::string& name, const json& v) {
  if (!v.is_number_unsigned()) throw_file_error(path, "tensor '" + name + "': data_offsets must be non-negative integers");
  return v.get<uint64_t>();
}

Entry parse_entry(const std::string& path, const std::string& name, const json& info) {
  const std::string where = "tensor '" + name + "': ";
  if (!info.is_object()) throw_file_error(path, where + "expected an object with dtype, shape and data_offsets");
  for (const char* field : {"dtype", "shape", "data_offsets"})
    if (!info.contains(field)) throw_file_error(path, where + "missing field '" + field + "'");
  const json& dtype = info["dtype"];
  const json& shape = info["shape"];
  const json& offsets = info["data_offsets"];
  if (!dtype.is_string()) throw_file_error(path, where + "dtype must be a string");
  if (!shape.is_array()) throw_file_error(path, where + "shape must be a list of integers");
  if (!offsets.is_array() || offsets.size() != 2)
    throw_file_error(path, where + "data_offsets must be a list [begin, end]");

  Entry e;
  e.name = name;
  const std::string dtype_name = dtype.get<std::string>();
  e.dtype = dtype_by_name(dtype_name);
  if (!e.dtype) {
    const bool known = std::any_of(std::begin(kUnsupportedDtypes), std::end(kUnsupportedDtypes),
                                   [&](const char* d) { return dtype_name == d; });
    throw_file_error(path, where + (known ? "unsupported dtype '" : "unknown dtype '") + dtype_name + "'");
  }
  uint64_t numel = 1;
  bool overflow = false;
  for (const auto& d : shape) {
    if (d.is_number_integer() && d.get<int64_t>() < 0 && !d.is_number_unsigned())
      throw_file_error(path, where + "negative dimension in shape " + shape.dump());
    if (!d.is_number_unsigned()) throw_file_error(path, where + "shape must be a list of integers, got " + shape.dump());
    const uint64_t dim = d.get<uint64_t>();
    if (dim > uint64_t(std::numeric_limits<int64_t>::max())) overflow = true;
    e.shape.push_back(static_cast<int64_t>(dim));
    overflow |= __builtin_mul_overflow(numel, dim, &numel);
  }
  uint64_t nbytes = 0;
  overflow |= __builtin_mul_overflow(numel, uint64_t(e.dtype->size), &nbytes);
  if (overflow) throw_file_error(path, where + "shape " + shape.dump() + " is too large");
  e.begin = read_offset(path, name, offsets[0]);
  e.end = read_offset(path, name, offsets[1]);
  if (e.end < e.begin)
    throw_file_error(path, where + "data_offsets " + offsets.dump() + " end before they begin");
  if (e.end - e.begin != nbytes)
    throw_file_error(path, where + "data_offsets " + offsets.dump() + " hold " + std::to_string(e.end - e.begin) +
                               " bytes, but " + dtype_name + " " + shape.dump() + " needs " +
                               std::to_string(nbytes));
  return e;
}

}  // namespace

bool SafetensorsFile::contains(const std::string& name) const {
  return std::any_of(tensors.begin(), tensors.end(), [&](const auto& t) { return t.first == name; });
}

const at::Tensor& SafetensorsFile::at(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.first == name) return t.second;
  throw_file_error(source, "no tensor named '" + name + "'");
}

SafetensorsFile read_safetensors(const fs::path& file) {
  const std::string path = file.string();
  const Mapping map(file);
  if (map.size() < 8)
    throw_file_error(path, "file too short for a safetensors header (" + std::to_string(map.size()) + " bytes)");
  uint64_t header_len = 0;
  std::memcpy(&header_len, map.data(), 8);
  if (header_len > kMaxHeaderSize)
    throw_file_error(path, "header length " + std::to_string(header_len) + " exceeds the limit of " +
                               std::to_string(kMaxHeaderSize) + " bytes");
  if (header_len > map.size() - 8)
    throw_file_error(path, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                               std::to_string(map.size()) + " bytes)");
  const char* header_begin = reinterpret_cast<const char*>(map.data()) + 8;
  if (header_len == 0 || header_begin[0] != '{') throw_file_error(path, "header does not start with '{'");
  const json header = parse_header_json(path, header_begin, header_begin + header_len);
  if (!header.is_object()) throw_file_error(path, "header is not a JSON object");

  SafetensorsFile out;
  out.source = path;
  std::vector<Entry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name != "__metadata__") {
      entries.push_back(parse_entry(path, name, info));
      continue;
    }
    if (info.is_null()) continue;
    if (!info.is_object()) throw_file_error(path, "__metadata__ must be an object of strings");
    for (const auto& [key, value] : info.items()) {
      if (!value.is_string()) throw_file_error(path, "__metadata__ value of '" + key + "' must be a string");
      out.metadata[key] = value.get<std::string>();
    }
  }

  // The tensors must tile the data buffer exactly: no overlap, no hole, nothing left over.
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
  const uint64_t buffer_size = map.size() - 8 - header_len;
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const auto& e : entries) {
    if (e.begin < covered)
      throw_file_error(path, "tensors '" + previous->name + "' and '" + e.name + "' overlap in the data buffer");
    if (e.begin > covered)
      throw_file_error(path, "tensor '" + e.name + "' leaves a hole in the data buffer (bytes " +
                                 std::to_string(covered) + ".." + std::to_string(e.begin) + " unused)");
    if (e.end > buffer_size)
      throw_file_error(path, "tensor '" + e.name + "': data_offsets end at " + std::to_string(e.end) +
                                 ", past the data buffer (" + std::to_string(buffer_size) + " bytes)");
    covered = e.end;
    previous = &e;
  }
  if (covered != buffer_size)
    throw_file_error(path, "the tensors cover " + std::to_string(covered) + " of the " + std::to_string(buffer_size) +
                               " bytes in the data buffer");

  const uint8_t* buffer = map.data() + 8 + header_len;
  for (const auto& e : entries) {
    // Copy out of the mapping: the result owns its memory, and memcpy handles unaligned data.
    at::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype->type));
    const size_t nbytes = e.end - e.begin;
    if (nbytes > 0) std::memcpy(t.data_ptr(), buffer + e.begin, nbytes);
    if (e.dtype->type == at::kBool &&
        std::any_of(buffer + e.begin, buffer + e.end, [](uint8_t b) { return b > 1; }))
      throw_file_error(path, "tensor '" + e.name + "': BOOL data holds bytes other than 0 and 1");
    out.tensors.emplace_back(e.name, std::move(t));
  }
  return out;
}

void write_safetensors(const fs::path& file, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::string path = file.string();
  // JSON-quote a name; nlohmann rejects invalid UTF-8, which no reader would accept.
  auto quote = [&](const std::string& s) {
    try {
      return json(s).dump();
    } catch (const json::exception&) {
      throw_file_error(path, "name '" + s + "' is not valid UTF-8");
    }
  };

  struct Item {
    std::string name;
    const DtypeInfo* dtype;
    at::Tensor data;  // CPU, contiguous
  };
  std::vector<Item> items;
  std::set<std::string> names;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__") throw_file_error(path, "'__metadata__' cannot be a tensor name");
    if (!names.insert(name).second) throw_file_error(path, "tensor '" + name + "' given twice");
    if (!tensor.defined()) throw_file_error(path, "tensor '" + name + "' is undefined");
    const DtypeInfo* dtype = dtype_by_type(tensor.scalar_type());
    if (!dtype)
      throw_file_error(path, "tensor '" + name + "': dtype " + std::string(c10::toString(tensor.scalar_type())) +
                                 " cannot be stored in safetensors here");
    items.push_back({name, dtype, tensor.detach().to(torch::kCPU).contiguous()});
  }
  // The reference writer's order: larger dtypes first (keeps every tensor aligned), then name.
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    if (a.dtype->rank != b.dtype->rank) return a.dtype->rank > b.dtype->rank;
    return a.name < b.name;
  });

  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      if (!first) header += ',';
      header += quote(k) + ":" + quote(v);
      first = false;
    }
    header += "}";
  }
  uint64_t offset = 0;
  for (const auto& item : items) {
    const uint64_t nbytes = uint64_t(item.data.numel()) * item.dtype->size;
    std::string shape;
    for (int64_t d : item.data.sizes()) {
      if (!shape.empty()) shape += ',';
      shape += std::to_string(d);
    }
    if (header.size() > 1) header += ",";
    header += quote(item.name) + ":{\"dtype\":\"" + item.dtype->name + "\",\"shape\":[" + shape +
              "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + nbytes) + "]}";
    offset += nbytes;
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');  // data starts 8-byte aligned

  AtomicFile out(file);
  const uint64_t header_len = header.size();
  out.write(&header_len, 8);
  out.write(header.data(), header.size());
  for (const auto& item : items)
    if (item.data.numel() > 0) out.write(item.data.data_ptr(), item.data.numel() * item.dtype->size);
  out.commit();
}

}  // namespace vss
