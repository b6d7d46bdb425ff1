// The Op enum and its tables, generated from ops.def; OpParams, the parameters ops carry.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "nabla/scalar.h"
#include "nabla/tensor.h"

namespace nabla {

enum class Op : int16_t {
#define NABLA_OP(name, family, diff) name,
#include "dispatch/ops.def"
#undef NABLA_OP
};

inline constexpr int kNumOps = 0
#define NABLA_OP(name, family, diff) +1
#include "dispatch/ops.def"
#undef NABLA_OP
    ;

enum class OpFamily : int8_t {
#define NABLA_FAMILY(name, kernels, derivatives) name,
#include "dispatch/families.def"
#undef NABLA_FAMILY
};

struct FamilyInfo {
  std::string_view name;
  bool kernels;      // its ops have a kernel per device (view ops have none)
  bool derivatives;  // core/src/autograd/derivatives_<name>.cpp registers backward formulas
};

inline constexpr FamilyInfo kFamilyInfo[] = {
#define NABLA_FAMILY(name, kernels, derivatives) {#name, kernels != 0, derivatives != 0},
#include "dispatch/families.def"
#undef NABLA_FAMILY
};

inline constexpr const FamilyInfo& family_info(OpFamily f) { return kFamilyInfo[static_cast<int>(f)]; }
inline constexpr std::string_view family_name(OpFamily f) { return family_info(f).name; }

struct OpInfo {
  std::string_view name;
  OpFamily family;
  bool differentiable;
};

inline constexpr OpInfo kOpInfo[] = {
#define NABLA_OP(name, family, diff) {#name, OpFamily::family, diff != 0},
#include "dispatch/ops.def"
#undef NABLA_OP
};
static_assert(sizeof(kOpInfo) / sizeof(kOpInfo[0]) == kNumOps, "ops.def tables out of sync");

inline std::string_view op_name(Op op) { return kOpInfo[static_cast<int>(op)].name; }
inline const OpInfo& op_info(Op op) { return kOpInfo[static_cast<int>(op)]; }

// A differentiable op needs its family's backward registration.
inline constexpr bool kDerivativeFamiliesComplete = [] {
  for (const OpInfo& i : kOpInfo) {
    if (i.differentiable && !family_info(i.family).derivatives) return false;
  }
  return true;
}();
static_assert(kDerivativeFamiliesComplete,
              "ops.def: a differentiable op in a family without derivatives (families.def)");
/// Looks an op up by name; returns false when there is none.
bool op_from_name(std::string_view name, Op* out);

/// Window geometry of the conv and pool ops; index 0 is height, 1 width.
struct Window2d {
  std::array<int64_t, 2> kernel{1, 1}, stride{1, 1}, padding{0, 0}, dilation{1, 1};
  int64_t groups = 1;
  bool ceil_mode = false;         // pooling: output size rounds up
  bool count_include_pad = true;  // avg_pool2d: padding counts in the divisor
};

/// Parameters of one op call; ops.def says which fields each op reads.
struct OpParams {
  Scalar s0, s1;                      // scalar arguments (alpha, slope, bounds, exponent, fill value)
  bool has_s0 = true, has_s1 = true;  // clamp's optional bounds
  std::vector<int64_t> dims;          // reduction dims or permutation
  int64_t dim = 0;                    // the one dim of softmax, gather, cat, slice, select
  int64_t i0 = 0, i1 = 0;             // integer arguments (start/step, index, correction, seed/offset)
  Shape sizes, strides;               // view geometry
  int64_t offset = 0;
  Window2d win;              // conv and pool geometry
  std::vector<double> args;  // further floating-point arguments (optimizer hyperparameters)
};

}  // namespace nabla
