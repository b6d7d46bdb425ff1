// The global Philox generator: seeding, state save/restore, ranges and distributions of the
// random factories, independence from the thread count and the layout of the target, and the
// Random123 known-answer vectors of philox4x32-10 itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "core/math/philox.h"
#include "nabla/nabla.h"

namespace nabla {
namespace {

using F = std::vector<float>;
using D = std::vector<double>;
using L = std::vector<int64_t>;

// Bit patterns, so that equality means bitwise equality (and NaN compares equal to itself).
std::vector<uint32_t> bits(const Tensor& t) {
  const F v = t.to_vector<float>();
  std::vector<uint32_t> b(v.size());
  std::memcpy(b.data(), v.data(), v.size() * sizeof(float));
  return b;
}

double mean_of(const D& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}
double std_of(const D& v) {
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

// ---- Philox4x32-10 known answers (Random123's kat_vectors) ----------------------------------

TEST(Philox, Random123KnownAnswerVectors) {
  {
    const math::Philox4 r = math::philox4x32_10(math::Philox4{{0, 0, 0, 0}}, 0, 0);
    EXPECT_EQ(r.v[0], 0x6627e8d5u);
    EXPECT_EQ(r.v[1], 0xe169c58du);
    EXPECT_EQ(r.v[2], 0xbc57ac4cu);
    EXPECT_EQ(r.v[3], 0x9b00dbd8u);
  }
  {
    const math::Philox4 r = math::philox4x32_10(
        math::Philox4{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu);
    EXPECT_EQ(r.v[0], 0x408f276du);
    EXPECT_EQ(r.v[1], 0x41c83b0eu);
    EXPECT_EQ(r.v[2], 0xa20bc7c6u);
    EXPECT_EQ(r.v[3], 0x6d5451fdu);
  }
  {  // counter and key from the digits of pi
    const math::Philox4 r = math::philox4x32_10(
        math::Philox4{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u);
    EXPECT_EQ(r.v[0], 0xd16cfe09u);
    EXPECT_EQ(r.v[1], 0x94fdccebu);
    EXPECT_EQ(r.v[2], 0x5001e420u);
    EXPECT_EQ(r.v[3], 0x24126ea1u);
  }
}

TEST(Philox, DrawLayoutOfCounterAndKey) {
  // element `index` of draw `offset` under `seed`: counter (index lo, index hi, offset lo,
  // offset hi), key (seed lo, seed hi)
  const uint64_t seed = 0x0123456789abcdefull, offset = 0x1122334455667788ull, index = 0x99aabbccddeeff00ull;
  const math::Philox4 a = math::philox_draw(seed, offset, index);
  const math::Philox4 b = math::philox4x32_10(
      math::Philox4{{0xddeeff00u, 0x99aabbccu, 0x55667788u, 0x11223344u}}, 0x89abcdefu, 0x01234567u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(a.v[i], b.v[i]) << "word " << i;
  // the uniform transforms stay inside [0, 1)
  const math::Philox4 ones{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}};
  EXPECT_LT(math::uniform_float(ones), 1.0f);
  EXPECT_LT(math::uniform_double(ones), 1.0);
  const math::Philox4 zeros{{0, 0, 0, 0}};
  EXPECT_EQ(math::uniform_float(zeros), 0.0f);
  EXPECT_TRUE(std::isfinite(math::normal_double(zeros)));  // u1 is in (0, 1]: log never sees 0
}

// The Box-Muller log and cos are nabla's own (basic operations only, so both devices give the
// same bits): their accuracy against the C library, over the inputs the draws feed them.
namespace {
double ulps_between(double a, double b) {
  if (a == b) return 0.0;
  return std::fabs(a - b) / (std::nextafter(std::fabs(b), INFINITY) - std::fabs(b));
}
}  // namespace

TEST(Philox, DeterministicLogIsWithinTwoUlpOfTheLibrary) {
  double worst = 0.0, worst_at = 0.0;
  auto check = [&](double u) {
    const double e =
        ulps_between(math::det_log(u), static_cast<double>(std::log(static_cast<long double>(u))));
    if (e > worst) worst = e, worst_at = u;
  };
  for (uint64_t i = 0; i < 200000; ++i) {  // u1 of normal_double: (k + 1) 2^-53, k of 53 random bits
    const math::Philox4 r = math::philox_draw(7, 0, i);
    const uint64_t k = (static_cast<uint64_t>(r.v[0]) << 32 | r.v[1]) >> (11 + (i % 50));  // every binade
    check((static_cast<double>(k) + 1.0) * 1.1102230246251565e-16);
  }
  for (double u :
       {1.0, 0.5, 0.70710678118654752440, 0.7071067811865476, 1.1102230246251565e-16, 1e-300, 0.999999999})
    check(u);
  EXPECT_LE(worst, 2.0) << "det_log is " << worst << " ulp off at " << worst_at;
  EXPECT_EQ(math::det_log(1.0), 0.0);
}

TEST(Philox, DeterministicCosIsWithinTwoUlpOfTheLibrary) {
  constexpr long double two_pi = 6.283185307179586476925286766559005768L;
  double worst = 0.0, worst_at = 0.0;
  for (uint64_t i = 0; i < 200000; ++i) {  // u2 of normal_double: k 2^-53
    const math::Philox4 r = math::philox_draw(8, 0, i);
    const double t =
        static_cast<double>((static_cast<uint64_t>(r.v[2]) << 32 | r.v[3]) >> 11) * 1.1102230246251565e-16;
    const double want = static_cast<double>(std::cos(two_pi * static_cast<long double>(t)));
    // near cos's zeros (t ~ 1/4, 3/4) ulps of a tiny result say little: count an absolute 2^-53 there
    const double e = std::min(ulps_between(math::det_cos_2pi(t), want),
                              std::fabs(math::det_cos_2pi(t) - want) / 1.1102230246251565e-16);
    if (e > worst) worst = e, worst_at = t;
  }
  EXPECT_LE(worst, 2.0) << "det_cos_2pi is " << worst << " ulp off at " << worst_at;
  EXPECT_EQ(math::det_cos_2pi(0.0), 1.0);
  EXPECT_EQ(math::det_cos_2pi(0.5), -1.0);
  EXPECT_EQ(math::det_cos_2pi(0.25), 0.0);
}

TEST(Philox, TransformsRoundEveryStepSeparately) {
  // from + (to - from) u and start + i step with two roundings each (no FMA): the same values
  // as separate statements through volatile temporaries
  for (uint64_t i = 0; i < 1000; ++i) {
    const math::Philox4 r = math::philox_draw(9, 1, i);
    const double u = math::uniform_double(r), from = -3.25 + 1e-3 * static_cast<double>(i), to = 7.5;
    volatile double span = to - from;
    volatile double prod = span * u;
    EXPECT_EQ(math::uniform_from_to(from, to, u), from + prod);
    volatile float fprod = 10.75f * math::uniform_float(r);
    EXPECT_EQ(math::uniform_from_span(-3.25f, 10.75f, math::uniform_float(r)), -3.25f + fprod);
    volatile double step_i = static_cast<double>(i) * 0.1;
    EXPECT_EQ(math::arange_at(-2.0, 0.1, static_cast<int64_t>(i)), -2.0 + step_i);
    volatile double z = math::normal_double(r);
    volatile double sdz = 1.5 * z;
    EXPECT_EQ(math::normal_mean_sd(0.25, 1.5, z), 0.25 + sdz);
  }
}

// ---- seeding and state -------------------------------------------------------------------------

TEST(Rng, ManualSeedReproducesEveryRandomFactory) {
  auto draw_all = [] {
    std::vector<std::vector<uint32_t>> r;
    r.push_back(bits(rand({257})));
    r.push_back(bits(randn({3, 5})));
    r.push_back(bits(rand({4}, kFloat64).to(kFloat32)));
    r.push_back(bits(randint(-10, 10, {100}).to(kFloat32)));
    r.push_back(bits(randperm(50).to(kFloat32)));
    Tensor t = empty({7});
    t.normal_(1, 2);
    r.push_back(bits(t));
    t.uniform_(-3, 3);
    r.push_back(bits(t));
    return r;
  };
  manual_seed(42);
  const auto a = draw_all();
  manual_seed(42);
  const auto b = draw_all();
  EXPECT_EQ(a, b);
  manual_seed(43);
  const auto c = draw_all();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NE(a[i], c[i]) << "factory " << i << " ignores the seed";
  // consecutive draws differ
  manual_seed(42);
  EXPECT_NE(bits(rand({16})), bits(rand({16})));
}

TEST(Rng, SeedsDifferingInTheHighWordGiveDifferentDraws) {
  manual_seed(1);
  const auto a = bits(rand({32}));
  manual_seed(1 + (uint64_t{1} << 32));
  const auto b = bits(rand({32}));
  EXPECT_NE(a, b);
}

TEST(Rng, StateRoundTripReproducesTheNextDraws) {
  manual_seed(1234);
  (void)rand({10});
  const GeneratorState s = get_rng_state();
  EXPECT_EQ(s.seed, 1234u);
  EXPECT_EQ(s.offset, 1u);  // one random op so far
  const auto a = bits(randn({100}));
  const auto a2 = bits(rand({5}));
  EXPECT_EQ(get_rng_state().offset, 3u);
  set_rng_state(s);
  EXPECT_EQ(bits(randn({100})), a);
  EXPECT_EQ(bits(rand({5})), a2);
  // manual_seed resets the counter
  manual_seed(1234);
  EXPECT_EQ(get_rng_state().offset, 0u);
  // a state can be carried to another seed's stream and back
  set_rng_state({99, 7});
  const auto c = bits(rand({8}));
  manual_seed(99);
  for (int i = 0; i < 7; ++i) (void)rand({1});
  EXPECT_EQ(bits(rand({8})), c);
}

TEST(Rng, ValuesDoNotDependOnShapeOrOtherDraws) {
  // element i of a draw depends only on (seed, offset, i): the same draw in another shape
  // holds the same values in row-major order
  manual_seed(5);
  const auto flat = bits(rand({24}));
  manual_seed(5);
  EXPECT_EQ(bits(rand({2, 3, 4})), flat);
  // and a longer draw starts with the shorter one
  manual_seed(5);
  const auto longer = bits(rand({100}));
  EXPECT_TRUE(std::equal(flat.begin(), flat.end(), longer.begin()));
}

// ---- ranges ------------------------------------------------------------------------------------

TEST(Rng, RandIsInTheUnitInterval) {
  manual_seed(0);
  for (ScalarType t : {kFloat32, kFloat64}) {
    const D v = rand({100000}, t).to_vector<double>();
    EXPECT_GE(*std::min_element(v.begin(), v.end()), 0.0) << dtype_name(t);
    EXPECT_LT(*std::max_element(v.begin(), v.end()), 1.0) << dtype_name(t);
  }
  Tensor u = empty({100000}, kFloat64);
  u.uniform_(-2, 5);
  const D v = u.to_vector<double>();
  EXPECT_GE(*std::min_element(v.begin(), v.end()), -2.0);
  EXPECT_LT(*std::max_element(v.begin(), v.end()), 5.0);
  EXPECT_EQ(rand({2, 3}).dtype(), kFloat32);
  EXPECT_EQ(rand({2, 3}).sizes(), (Shape{2, 3}));
  EXPECT_EQ(rand({0}).numel(), 0);
}

TEST(Rng, RandInSixteenBitTypesStaysBelowOne) {
  manual_seed(0);
  for (ScalarType t : {kFloat16, kBFloat16}) {
    const D v = rand({100000}, t).to_vector<double>();
    EXPECT_GE(*std::min_element(v.begin(), v.end()), 0.0) << dtype_name(t);
    EXPECT_LT(*std::max_element(v.begin(), v.end()), 1.0) << dtype_name(t);
  }
}

TEST(Rng, RandintIsInItsHalfOpenRange) {
  manual_seed(0);
  const L v = randint(-3, 4, {100000}).to_vector<int64_t>();
  EXPECT_EQ(*std::min_element(v.begin(), v.end()), -3);
  EXPECT_EQ(*std::max_element(v.begin(), v.end()), 3);
  // every value appears about equally often
  std::vector<int64_t> count(7, 0);
  for (int64_t x : v) ++count[static_cast<std::size_t>(x + 3)];
  for (int64_t c : count) EXPECT_NEAR(static_cast<double>(c), 100000.0 / 7, 600.0);
  EXPECT_EQ(randint(10, {3}).dtype(), kInt64);
  const Tensor i32 = randint(0, 5, {1000}, kInt32);
  EXPECT_EQ(i32.dtype(), kInt32);
  const std::vector<int32_t> w = i32.to_vector<int32_t>();
  EXPECT_GE(*std::min_element(w.begin(), w.end()), 0);
  EXPECT_LE(*std::max_element(w.begin(), w.end()), 4);
  // a float dtype holds integer values
  const D f = randint(0, 3, {100}, kFloat64).to_vector<double>();
  for (double x : f) EXPECT_EQ(x, std::floor(x));
  // a range of one value
  EXPECT_EQ(randint(7, 8, {5}).to_vector<int64_t>(), L(5, 7));
  // a huge range
  const L big = randint(0, int64_t{1} << 62, {1000}).to_vector<int64_t>();
  EXPECT_GT(*std::max_element(big.begin(), big.end()), int64_t{1} << 60);
}

TEST(Rng, RandpermIsAPermutation) {
  manual_seed(0);
  for (int64_t n : {0, 1, 2, 10, 1000}) {
    const Tensor p = randperm(n);
    EXPECT_EQ(p.dtype(), kInt64);
    EXPECT_EQ(p.sizes(), (Shape{n}));
    L v = p.to_vector<int64_t>();
    std::sort(v.begin(), v.end());
    L want(static_cast<std::size_t>(n));
    std::iota(want.begin(), want.end(), int64_t{0});
    EXPECT_EQ(v, want) << "n = " << n;
  }
  // not the identity, and a different order for another draw
  const L a = randperm(100).to_vector<int64_t>(), b = randperm(100).to_vector<int64_t>();
  L id(100);
  std::iota(id.begin(), id.end(), int64_t{0});
  EXPECT_NE(a, id);
  EXPECT_NE(a, b);
}

// ---- distributions -----------------------------------------------------------------------------

TEST(Rng, StatisticsOfOneHundredThousandDraws) {
  manual_seed(2024);
  const D n = randn({100000}, kFloat64).to_vector<double>();
  EXPECT_NEAR(mean_of(n), 0.0, 0.02);
  EXPECT_NEAR(std_of(n), 1.0, 0.02);
  // tails: about 4.55% beyond 2 sigma
  const double beyond2 =
      static_cast<double>(std::count_if(n.begin(), n.end(), [](double x) { return std::fabs(x) > 2; }));
  EXPECT_NEAR(beyond2 / 1e5, 0.0455, 0.005);

  const D u = rand({100000}, kFloat64).to_vector<double>();
  EXPECT_NEAR(mean_of(u), 0.5, 0.01);
  EXPECT_NEAR(std_of(u), std::sqrt(1.0 / 12.0), 0.01);
  // each tenth of [0, 1) gets about a tenth of the draws
  std::vector<int> decile(10, 0);
  for (double x : u) ++decile[static_cast<std::size_t>(x * 10)];
  for (int c : decile) EXPECT_NEAR(c, 10000, 500);

  Tensor g = empty({100000});
  g.normal_(3, 2);
  const D gv = g.to_vector<double>();
  EXPECT_NEAR(mean_of(gv), 3.0, 0.04);
  EXPECT_NEAR(std_of(gv), 2.0, 0.04);

  // the tensor-level statistics agree
  const Tensor r = randn({100000});
  EXPECT_NEAR(r.mean().item<double>(), 0.0, 0.02);
  EXPECT_NEAR(r.std().item<double>(), 1.0, 0.02);
}

TEST(Rng, Float32NormalsAreRoundedFloat64Normals) {
  manual_seed(77);
  const Tensor d = randn({1000}, kFloat64);
  manual_seed(77);
  const Tensor f = randn({1000});
  EXPECT_EQ(bits(d.to(kFloat32)), bits(f));
}

// ---- independence from threads and layout -------------------------------------------------------

TEST(Rng, ValuesIndependentOfThreadCount) {
  const int saved = get_num_threads();
  auto draw = [] {
    manual_seed(31);
    std::vector<std::vector<uint32_t>> r;
    r.push_back(bits(rand({1000000})));
    r.push_back(bits(randn({300001})));
    r.push_back(bits(randint(0, 1000, {200000}).to(kFloat32)));
    r.push_back(bits(randperm(100000).to(kFloat32)));
    return r;
  };
  set_num_threads(1);
  const auto one = draw();
  set_num_threads(2);
  const auto two = draw();
  set_num_threads(5);
  const auto five = draw();
  set_num_threads(saved);
  EXPECT_EQ(one, two);
  EXPECT_EQ(one, five);
}

TEST(Rng, FillingANonContiguousTensorMatchesAContiguousDraw) {
  // uniform_/normal_ give element i of the draw to the i-th element in row-major order
  manual_seed(8);
  Tensor c = empty({4, 3});
  c.uniform_(-1, 1);
  manual_seed(8);
  Tensor base = empty({3, 4});
  Tensor t = base.t();  // [4, 3], strides [1, 4]
  ASSERT_FALSE(t.is_contiguous());
  t.uniform_(-1, 1);
  EXPECT_EQ(bits(t), bits(c));
  EXPECT_EQ(bits(base), bits(c.t()));  // the base holds the draw transposed back

  manual_seed(9);
  Tensor n = empty({5, 6}, kFloat64);
  n.normal_();
  manual_seed(9);
  Tensor big = zeros({5, 12}, kFloat64);
  Tensor strided = big.slice(1, 0, 12, 2);  // every other column
  strided.normal_();
  EXPECT_EQ(strided.to_vector<double>(), n.to_vector<double>());
  // the columns in between were not touched
  EXPECT_EQ(big.slice(1, 1, 12, 2).to_vector<double>(), D(30, 0.0));
}

TEST(Rng, LikeFactories) {
  const Tensor x = zeros({2, 3}, kFloat64);
  manual_seed(3);
  const Tensor r = rand_like(x);
  EXPECT_EQ(r.sizes(), (Shape{2, 3}));
  EXPECT_EQ(r.dtype(), kFloat64);
  manual_seed(3);
  EXPECT_EQ(r.to_vector<double>(), rand({2, 3}, kFloat64).to_vector<double>());
  const Tensor n = randn_like(zeros({4}, kFloat16));
  EXPECT_EQ(n.dtype(), kFloat16);
  EXPECT_EQ(n.sizes(), (Shape{4}));
}

}  // namespace
}  // namespace nabla
