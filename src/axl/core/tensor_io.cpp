#include "axl/core/tensor_io.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "axl/core/error.h"

namespace axl {

at::ScalarType to_scalar_type(DType t) {
  switch (t) {
    case DType::F64: return at::kDouble;
    case DType::F32: return at::kFloat;
    case DType::F16: return at::kHalf;
    case DType::BF16: return at::kBFloat16;
    case DType::I64: return at::kLong;
    case DType::I32: return at::kInt;
    case DType::I16: return at::kShort;
    case DType::I8: return at::kChar;
    case DType::U8: return at::kByte;
    case DType::BOOL: return at::kBool;
  }
  return at::kFloat;
}

DType from_scalar_type(at::ScalarType t) {
  switch (t) {
    case at::kDouble: return DType::F64;
    case at::kFloat: return DType::F32;
    case at::kHalf: return DType::F16;
    case at::kBFloat16: return DType::BF16;
    case at::kLong: return DType::I64;
    case at::kInt: return DType::I32;
    case at::kShort: return DType::I16;
    case at::kChar: return DType::I8;
    case at::kByte: return DType::U8;
    case at::kBool: return DType::BOOL;
    default: throw Error(std::string("cannot store tensors of type ") + c10::toString(t));
  }
}

at::Tensor tensor_from_view(const TensorView& v) {
  auto st = to_scalar_type(v.info->dtype);
  auto opts = at::TensorOptions().dtype(st).device(at::kCPU);
  std::size_t esize = dtype_size(v.info->dtype);
  if (v.nbytes == 0) return at::empty(v.info->shape, opts);
  if (reinterpret_cast<std::uintptr_t>(v.data) % esize != 0) {
    at::Tensor t = at::empty(v.info->shape, opts);
    std::memcpy(t.data_ptr(), v.data, v.nbytes);
    return t;
  }
  auto owner = v.owner;  // the deleter holds the mapping alive for the tensor's lifetime
  return at::from_blob(const_cast<unsigned char*>(v.data), v.info->shape,
                       [owner](void*) mutable { owner.reset(); }, opts);
}

std::map<std::string, at::Tensor> load_safetensors(const std::string& path) {
  auto f = SafetensorsFile::open(path);
  std::map<std::string, at::Tensor> out;
  for (const auto& t : f->tensors()) out[t.name] = tensor_from_view(f->get(t.name));
  return out;
}

void save_safetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<at::Tensor> keep;
  std::vector<TensorToWrite> items;
  for (const auto& [name, t] : tensors) {
    at::Tensor c = t.detach().to(at::kCPU).contiguous();
    keep.push_back(c);
    TensorToWrite w;
    w.name = name;
    w.dtype = from_scalar_type(c.scalar_type());
    w.shape = c.sizes().vec();
    w.data = c.data_ptr();
    w.nbytes = c.nbytes();
    items.push_back(w);
  }
  write_safetensors(path, items, metadata);
}

}  // namespace axl
