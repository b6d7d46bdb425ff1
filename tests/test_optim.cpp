// nabla::optim: SGD, Adam, AdamW, RMSprop, Adagrad and Adadelta step by step against PyTorch,
// their defaults, parameter groups, state dicts (an exact resume) and their errors, one fused
// kernel call per group and step; LBFGS's trajectories (fixed step and strong-Wolfe line search),
// state dict and errors; step(closure); the learning-rate schedulers against PyTorch's lr
// sequences; the regularisation helpers; and a small end-to-end training run (XOR).
//
// Expected numbers marked "PyTorch" come from tests/reference/make_nn_reference.py and
// tests/reference/make_optim_reference.py (Adadelta, LBFGS: reference/optim_reference.inc) run
// with PyTorch 1.13.1 (Debian python3-torch 1.13.1+dfsg-4, CPU, float64); the tests need no
// PyTorch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dispatch/dispatch.h"
#include "nabla/nabla.h"
#include "test_util.h"

namespace nabla {
namespace {

using test_util::all_close;

namespace F = nn::functional;
using D = std::vector<double>;

// Bit patterns of float32 values: equality means bitwise equality.
std::vector<uint32_t> bits(const Tensor& t) {
  const std::vector<float> v = t.to_vector<float>();
  std::vector<uint32_t> b(v.size());
  std::memcpy(b.data(), v.data(), v.size() * sizeof(float));
  return b;
}

// ============================================================================================
// optimizers against PyTorch on a quadratic
// ============================================================================================

struct OptRef {
  const char* name;
  std::vector<D> steps;  // the parameter (row-major [2, 2]) after steps 1..5
};

// PyTorch 1.13.1, tests/reference/make_nn_reference.py, section "optimizers".
const std::vector<OptRef>& optimizer_reference() {
  static const std::vector<OptRef> refs = {
      // clang-format off
    // p0 = {0.5, -1.2, 2.0, 0.1}  target = {1.0, 0.5, -0.5, 0.3}  c = {1.0, 2.0, 0.5, 3.0} ; loss = sum((p - target)^2 * c)
    {"sgd", {{0.6, -0.5199999999999999, 1.75, 0.22}, {0.6799999999999999, -0.11199999999999988, 1.525, 0.268}, {0.744, 0.13280000000000008, 1.3225, 0.2872}, {0.7952, 0.27968000000000004, 1.14025, 0.29488}, {0.83616, 0.367808, 0.976225, 0.297952}}},
    {"sgd_momentum", {{0.6, -0.5199999999999999, 1.75, 0.22}, {0.77, 0.5000000000000001, 1.3, 0.376}, {0.9690000000000001, 1.4180000000000001, 0.7150000000000001, 0.4708}, {1.1543, 1.8770000000000002, 0.06700000000000009, 0.45364}, {1.29021, 1.7393, -0.5729, 0.346012}}},
    {"sgd_nesterov", {{0.69, 0.09200000000000011, 1.525, 0.328}, {0.8887999999999999, 0.9528800000000002, 0.9377499999999999, 0.39328}, {1.054176, 1.2366032, 0.31830249999999977, 0.3608128}, {1.16241152, 1.095172448, -0.2652802250000002, 0.312636928}, {1.2078587904, 0.7807308627199999, -0.7614542097500001, 0.28771145727999997}}},
    {"sgd_dampening", {{0.6, -0.5199999999999999, 1.75, 0.22}, {0.73, 0.29600000000000015, 1.4125, 0.35200000000000004}, {0.874, 1.0712000000000002, 1.013125, 0.45520000000000005}, {1.0162, 1.65464, 0.57803125, 0.5015200000000001}, {1.14256, 1.948808, 0.1325453124999999, 0.48275200000000007}}},
    {"sgd_weight_decay", {{0.595, -0.5079999999999999, 1.73, 0.219}, {0.67005, -0.09971999999999989, 1.4897, 0.26541}, {0.7293395, 0.14116520000000007, 1.275833, 0.2835099}, {0.776178205, 0.28328746800000004, 1.08549137, 0.290568861}, {0.81318078195, 0.36713960612, 0.9160873193, 0.29332185579}}},
    {"sgd_momentum_weight_decay", {{0.595, -0.5079999999999999, 1.73, 0.219}, {0.71755, 0.2462800000000001, 1.3547, 0.32491}, {0.8281395, 0.7224452000000001, 0.968033, 0.3596699}, {0.909524955, 0.8643252680000001, 0.61821587, 0.337651211}, {0.9592174419499999, 0.78089194212, 0.3253035593, 0.30067462779}}},
    {"sgd_maximize", {{0.49, -1.268, 2.025, 0.08800000000000001}, {0.4748, -1.37272, 2.06275, 0.06928000000000001}, {0.456696, -1.4999888, 2.1072525, 0.04607680000000001}, {0.43677792, -1.643622752, 2.155576275, 0.01923980800000001}, {0.4155544384, -1.8011846380799998, 2.2062939252500002, -0.011024299519999984}}},
    {"adam", {{0.599999999, -1.100000000147059, 1.9000000004, 0.19999999916666666}, {0.6988125783408332, -1.0002037873955076, 1.8001271887843058, 0.2932179621870026}, {0.7951287474397004, -0.9007664880265758, 1.7004739344730824, 0.3671809235508967}, {0.8870846018099783, -0.8018588736848891, 1.6011384101918642, 0.40846455741402893}, {0.9721855486293904, -0.7036682315077031, 1.502224650306916, 0.417095023333174}}},
    {"adam_weight_decay", {{0.5999999989473684, -1.1000000001445087, 1.9000000003703703, 0.19999999915966388}, {0.6985938182267247, -1.00020564744405, 1.8001299929301469, 0.29284240541914713}, {0.7941484916460491, -0.9007736541064917, 1.7004845542360025, 0.3652658192447356}, {0.8842707018889633, -0.8018766775731988, 1.601164338740589, 0.4038014143312715}, {0.9657465042376978, -0.7037042219304266, 1.502276152296981, 0.4096898554116418}}},
    {"adam_amsgrad", {{0.799999997, -0.9000000004411765, 1.7000000012, 0.39999999750000004}, {1.0513949949985582, -0.5929406373304755, 1.395083868929081, 0.4773523067946231}, {1.2076812824569212, -0.2969252075303339, 1.0889324468054635, 0.4057702436141901}, {1.272797169784663, -0.028029268829298015, 0.7969320331104, 0.2946015840381773}, {1.2671907377921983, 0.20774271724390472, 0.5257283813994322, 0.21174486134577986}}},
    {"adam_no_amsgrad", {{0.799999997, -0.9000000004411765, 1.7000000012, 0.39999999750000004}, {1.1094458462834818, -0.5929406373304755, 1.395083868929081, 0.4893187512906767}, {1.3360170488905767, -0.2720203164060007, 1.081126250653532, 0.4131233346358165}, {1.3634727264846216, 0.07291280846280362, 0.7528291603779615, 0.27948637539152976}, {1.3013364543958457, 0.4578374459482642, 0.40266610621203125, 0.15082575672785384}}},
    {"adam_maximize", {{0.400000001, -1.299999999852941, 2.0999999996, 8.3333333289470346e-10}, {0.29993869044499005, -1.4001080933016732, 2.200082979400339, -0.09908072499126563}, {0.19970522993945777, -1.5003908634587986, 2.3003007309939925, -0.19782154308017752}, {0.09918137764484586, -1.6009107779221001, 2.4007024136370476, -0.29664950136105406}, {-0.0017456001418257316, -1.7017262418920969, 2.501334577387036, -0.39586317308187957}}},
    {"adamw", {{0.5994999990000001, -1.0988000001470586, 1.8980000004, 0.19989999916666668}, {0.6977229495373474, -0.9979080797901994, 1.7962322180575918, 0.29293268540949435}, {0.7933786616355298, -0.8974813339821964, 1.6947909642143812, 0.3666922303229952}, {0.8846379007995668, -0.7976924991291552, 1.5937763705502426, 0.40783088019649544}, {0.9690609071270806, -0.6987307914003822, 1.4932944350896324, 0.4163577784150467}}},
    {"adamw_weight_decay", {{0.574999999, -1.0400000001470588, 1.8000000003999999, 0.19499999916666666}, {0.6455015556420567, -0.8883788480047721, 1.610303727150225, 0.27917396902167135}, {0.711097282593899, -0.7449969556755472, 1.4306120740969914, 0.3433815716005246}, {0.7712995404465833, -0.609740709844065, 1.2606498077202066, 0.3781686107200683}, {0.8255605061308904, -0.4825193547392526, 1.1001629707619862, 0.3833323624220118}}},
    {"rmsprop", {{0.5999999900000009, -1.1000000014705882, 1.9000000039999998, 0.19999999166666732}, {0.6626608220425075, -1.0312810904086303, 1.8305659200924167, 0.24490131680053231}, {0.7095667736789566, -0.976139466882988, 1.7744680349103166, 0.26903125616038703}, {0.7471744707489462, -0.929018561773764, 1.7262604279929912, 0.28253715412242525}, {0.7784289999479106, -0.887343174807944, 1.6834111112659491, 0.2901689866047693}}},
    {"rmsprop_momentum", {{0.5999999900000009, -1.1000000014705882, 1.9000000039999998, 0.19999999166666735}, {0.7526608130425083, -0.9412810917321598, 1.7405659236924167, 0.33490130930053297}, {0.9263426744098918, -0.7456089828394149, 1.5424892266140007, 0.44075418963587915}, {1.0934535599119055, -0.5278010040146739, 1.3194909380417412, 0.4826807811085919}, {1.230213929422134, -0.2990890786140897, 1.0816162238557527, 0.4633009152974724}}},
    {"rmsprop_centered", {{0.6005037714249121, -1.0994962199595215, 1.8994962225144827, 0.20050377310841344}, {0.6637411649191193, -1.0300953691203827, 1.8293687093200686, 0.24562946250409978}, {0.7112398926284617, -0.9741421488927317, 1.772435552206245, 0.2697659346564538}, {0.7494246120911388, -0.9261052637384888, 1.7232754488621569, 0.2831611432516766}, {0.7812196019138941, -0.8834258500381779, 1.6793721176272123, 0.290646622919716}}},
    {"rmsprop_centered_momentum_wd", {{0.5333333321637427, -1.1666666668272319, 1.9666666670781894, 0.13333333239962655}, {0.5745428533768583, -1.1247518812824768, 1.924675248195336, 0.17309863732025982}, {0.6156143417304196, -1.0817981531307668, 1.8815231858186003, 0.2100387821295852}, {0.6540961954592304, -1.0400093821395147, 1.8393971274373093, 0.24082857423169168}, {0.6894892025958637, -0.9997410507476835, 1.798647848878665, 0.2645031655676664}}},
    {"adagrad", {{0.59999999999, -1.1000000000014705, 1.900000000004, 0.19999999999166668}, {0.6624695047415167, -1.031463530101672, 1.830746817186967, 0.24472135954131055}, {0.70910082320375, -0.9766120944981238, 1.7749393620400518, 0.2687202527879124}, {0.7463910183696282, -0.92986083214189, 1.7271044126172344, 0.2821766584125591}, {0.7773082157166666, -0.8886191155195158, 1.684695086769505, 0.289821739148179}}},
    {"adagrad_lr_decay", {{0.59999999999, -1.1000000000014705, 1.900000000004, 0.19999999999166668}, {0.6567904588550151, -1.0376941182743809, 1.8370425610794245, 0.24065578140043384}, {0.6961587333651594, -0.9918548136935377, 1.7904499607271624, 0.26203205860816076}, {0.7258390295894924, -0.9556377319472535, 1.7534847584214721, 0.27448974216052163}, {0.7493244751764465, -0.9258198996203838, 1.72295421877657, 0.2822164493899021}}},
    {"adagrad_initial_accumulator", {{0.5802180628681687, -1.100518015810094, 1.9032624608769635, 0.18596820838032838}, {0.6352984836846047, -1.0321750688648412, 1.8351906788577006, 0.2293028062003502}, {0.6777815539261307, -0.9774397878253384, 1.7800445904415236, 0.2545787643345922}, {0.7123099719773078, -0.930773294567093, 1.732653863909434, 0.2699571776170755}, {0.7412087633634071, -0.8896002983831377, 1.690574749873901, 0.2794535438689452}}},
      // clang-format on
  };
  return refs;
}

const D kP0{0.5, -1.2, 2.0, 0.1}, kTarget{1.0, 0.5, -0.5, 0.3}, kC{1.0, 2.0, 0.5, 3.0};

std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& name, std::vector<Tensor> params) {
  using namespace optim;  // NOLINT
  if (name == "sgd") return std::make_unique<SGD>(params, SGDOptions{.lr = 0.1});
  if (name == "sgd_momentum") return std::make_unique<SGD>(params, SGDOptions{.lr = 0.1, .momentum = 0.9});
  if (name == "sgd_nesterov")
    return std::make_unique<SGD>(params, SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true});
  if (name == "sgd_dampening")
    return std::make_unique<SGD>(params, SGDOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0.5});
  if (name == "sgd_weight_decay")
    return std::make_unique<SGD>(params, SGDOptions{.lr = 0.1, .weight_decay = 0.1});
  if (name == "sgd_momentum_weight_decay") {
    return std::make_unique<SGD>(params, SGDOptions{.lr = 0.1, .momentum = 0.5, .weight_decay = 0.1});
  }
  if (name == "sgd_maximize")
    return std::make_unique<SGD>(params, SGDOptions{.lr = 0.01, .momentum = 0.5, .maximize = true});
  if (name == "adam") return std::make_unique<Adam>(params, AdamOptions{.lr = 0.1});
  if (name == "adam_weight_decay")
    return std::make_unique<Adam>(params, AdamOptions{.lr = 0.1, .weight_decay = 0.1});
  if (name == "adam_amsgrad")
    return std::make_unique<Adam>(params, AdamOptions{.lr = 0.3, .beta2 = 0.5, .amsgrad = true});
  if (name == "adam_no_amsgrad") return std::make_unique<Adam>(params, AdamOptions{.lr = 0.3, .beta2 = 0.5});
  if (name == "adam_maximize")
    return std::make_unique<Adam>(params, AdamOptions{.lr = 0.1, .maximize = true});
  if (name == "adamw" || name == "adamw_weight_decay") {
    AdamWOptions o;
    o.lr = 0.1;
    if (name == "adamw_weight_decay") {
      o.weight_decay = 0.5;
      o.amsgrad = true;
    }
    return std::make_unique<AdamW>(params, o);
  }
  if (name == "rmsprop") return std::make_unique<RMSprop>(params, RMSpropOptions{.lr = 0.01});
  if (name == "rmsprop_momentum")
    return std::make_unique<RMSprop>(params, RMSpropOptions{.lr = 0.01, .momentum = 0.9});
  if (name == "rmsprop_centered")
    return std::make_unique<RMSprop>(params, RMSpropOptions{.lr = 0.01, .centered = true});
  if (name == "rmsprop_centered_momentum_wd") {
    return std::make_unique<RMSprop>(
        params,
        RMSpropOptions{.lr = 0.01, .alpha = 0.9, .weight_decay = 0.1, .momentum = 0.5, .centered = true});
  }
  if (name == "adagrad") return std::make_unique<Adagrad>(params, AdagradOptions{.lr = 0.1});
  if (name == "adagrad_lr_decay")
    return std::make_unique<Adagrad>(params, AdagradOptions{.lr = 0.1, .lr_decay = 0.1});
  if (name == "adagrad_initial_accumulator") {
    return std::make_unique<Adagrad>(
        params, AdagradOptions{.lr = 0.1, .weight_decay = 0.1, .initial_accumulator_value = 0.5});
  }
  if (name == "adadelta") return std::make_unique<Adadelta>(params, AdadeltaOptions{});
  if (name == "adadelta_lr_rho_weight_decay")
    return std::make_unique<Adadelta>(params, AdadeltaOptions{.lr = 0.5, .rho = 0.8, .weight_decay = 0.1});
  if (name == "adadelta_maximize_eps")
    return std::make_unique<Adadelta>(params, AdadeltaOptions{.eps = 1e-4, .maximize = true});
  ADD_FAILURE() << "unknown optimizer case " << name;
  return nullptr;
}

Tensor quadratic_loss(const Tensor& p) {
  const Tensor d = p - from_vector<double>(kTarget, {2, 2}).to(p.dtype());
  return (d * d * from_vector<double>(kC, {2, 2}).to(p.dtype())).sum();
}

TEST(Optimizers, StepByStepMatchPyTorch) {
  int checked = 0;
  for (const OptRef& ref : optimizer_reference()) {
    SCOPED_TRACE(ref.name);
    Tensor p = from_vector<double>(kP0, {2, 2}).requires_grad_(true);
    auto opt = make_optimizer(ref.name, {p});
    ASSERT_NE(opt, nullptr);
    for (std::size_t s = 0; s < ref.steps.size(); ++s) {
      opt->zero_grad();
      quadratic_loss(p).backward();
      opt->step();
      EXPECT_TRUE(all_close(p.to_vector<double>(), ref.steps[s], 5e-10, 5e-10))
          << "after step " + std::to_string(s + 1);
    }
    ++checked;
  }
  EXPECT_EQ(checked, 21);
}

TEST(Optimizers, Float32FollowsFloat64) {
  for (const OptRef& ref : optimizer_reference()) {
    SCOPED_TRACE(ref.name);
    Tensor p = from_vector<double>(kP0, {2, 2}).to(kFloat32).requires_grad_(true);
    auto opt = make_optimizer(ref.name, {p});
    for (int s = 0; s < 5; ++s) {
      opt->zero_grad();
      quadratic_loss(p).backward();
      opt->step();
    }
    EXPECT_EQ(p.dtype(), kFloat32);
    EXPECT_TRUE(all_close(p.to_vector<double>(), ref.steps.back(), 5e-6, 5e-6)) << "after 5 steps";
  }
}

TEST(Optimizers, DefaultsAreTorchs) {
  Tensor p = zeros({1}).requires_grad_(true);
  using M = std::map<std::string, double>;
  // PyTorch 1.13 defaults (betas split into beta1 / beta2; flags as 0 / 1), as printed by
  // make_nn_reference.py:
  //   Adam {'lr': 0.001, 'betas': (0.9, 0.999), 'eps': 1e-08, 'weight_decay': 0, 'amsgrad': False,
  //   'maximize': False} AdamW {'lr': 0.001, 'betas': (0.9, 0.999), 'eps': 1e-08, 'weight_decay': 0.01,
  //   'amsgrad': False, ...} RMSprop {'lr': 0.01, 'momentum': 0, 'alpha': 0.99, 'eps': 1e-08, 'centered':
  //   False, 'weight_decay': 0, ...} Adagrad {'lr': 0.01, 'lr_decay': 0, 'eps': 1e-10, 'weight_decay': 0,
  //   'initial_accumulator_value': 0, ...} SGD {'momentum': 0, 'dampening': 0, 'weight_decay': 0, 'nesterov':
  //   False, 'maximize': False, ...}
  // SGD has no default lr in PyTorch 1.13 (it is required); nabla uses 1e-3, PyTorch's default
  // since 2.x.
  EXPECT_EQ(optim::SGD({p}).defaults(), (M{{"lr", 1e-3},
                                           {"momentum", 0},
                                           {"dampening", 0},
                                           {"weight_decay", 0},
                                           {"nesterov", 0},
                                           {"maximize", 0}}));
  EXPECT_EQ(optim::Adam({p}).defaults(), (M{{"lr", 1e-3},
                                            {"beta1", 0.9},
                                            {"beta2", 0.999},
                                            {"eps", 1e-8},
                                            {"weight_decay", 0},
                                            {"amsgrad", 0},
                                            {"maximize", 0}}));
  EXPECT_EQ(optim::AdamW({p}).defaults(), (M{{"lr", 1e-3},
                                             {"beta1", 0.9},
                                             {"beta2", 0.999},
                                             {"eps", 1e-8},
                                             {"weight_decay", 1e-2},
                                             {"amsgrad", 0},
                                             {"maximize", 0}}));
  EXPECT_EQ(optim::RMSprop({p}).defaults(), (M{{"lr", 1e-2},
                                               {"alpha", 0.99},
                                               {"eps", 1e-8},
                                               {"weight_decay", 0},
                                               {"momentum", 0},
                                               {"centered", 0},
                                               {"maximize", 0}}));
  EXPECT_EQ(optim::Adagrad({p}).defaults(), (M{{"lr", 1e-2},
                                               {"lr_decay", 0},
                                               {"weight_decay", 0},
                                               {"initial_accumulator_value", 0},
                                               {"eps", 1e-10},
                                               {"maximize", 0}}));
  EXPECT_EQ(optim::Adam({p}).name(), "Adam");
  EXPECT_EQ(optim::AdamW({p}).name(), "AdamW");
  EXPECT_EQ(optim::Adam({p}).get_lr(), 1e-3);
}

TEST(Optimizers, ParameterGroupsHaveTheirOwnOptions) {
  Tensor pa = from_vector<double>({0.5, -1.2}, {2}).requires_grad_(true);
  Tensor pb = from_vector<double>({2.0, 0.1}, {2}).requires_grad_(true);
  optim::SGD opt({optim::ParamGroup{{pa}, {}}, optim::ParamGroup{{pb}, {{"lr", 0.01}}}},
                 optim::SGDOptions{.lr = 0.1, .momentum = 0.9});
  EXPECT_EQ(opt.get_lr(0), 0.1);
  EXPECT_EQ(opt.get_lr(1), 0.01);
  EXPECT_EQ(opt.param_groups()[1].options.at("momentum"), 0.9);  // the rest from the defaults
  const Tensor ta = from_vector<double>({1.0, 0.5}, {2}), tb = from_vector<double>({-0.5, 0.3}, {2});
  const Tensor ca = from_vector<double>({1.0, 2.0}, {2}), cb = from_vector<double>({0.5, 3.0}, {2});
  for (int s = 0; s < 3; ++s) {
    opt.zero_grad();
    (((pa - ta) * (pa - ta) * ca).sum() + ((pb - tb) * (pb - tb) * cb).sum()).backward();
    opt.step();
  }
  // PyTorch 1.13, the same two groups
  EXPECT_TRUE(all_close(pa.to_vector<double>(), {0.9690000000000001, 1.4180000000000001}, 5e-13, 5e-13))
      << "pa";
  EXPECT_TRUE(all_close(pb.to_vector<double>(), {1.8609475, 0.1639072}, 5e-13, 5e-13)) << "pb";

  opt.set_lr(0.5);
  EXPECT_EQ(opt.get_lr(0), 0.5);
  EXPECT_EQ(opt.get_lr(1), 0.5);
  opt.set_lr(1, 0.25);
  EXPECT_EQ(opt.get_lr(1), 0.25);
  EXPECT_NABLA_ERROR(opt.get_lr(2), "SGD", "no parameter group 2");
  // add_param_group takes the defaults too
  Tensor pc = zeros({3}, kFloat64).requires_grad_(true);
  opt.add_param_group({{pc}, {{"momentum", 0.0}}});
  EXPECT_EQ(opt.get_lr(2), 0.1);
  EXPECT_NABLA_ERROR(opt.add_param_group({{pa}, {}}), "SGD", "more than one parameter group");
}

TEST(Optimizers, ParametersWithoutGradientsAreSkipped) {
  Tensor a = ones({2}).requires_grad_(true), b = ones({2}).requires_grad_(true);
  optim::Adam opt({a, b}, optim::AdamOptions{.lr = 0.1});
  (a * 2.0).sum().backward();
  opt.step();
  EXPECT_NE(a.to_vector<float>(), (std::vector<float>{1, 1}));
  EXPECT_EQ(b.to_vector<float>(), (std::vector<float>{1, 1}));
  const StateDict sd = opt.state_dict();
  EXPECT_TRUE(sd.contains("state.0.exp_avg"));
  EXPECT_FALSE(sd.contains("state.1.exp_avg"));
  EXPECT_EQ(sd.at("state.0.step").item<int64_t>(), 1);
}

// A parameter that gets its first gradient later than the others of its group has its own step
// count (Adam's bias correction, Adagrad's lr decay) and its own first momentum step (SGD): it
// must follow exactly the path it would follow alone.
TEST(Optimizers, ParametersJoiningLaterFollowTheirOwnSchedule) {
  for (const char* name : {"sgd_momentum", "sgd_dampening", "sgd_nesterov", "adam_amsgrad", "adamw",
                           "rmsprop_momentum", "adagrad_lr_decay"}) {
    SCOPED_TRACE(name);
    Tensor a = from_vector<double>(kP0, {2, 2}).requires_grad_(true);
    Tensor b = from_vector<double>(kP0, {2, 2}).requires_grad_(true);
    auto both = make_optimizer(name, {a, b});
    Tensor a_alone = from_vector<double>(kP0, {2, 2}).requires_grad_(true);
    Tensor b_alone = from_vector<double>(kP0, {2, 2}).requires_grad_(true);
    auto opt_a = make_optimizer(name, {a_alone});
    auto opt_b = make_optimizer(name, {b_alone});
    for (int s = 0; s < 4; ++s) {
      both->zero_grad();
      opt_a->zero_grad();
      opt_b->zero_grad();
      quadratic_loss(a).backward();
      quadratic_loss(a_alone).backward();
      opt_a->step();
      if (s > 0) {  // b has no gradient at the first step
        quadratic_loss(b).backward();
        quadratic_loss(b_alone).backward();
        opt_b->step();
      }
      both->step();
      EXPECT_EQ(a.to_vector<double>(), a_alone.to_vector<double>()) << "step " << s;
      EXPECT_EQ(b.to_vector<double>(), b_alone.to_vector<double>()) << "step " << s;
    }
  }
}

TEST(Optimizers, ZeroGrad) {
  Tensor a = ones({2}).requires_grad_(true);
  optim::SGD opt({a});
  (a * 3.0).sum().backward();
  opt.zero_grad(/*set_to_none=*/false);
  ASSERT_TRUE(a.grad().defined());
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{0, 0}));
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
}

TEST(Optimizers, InvalidOptionsAreClearErrors) {
  Tensor p = zeros({2}).requires_grad_(true);
  EXPECT_NABLA_ERROR(optim::SGD({p}, optim::SGDOptions{.lr = -1}), "SGD", "invalid learning rate -1");
  EXPECT_NABLA_ERROR(optim::SGD({p}, optim::SGDOptions{.lr = 0.1, .nesterov = true}), "SGD", "Nesterov");
  EXPECT_NABLA_ERROR(
      optim::SGD({p}, optim::SGDOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}),
      "Nesterov");
  EXPECT_NABLA_ERROR(optim::Adam({p}, optim::AdamOptions{.beta1 = 1.0}), "Adam", "beta1");
  EXPECT_NABLA_ERROR(optim::Adam({p}, optim::AdamOptions{.eps = -1e-8}), "Adam", "epsilon");
  EXPECT_NABLA_ERROR(optim::RMSprop({p}, optim::RMSpropOptions{.momentum = -0.5}), "RMSprop", "momentum");
  EXPECT_NABLA_ERROR(optim::Adagrad({p}, optim::AdagradOptions{.lr_decay = -1}), "Adagrad", "lr_decay");
  EXPECT_NABLA_ERROR(
      optim::Adam(std::vector<optim::ParamGroup>{{{p}, {{"betas", 0.9}}}}, optim::AdamOptions{}), "Adam",
      "unknown option 'betas'");
  EXPECT_NABLA_ERROR(optim::SGD({p, p}), "SGD", "more than one parameter group");
  EXPECT_NABLA_ERROR(optim::SGD(std::vector<Tensor>{}), "SGD", "no parameters");
  EXPECT_NABLA_ERROR(optim::SGD({p * 2.0}), "SGD", "non-leaf");
  EXPECT_NABLA_ERROR(optim::SGD({zeros({2}, kInt64)}), "SGD", "floating-point", "int64");
}

// ---- state dicts -------------------------------------------------------------------------------

std::shared_ptr<nn::Sequential> small_mlp(uint64_t seed) {
  manual_seed(seed);
  return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(3, 5), std::make_shared<nn::Tanh>(), std::make_shared<nn::Linear>(5, 2)});
}

const std::vector<std::string> kRoundTripCases{
    "sgd_nesterov",       "sgd_momentum_weight_decay",    "adam_amsgrad",
    "adamw_weight_decay", "rmsprop_centered_momentum_wd", "adagrad_initial_accumulator",
    "adagrad_lr_decay",   "adadelta_lr_rho_weight_decay"};

TEST(Optimizers, StateDictRoundTripContinuesBitwise) {
  manual_seed(100);
  const Tensor x = randn({8, 3}), y = randn({8, 2});
  const int n = 3;
  for (const std::string& name : kRoundTripCases) {
    SCOPED_TRACE(name);
    auto train = [&](nn::Module& m, optim::Optimizer& opt, int steps) {
      for (int i = 0; i < steps; ++i) {
        opt.zero_grad();
        F::mse_loss(m(x), y).backward();
        opt.step();
      }
    };
    // 2n steps straight
    auto a = small_mlp(1);
    auto opt_a = make_optimizer(name, a->parameters());
    train(*a, *opt_a, 2 * n);
    // n steps, save, load into a fresh model and optimizer, n more
    auto b = small_mlp(1);
    auto opt_b = make_optimizer(name, b->parameters());
    train(*b, *opt_b, n);
    const StateDict model_state = b->state_dict(), opt_state = opt_b->state_dict();
    auto c = small_mlp(2);
    auto opt_c = make_optimizer(name, c->parameters());
    c->load_state_dict(model_state);
    opt_c->load_state_dict(opt_state);
    train(*c, *opt_c, n);
    const auto pa = a->parameters(), pc = c->parameters();
    for (std::size_t i = 0; i < pa.size(); ++i) EXPECT_EQ(bits(pc[i]), bits(pa[i])) << "parameter " << i;
    // the saved state is a snapshot: the later steps did not change it
    EXPECT_EQ(opt_state.at("state.0.step").item<int64_t>(), n);
  }
}

TEST(Optimizers, StateDictLayout) {
  auto m = small_mlp(1);
  optim::Adam opt(m->parameters(), optim::AdamOptions{.lr = 0.01, .amsgrad = true});
  m->operator()(ones({1, 3})).sum().backward();
  opt.step();
  const StateDict sd = opt.state_dict();
  EXPECT_EQ(sd.at("param_groups.0.lr").item<double>(), 0.01);
  EXPECT_EQ(sd.at("param_groups.0.amsgrad").item<double>(), 1.0);
  EXPECT_EQ(sd.at("param_groups.0.params").to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3}));
  for (int i = 0; i < 4; ++i) {
    for (const char* buf : {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}) {
      EXPECT_TRUE(sd.contains("state." + std::to_string(i) + "." + buf)) << i << " " << buf;
    }
  }
  EXPECT_EQ(sd.at("state.2.exp_avg").sizes(), (Shape{2, 5}));
}

TEST(Optimizers, LoadStateDictRejectsMismatchedStateAndChangesNothing) {
  auto m = small_mlp(1);
  const auto params = m->parameters();
  optim::Adam adam(params, optim::AdamOptions{.lr = 0.01});
  m->operator()(ones({1, 3})).sum().backward();
  adam.step();
  const StateDict adam_state = adam.state_dict();

  optim::SGD sgd(params, optim::SGDOptions{.lr = 0.1, .momentum = 0.9});
  EXPECT_NABLA_ERROR(sgd.load_state_dict(adam_state), "SGD", "load_state_dict");
  optim::Adam fewer({params[0], params[1]});
  EXPECT_NABLA_ERROR(fewer.load_state_dict(adam_state), "Adam",
                     "parameter group 0 has 4 parameters in the state but 2 here");
  optim::Adam two_groups(
      std::vector<optim::ParamGroup>{{{params[0], params[1]}, {}}, {{params[2], params[3]}, {}}},
      optim::AdamOptions{});
  EXPECT_NABLA_ERROR(two_groups.load_state_dict(adam_state), "Adam", "load_state_dict");

  // a state tensor of the wrong shape
  StateDict bad;
  for (const auto& [k, t] : adam_state) bad.insert(k, k == "state.1.exp_avg" ? zeros({4}) : t);
  optim::Adam fresh(params, optim::AdamOptions{.lr = 0.5});
  EXPECT_NABLA_ERROR(fresh.load_state_dict(bad), "Adam", "state 'state.1.exp_avg' has shape [4]", "[5]");
  // an entry that belongs to nothing
  StateDict extra;
  for (const auto& [k, t] : adam_state) extra.insert(k, t);
  extra.insert("state.9.exp_avg", zeros({1}));
  EXPECT_NABLA_ERROR(fresh.load_state_dict(extra), "unexpected entry 'state.9.exp_avg'");
  // the failed loads left `fresh` as it was
  EXPECT_EQ(fresh.get_lr(), 0.5);
  EXPECT_EQ(fresh.state_dict().size(), 8u);  // 7 options + params, no per-parameter state
}

// ---- one fused kernel call per group -----------------------------------------------------------

int g_kernel_calls = 0;
int64_t g_kernel_params = 0;
Kernel g_wrapped = nullptr;
void counting_kernel(const KernelCall& c) {
  ++g_kernel_calls;
  g_kernel_params += static_cast<int64_t>(c.in.size());  // one gradient per parameter
  g_wrapped(c);
}

// Wraps the CPU kernel of `op` with a counter for its lifetime.
class KernelCounter {
 public:
  explicit KernelCounter(Op op) : op_(op), original_(find_kernel(op, DeviceType::CPU)) {
    g_wrapped = original_;
    g_kernel_calls = 0;
    g_kernel_params = 0;
    register_kernel(op_, DeviceType::CPU, counting_kernel);
  }
  ~KernelCounter() { register_kernel(op_, DeviceType::CPU, original_); }
  KernelCounter(const KernelCounter&) = delete;
  KernelCounter& operator=(const KernelCounter&) = delete;

 private:
  Op op_;
  Kernel original_;
};

TEST(Optimizers, OneFusedKernelCallPerGroupAndStep) {
  struct Case {
    std::string name;
    Op op;
  };
  for (const Case& cs :
       {Case{"adam", Op::adam_step}, Case{"adamw", Op::adam_step}, Case{"sgd", Op::sgd_step},
        Case{"sgd_momentum", Op::sgd_step}, Case{"rmsprop_centered_momentum_wd", Op::rmsprop_step},
        Case{"adagrad", Op::adagrad_step}, Case{"adadelta", Op::adadelta_step}}) {
    SCOPED_TRACE(cs.name);
    auto m = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
        std::make_shared<nn::Linear>(4, 8), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(8, 8),
        std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(8, 3)});
    ASSERT_EQ(m->parameters().size(), 6u);
    auto opt = make_optimizer(cs.name, m->parameters());
    KernelCounter counter(cs.op);
    for (int step = 1; step <= 3; ++step) {
      opt->zero_grad();
      (*m)(randn({5, 4})).sum().backward();
      opt->step();
      EXPECT_EQ(g_kernel_calls, step) << "step " << step;
      EXPECT_EQ(g_kernel_params, 6 * step) << "step " << step;  // every parameter updated once
    }
  }
  // after the counters: the original kernels are back
  Tensor p = from_vector<double>(kP0, {2, 2}).requires_grad_(true);
  auto opt = make_optimizer("adam", {p});
  quadratic_loss(p).backward();
  opt->step();
  EXPECT_TRUE(all_close(p.to_vector<double>(), optimizer_reference()[7].steps[0], 5e-10, 5e-10))
      << "adam after the counter";
}

TEST(Optimizers, TwoGroupsTwoCalls) {
  auto m = small_mlp(3);
  const auto ps = m->parameters();
  optim::Adam opt(std::vector<optim::ParamGroup>{{{ps[0], ps[1]}, {}}, {{ps[2], ps[3]}, {{"lr", 0.1}}}},
                  optim::AdamOptions{});
  KernelCounter counter(Op::adam_step);
  (*m)(ones({2, 3})).sum().backward();
  opt.step();
  EXPECT_EQ(g_kernel_calls, 2);
  EXPECT_EQ(g_kernel_params, 4);
}

// ============================================================================================
// Adadelta and LBFGS against PyTorch (reference/optim_reference.inc)
// ============================================================================================

struct LbfgsCase {
  double lr;
  int64_t max_iter, max_eval;  // max_eval -1: the default
  int64_t history_size;
  std::optional<std::string> line_search_fn;
};
struct LbfgsRef {
  const char* name;
  const char* problem;  // "rosenbrock" or "lsq"
  D x0;
  LbfgsCase options;
  std::vector<D> x;  // after each step
  D losses;          // what each step returned
  std::vector<int64_t> func_evals, n_iter;
};

#include "reference/optim_reference.inc"

TEST(Adadelta, StepByStepMatchesPyTorch) {
  for (const OptRef& ref : kAdadeltaReference) {
    SCOPED_TRACE(ref.name);
    for (ScalarType dtype : {kFloat64, kFloat32}) {
      Tensor p = from_vector<double>(kP0, {2, 2}).to(dtype).requires_grad_(true);
      auto opt = make_optimizer(ref.name, {p});
      for (std::size_t s = 0; s < ref.steps.size(); ++s) {
        opt->zero_grad();
        quadratic_loss(p).backward();
        opt->step();
        const double tol = dtype == kFloat64 ? 1e-13 : 2e-6;
        EXPECT_TRUE(all_close(p.to_vector<double>(), ref.steps[s], tol, tol))
            << dtype_name(dtype) << " after step " << s + 1;
      }
      const StateDict sd = opt->state_dict();
      EXPECT_EQ(sd.at("state.0.step").item<int64_t>(), 5);
      EXPECT_EQ(sd.at("state.0.square_avg").sizes(), (Shape{2, 2}));
      EXPECT_EQ(sd.at("state.0.acc_delta").sizes(), (Shape{2, 2}));
    }
  }
}

TEST(Adadelta, DefaultsAndInvalidOptions) {
  Tensor p = zeros({2}).requires_grad_(true);
  // PyTorch 1.13: Adadelta(params, lr=1.0, rho=0.9, eps=1e-06, weight_decay=0, foreach=None, *,
  // maximize=False)
  EXPECT_EQ(optim::Adadelta({p}).defaults(),
            (std::map<std::string, double>{
                {"lr", 1.0}, {"rho", 0.9}, {"eps", 1e-6}, {"weight_decay", 0}, {"maximize", 0}}));
  EXPECT_EQ(optim::Adadelta({p}).name(), "Adadelta");
  EXPECT_NABLA_ERROR(optim::Adadelta({p}, optim::AdadeltaOptions{.lr = -1}), "Adadelta",
                     "invalid learning rate -1");
  EXPECT_NABLA_ERROR(optim::Adadelta({p}, optim::AdadeltaOptions{.rho = 1.5}), "Adadelta", "invalid rho 1.5");
  EXPECT_NABLA_ERROR(optim::Adadelta({p}, optim::AdadeltaOptions{.rho = -0.1}), "Adadelta",
                     "invalid rho -0.1");
  EXPECT_NABLA_ERROR(optim::Adadelta({p}, optim::AdadeltaOptions{.eps = -1e-6}), "Adadelta", "epsilon");
  EXPECT_NABLA_ERROR(optim::Adadelta({p}, optim::AdadeltaOptions{.weight_decay = -0.5}), "Adadelta",
                     "weight_decay -0.5");
  // rho at the ends of [0, 1] is valid, as in PyTorch
  EXPECT_NO_THROW(optim::Adadelta({p}, optim::AdadeltaOptions{.rho = 0.0}));
  EXPECT_NO_THROW(optim::Adadelta({p}, optim::AdadeltaOptions{.rho = 1.0}));
}

optim::LBFGSOptions lbfgs_options(const LbfgsCase& c) {
  optim::LBFGSOptions o;
  o.lr = c.lr;
  o.max_iter = c.max_iter;
  if (c.max_eval >= 0) o.max_eval = c.max_eval;
  o.history_size = c.history_size;
  o.line_search_fn = c.line_search_fn;
  return o;
}

// The problems of make_optim_reference.py. wave(shape, a, s)[i] = sin(a i + s).
Tensor wave(const Shape& shape, double a, double s) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  D v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = std::sin(a * static_cast<double>(i) + s);
  return from_vector<double>(v, shape);
}

Tensor rosenbrock(const Tensor& x0, const Tensor& x1) {
  return (1.0 - x0) * (1.0 - x0) + 100.0 * (x1 - x0 * x0) * (x1 - x0 * x0);
}
Tensor rosenbrock(const Tensor& x) { return rosenbrock(x.select(0, 0), x.select(0, 1)); }

Tensor lsq(const Tensor& x) {
  static const Tensor A = wave({6, 3}, 0.37, 0.1), b = wave({6}, 0.91, 0.3);
  const Tensor r = matmul(A.to(x.dtype()), x) - b.to(x.dtype());
  return 0.5 * (r * r).sum() + 0.05 * (x * x).sum();
}

std::function<Tensor()> closure_of(optim::Optimizer& opt, const Tensor& x, const std::string& problem,
                                   int* calls = nullptr) {
  return [&opt, x, problem, calls] {
    if (calls != nullptr) ++*calls;
    opt.zero_grad();
    Tensor loss = problem == "lsq" ? lsq(x) : rosenbrock(x);
    loss.backward();
    return loss;
  };
}

TEST(LBFGS, TrajectoriesMatchPyTorch) {
  int checked = 0;
  for (const LbfgsRef& ref : kLbfgsReference) {
    SCOPED_TRACE(ref.name);
    Tensor x = from_vector<double>(ref.x0).requires_grad_(true);
    optim::LBFGS opt({x}, lbfgs_options(ref.options));
    int calls = 0;
    const auto closure = closure_of(opt, x, ref.problem, &calls);
    for (std::size_t s = 0; s < ref.x.size(); ++s) {
      const Tensor loss = opt.step(closure);
      EXPECT_TRUE(all_close(x.to_vector<double>(), ref.x[s], 1e-10, 1e-10)) << "x after step " << s + 1;
      EXPECT_TRUE(all_close({loss.item<double>()}, {ref.losses[s]}, 1e-10, 1e-10))
          << "loss of step " << s + 1;
      const StateDict sd = opt.state_dict();
      EXPECT_EQ(sd.at("state.0.func_evals").item<int64_t>(), ref.func_evals[s]) << "step " << s + 1;
      EXPECT_EQ(sd.at("state.0.n_iter").item<int64_t>(), ref.n_iter[s]) << "step " << s + 1;
      EXPECT_EQ(calls, ref.func_evals[s]) << "closure calls up to step " << s + 1;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 5);
}

// In float32 the vectors are float32 and the scalars double: the path stays close to
// float64's on the well-conditioned least-squares problem.
TEST(LBFGS, Float32FollowsFloat64) {
  int checked = 0;
  for (const LbfgsRef& ref : kLbfgsReference) {
    if (std::string(ref.problem) != "lsq") continue;
    SCOPED_TRACE(ref.name);
    Tensor x = from_vector<double>(ref.x0).to(kFloat32).requires_grad_(true);
    optim::LBFGS opt({x}, lbfgs_options(ref.options));
    for (std::size_t s = 0; s < ref.x.size(); ++s) opt.step(closure_of(opt, x, ref.problem));
    EXPECT_EQ(x.dtype(), kFloat32);
    EXPECT_EQ(opt.state_dict().at("state.0.d").dtype(), kFloat32);
    EXPECT_TRUE(all_close(x.to_vector<double>(), ref.x.back(), 1e-5, 1e-5));
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

// The parameters are one vector: Rosenbrock over two one-element parameters follows the path
// of one two-element parameter bit for bit, and a parameter without a gradient counts as zeros
// (it is not moved).
TEST(LBFGS, ParametersAreOneFlatVector) {
  for (bool wolfe : {false, true}) {
    SCOPED_TRACE(wolfe ? "strong_wolfe" : "fixed step");
    optim::LBFGSOptions o;
    o.max_iter = 6;
    if (wolfe) o.line_search_fn = "strong_wolfe";
    Tensor x = from_vector<double>({-1.5, 2.0}).requires_grad_(true);
    optim::LBFGS one({x}, o);
    Tensor a = from_vector<double>({-1.5}).requires_grad_(true),
           b = from_vector<double>({2.0}).requires_grad_(true);
    Tensor unused = from_vector<double>({7.0, 8.0}).requires_grad_(true);
    optim::LBFGS split({a, unused, b}, o);
    const auto c1 = closure_of(one, x, "rosenbrock");
    const auto c2 = [&] {
      split.zero_grad();
      Tensor loss = rosenbrock(a.select(0, 0), b.select(0, 0));
      loss.backward();
      return loss;
    };
    for (int s = 0; s < 3; ++s) {
      EXPECT_EQ(one.step(c1).item<double>(), split.step(c2).item<double>()) << "step " << s + 1;
      EXPECT_EQ(x.to_vector<double>(), (D{a.item<double>(), b.item<double>()})) << "step " << s + 1;
    }
    EXPECT_EQ(unused.to_vector<double>(), (D{7.0, 8.0}));
    EXPECT_EQ(split.state_dict().at("state.0.d").sizes(), (Shape{4}));
  }
}

TEST(LBFGS, DefaultsAreTorchs) {
  Tensor p = zeros({2}, kFloat64).requires_grad_(true);
  // PyTorch 1.13: LBFGS(params, lr=1, max_iter=20, max_eval=None (max_iter * 5 // 4),
  // tolerance_grad=1e-07, tolerance_change=1e-09, history_size=100, line_search_fn=None)
  using M = std::map<std::string, double>;
  EXPECT_EQ(optim::LBFGS({p}).defaults(), (M{{"lr", 1.0},
                                             {"max_iter", 20},
                                             {"max_eval", 25},
                                             {"tolerance_grad", 1e-7},
                                             {"tolerance_change", 1e-9},
                                             {"history_size", 100},
                                             {"line_search_fn", 0}}));
  optim::LBFGSOptions o;
  o.max_iter = 7;
  o.line_search_fn = "strong_wolfe";
  EXPECT_EQ(optim::LBFGS({p}, o).defaults().at("max_eval"), 8);  // 7 * 5 // 4
  EXPECT_EQ(optim::LBFGS({p}, o).defaults().at("line_search_fn"), 1);
  o.max_eval = 3;
  EXPECT_EQ(optim::LBFGS({p}, o).defaults().at("max_eval"), 3);
  EXPECT_EQ(optim::LBFGS({p}).name(), "LBFGS");
}

TEST(LBFGS, ErrorsNameLBFGSAndTheValue) {
  Tensor p = zeros({2}, kFloat64).requires_grad_(true);
  auto with = [](auto set) {
    optim::LBFGSOptions o;
    set(o);
    return o;
  };
  EXPECT_NABLA_ERROR(optim::LBFGS({p}, with([](auto& o) { o.lr = -0.5; })), "LBFGS",
                     "invalid learning rate -0.5");
  EXPECT_NABLA_ERROR(optim::LBFGS({p}, with([](auto& o) { o.history_size = 0; })), "LBFGS",
                     "invalid history_size 0");
  EXPECT_NABLA_ERROR(optim::LBFGS({p}, with([](auto& o) { o.line_search_fn = "backtracking"; })), "LBFGS",
                     "unknown line_search_fn 'backtracking'");
  EXPECT_NABLA_ERROR(optim::LBFGS({p}, with([](auto& o) { o.max_iter = 0; })), "LBFGS", "invalid max_iter 0");
  EXPECT_NABLA_ERROR(optim::LBFGS({p}, with([](auto& o) { o.max_eval = 0; })), "LBFGS", "invalid max_eval 0");
  EXPECT_NABLA_ERROR(optim::LBFGS({p}, with([](auto& o) { o.tolerance_grad = -1; })), "LBFGS",
                     "tolerance_grad -1");
  // one parameter group only, as PyTorch
  Tensor q = zeros({3}, kFloat64).requires_grad_(true);
  EXPECT_NABLA_ERROR(
      optim::LBFGS(std::vector<optim::ParamGroup>{{{p}, {}}, {{q}, {}}}, optim::LBFGSOptions{}), "LBFGS",
      "parameter groups", "got 2 groups");
  optim::LBFGS opt({p});
  EXPECT_NABLA_ERROR(opt.add_param_group({{q}, {}}), "LBFGS", "parameter groups");
  EXPECT_EQ(opt.param_groups().size(), 1u);
  EXPECT_NABLA_ERROR(optim::LBFGS({p, zeros({2}, kFloat32).requires_grad_(true)}), "LBFGS",
                     "one dtype and device", "float64", "float32");
  EXPECT_NABLA_ERROR(optim::LBFGS(std::vector<Tensor>{}), "LBFGS", "no parameters");
  // the closure is required and must return the loss
  EXPECT_NABLA_ERROR(opt.step(), "LBFGS", "step(closure)");
  EXPECT_NABLA_ERROR(opt.step(std::function<Tensor()>{}), "LBFGS", "empty closure");
  EXPECT_NABLA_ERROR(opt.step([] { return Tensor(); }), "LBFGS", "returned no loss");
  EXPECT_NABLA_ERROR(opt.step([&] { return p * 2.0; }), "LBFGS", "one-element", "[2]");
}

// step(closure) of the other optimizers: the closure runs with grad mode on even where the
// caller switched it off, and step returns the closure's loss.
TEST(Optimizers, StepWithClosureReturnsTheLoss) {
  Tensor p = from_vector<double>(kP0, {2, 2}).requires_grad_(true);
  auto opt = make_optimizer("sgd_momentum", {p});
  Tensor q = from_vector<double>(kP0, {2, 2}).requires_grad_(true);
  auto ref = make_optimizer("sgd_momentum", {q});
  for (int s = 0; s < 3; ++s) {
    NoGradGuard off;
    const Tensor loss = opt->step([&] {
      EXPECT_TRUE(GradMode::is_enabled());
      opt->zero_grad();
      Tensor l = quadratic_loss(p);
      l.backward();
      return l;
    });
    EXPECT_FALSE(GradMode::is_enabled());
    {
      GradMode::set_enabled(true);
      ref->zero_grad();
      const Tensor l = quadratic_loss(q);
      l.backward();
      GradMode::set_enabled(false);
      ref->step();
      EXPECT_EQ(loss.item<double>(), l.item<double>()) << "step " << s + 1;
    }
    EXPECT_EQ(p.to_vector<double>(), q.to_vector<double>()) << "step " << s + 1;
  }
  EXPECT_TRUE(all_close(p.to_vector<double>(), optimizer_reference()[1].steps[2], 5e-10, 5e-10));
}

TEST(LBFGS, StateDictRoundTripContinuesBitwise) {
  for (const LbfgsRef& ref : kLbfgsReference) {
    SCOPED_TRACE(ref.name);
    const std::size_t n = ref.x.size() - 1;  // steps before the save; one after
    Tensor a = from_vector<double>(ref.x0).requires_grad_(true);
    optim::LBFGS opt_a({a}, lbfgs_options(ref.options));
    for (std::size_t s = 0; s <= n; ++s) opt_a.step(closure_of(opt_a, a, ref.problem));

    Tensor b = from_vector<double>(ref.x0).requires_grad_(true);
    optim::LBFGS opt_b({b}, lbfgs_options(ref.options));
    for (std::size_t s = 0; s < n; ++s) opt_b.step(closure_of(opt_b, b, ref.problem));
    const StateDict saved = opt_b.state_dict();
    // layout: PyTorch's state of the first parameter
    const int64_t k = saved.at("state.0.ro").numel();
    EXPECT_GE(k, 1);
    EXPECT_LE(k, ref.options.history_size);
    EXPECT_EQ(saved.at("state.0.old_dirs").sizes(), (Shape{k, static_cast<int64_t>(ref.x0.size())}));
    EXPECT_EQ(saved.at("state.0.old_stps").sizes(), (Shape{k, static_cast<int64_t>(ref.x0.size())}));
    for (const char* key : {"d", "prev_flat_grad"})
      EXPECT_EQ(saved.at(std::string("state.0.") + key).sizes(),
                (Shape{static_cast<int64_t>(ref.x0.size())}));
    for (const char* key : {"t", "H_diag", "prev_loss", "func_evals", "n_iter"})
      EXPECT_EQ(saved.at(std::string("state.0.") + key).dim(), 0) << key;
    EXPECT_EQ(saved.at("state.0.func_evals").item<int64_t>(), ref.func_evals[n - 1]);
    EXPECT_EQ(saved.at("param_groups.0.history_size").item<double>(), ref.options.history_size);

    // a fresh optimizer (other options: the state's replace them) over a copy of b
    Tensor c = b.detach().clone().requires_grad_(true);
    optim::LBFGS opt_c({c}, optim::LBFGSOptions{.lr = 0.1, .history_size = 3});
    opt_c.load_state_dict(saved);
    EXPECT_EQ(opt_c.get_lr(), ref.options.lr);
    const Tensor loss_c = opt_c.step(closure_of(opt_c, c, ref.problem));
    const Tensor loss_b = opt_b.step(closure_of(opt_b, b, ref.problem));
    EXPECT_EQ(loss_c.item<double>(), loss_b.item<double>());
    EXPECT_EQ(c.to_vector<double>(), a.to_vector<double>());
    EXPECT_EQ(b.to_vector<double>(), a.to_vector<double>());
    EXPECT_EQ(opt_c.state_dict().at("state.0.n_iter").item<int64_t>(), ref.n_iter[n]);
    // the saved state is a snapshot
    EXPECT_EQ(saved.at("state.0.func_evals").item<int64_t>(), ref.func_evals[n - 1]);
  }
}

TEST(LBFGS, StateDictBeforeAndWithoutIterations) {
  Tensor x = from_vector<double>({1.0, 1.0}).requires_grad_(true);  // Rosenbrock's minimum
  optim::LBFGS opt({x});
  EXPECT_FALSE(opt.state_dict().contains("state.0.n_iter"));  // no state before a step
  optim::LBFGS fresh({x});
  fresh.load_state_dict(opt.state_dict());
  // at the minimum the first evaluation ends the step: func_evals counts it, nothing else is kept
  EXPECT_EQ(opt.step(closure_of(opt, x, "rosenbrock")).item<double>(), 0.0);
  const StateDict sd = opt.state_dict();
  EXPECT_EQ(sd.at("state.0.func_evals").item<int64_t>(), 1);
  EXPECT_EQ(sd.at("state.0.n_iter").item<int64_t>(), 0);
  EXPECT_FALSE(sd.contains("state.0.d"));
  fresh.load_state_dict(sd);
  EXPECT_EQ(fresh.state_dict().at("state.0.func_evals").item<int64_t>(), 1);
}

TEST(LBFGS, LoadStateDictRejectsBadStateAndChangesNothing) {
  Tensor x = from_vector<double>({0.0, 0.0, 0.0}).requires_grad_(true);
  optim::LBFGS opt({x}, optim::LBFGSOptions{.history_size = 2});
  for (int s = 0; s < 2; ++s) opt.step(closure_of(opt, x, "lsq"));
  const StateDict good = opt.state_dict();
  auto with = [&](const std::string& key, const Tensor& t) {
    StateDict sd;
    for (const auto& [k, v] : good) sd.insert(k, k == key ? t : v);
    if (!sd.contains(key)) sd.insert(key, t);
    return sd;
  };
  auto without = [&](const std::string& key) {
    StateDict sd;
    for (const auto& [k, v] : good)
      if (k != key) sd.insert(k, v);
    return sd;
  };
  Tensor y = zeros({3}, kFloat64).requires_grad_(true);
  optim::LBFGS target({y}, optim::LBFGSOptions{.lr = 0.5});
  EXPECT_NABLA_ERROR(target.load_state_dict(with("state.0.d", zeros({4}, kFloat64))), "LBFGS", "state.0.d",
                     "[4]", "[3]");
  EXPECT_NABLA_ERROR(target.load_state_dict(with("state.0.old_dirs", zeros({1, 3}, kFloat64))), "LBFGS",
                     "state.0.old_dirs", "[1, 3]", "[2, 3]");
  EXPECT_NABLA_ERROR(target.load_state_dict(with("state.0.ro", zeros({5}, kFloat64))), "LBFGS",
                     "5 history pairs, more than history_size 2");
  EXPECT_NABLA_ERROR(target.load_state_dict(without("state.0.t")), "LBFGS", "state.0.t is missing");
  EXPECT_NABLA_ERROR(target.load_state_dict(with("state.0.al", zeros({2}, kFloat64))), "LBFGS",
                     "unexpected entry 'state.0.al'");
  EXPECT_NABLA_ERROR(target.load_state_dict(with("state.1.d", zeros({3}, kFloat64))), "LBFGS",
                     "unexpected entry 'state.1.d'");
  EXPECT_NABLA_ERROR(
      target.load_state_dict(with("param_groups.0.line_search_fn", scalar_tensor(2.0, kFloat64))), "LBFGS",
      "line_search_fn code 2");
  EXPECT_NABLA_ERROR(
      target.load_state_dict(with("param_groups.0.history_size", scalar_tensor(0.0, kFloat64))), "LBFGS",
      "history_size 0");
  // another optimizer's state
  Tensor z = zeros({3}, kFloat64).requires_grad_(true);
  optim::Adam adam({z});
  (z * 2.0).sum().backward();
  adam.step();
  EXPECT_NABLA_ERROR(target.load_state_dict(adam.state_dict()), "LBFGS", "load_state_dict");
  // nothing of the failed loads stuck
  EXPECT_EQ(target.get_lr(), 0.5);
  EXPECT_FALSE(target.state_dict().contains("state.0.n_iter"));
  target.load_state_dict(good);
  EXPECT_EQ(target.state_dict().at("state.0.n_iter").item<int64_t>(),
            good.at("state.0.n_iter").item<int64_t>());
}

// ============================================================================================
// learning-rate schedulers
// ============================================================================================

struct SchedRef {
  const char* name;
  D lrs;
};

// PyTorch 1.13.1, make_nn_reference.py, section "schedulers": base lr 0.1; the lr before the
// first step, then after each of 12 scheduler steps.
const std::vector<SchedRef> kSchedulerReference = {
    // clang-format off
  {"step", {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125, 0.00625}},
  {"multistep", {0.1, 0.1, 0.010000000000000002, 0.010000000000000002, 0.010000000000000002, 0.0010000000000000002, 0.0010000000000000002, 0.0010000000000000002, 0.0010000000000000002, 0.0010000000000000002, 0.0010000000000000002, 0.0010000000000000002, 0.0010000000000000002}},
  {"exponential", {0.1, 0.09000000000000001, 0.08100000000000002, 0.07290000000000002, 0.06561000000000002, 0.05904900000000002, 0.05314410000000002, 0.04782969000000002, 0.043046721000000024, 0.03874204890000002, 0.03486784401000002, 0.03138105960900001, 0.028242953648100012}},
  {"cosine", {0.1, 0.09757729755661011, 0.0905463412215599, 0.07959536998847742, 0.0657963412215599, 0.0505, 0.03520365877844011, 0.02140463001152259, 0.010453658778440109, 0.0034227024433899004, 0.001, 0.0034227024433899004, 0.01045365877844014}},
  {"linear", {0.03333333333333333, 0.04666666666666667, 0.060000000000000005, 0.07333333333333335, 0.08666666666666668, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1}},
  {"linear_half_to_quarter", {0.05, 0.043750000000000004, 0.037500000000000006, 0.03125000000000001, 0.02500000000000001, 0.02500000000000001, 0.02500000000000001, 0.02500000000000001, 0.02500000000000001, 0.02500000000000001, 0.02500000000000001, 0.02500000000000001, 0.02500000000000001}},
  // plateau metrics: {1.0, 0.9, 0.8, 0.8, 0.80001, 0.79995, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.69, 0.7}
  {"plateau", {0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025, 0.025}},  // {'patience': 2, 'factor': 0.5}
  {"plateau_cooldown", {0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03}},  // {'patience': 1, 'factor': 0.5, 'cooldown': 2, 'min_lr': 0.03}
  {"plateau_max", {0.1, 0.1, 0.010000000000000002, 0.010000000000000002, 0.0010000000000000002, 0.0010000000000000002, 0.00010000000000000003, 0.00010000000000000003, 1.0000000000000004e-05, 1.0000000000000004e-05, 1.0000000000000004e-06, 1.0000000000000004e-06, 1.0000000000000005e-07, 1.0000000000000005e-07, 1.0000000000000005e-08}},  // {'mode': 'max', 'patience': 1, 'factor': 0.1}
    // clang-format on
};

std::unique_ptr<optim::LRScheduler> make_scheduler(const std::string& name, optim::Optimizer& opt) {
  using namespace optim;  // NOLINT
  if (name == "step") return std::make_unique<StepLR>(opt, 3, 0.5);
  if (name == "multistep") return std::make_unique<MultiStepLR>(opt, std::vector<int64_t>{5, 2}, 0.1);
  if (name == "exponential") return std::make_unique<ExponentialLR>(opt, 0.9);
  if (name == "cosine") return std::make_unique<CosineAnnealingLR>(opt, 10, 0.001);
  if (name == "linear") return std::make_unique<LinearLR>(opt, 1.0 / 3.0, 1.0, 5);
  if (name == "linear_half_to_quarter") return std::make_unique<LinearLR>(opt, 0.5, 0.25, 4);
  return nullptr;
}

TEST(Schedulers, LearningRatesMatchPyTorch) {
  int checked = 0;
  for (const SchedRef& ref : kSchedulerReference) {
    if (std::string(ref.name).rfind("plateau", 0) == 0) continue;  // ReduceLROnPlateau: below
    SCOPED_TRACE(ref.name);
    Tensor p = zeros({1}).requires_grad_(true);
    optim::SGD opt({p}, optim::SGDOptions{.lr = 0.1});
    auto sched = make_scheduler(ref.name, opt);
    ASSERT_NE(sched, nullptr);
    D lrs{opt.get_lr()};
    for (int e = 0; e < 12; ++e) {
      opt.step();
      sched->step();
      lrs.push_back(opt.get_lr());
      EXPECT_EQ(sched->last_epoch(), e + 1);
      EXPECT_EQ(sched->get_last_lr(), D{opt.get_lr()});
    }
    EXPECT_TRUE(all_close(lrs, ref.lrs, 5e-13, 5e-13)) << "lr";
    ++checked;
  }
  EXPECT_EQ(checked, 6);
}

TEST(Schedulers, SchedulersSetEveryGroup) {
  Tensor a = zeros({1}).requires_grad_(true), b = zeros({1}).requires_grad_(true);
  optim::SGD opt({optim::ParamGroup{{a}, {}}, optim::ParamGroup{{b}, {{"lr", 1.0}}}},
                 optim::SGDOptions{.lr = 0.1});
  optim::StepLR sched(opt, 2, 0.5);
  for (int i = 0; i < 4; ++i) sched.step();
  EXPECT_DOUBLE_EQ(opt.get_lr(0), 0.025);
  EXPECT_DOUBLE_EQ(opt.get_lr(1), 0.25);
  EXPECT_EQ(sched.get_last_lr(), (D{opt.get_lr(0), opt.get_lr(1)}));
}

TEST(Schedulers, StateDictRoundTrip) {
  for (const char* name :
       {"step", "multistep", "exponential", "cosine", "linear", "linear_half_to_quarter"}) {
    SCOPED_TRACE(name);
    Tensor p = zeros({1}).requires_grad_(true);
    optim::SGD opt({p}, optim::SGDOptions{.lr = 0.1});
    auto sched = make_scheduler(name, opt);
    for (int i = 0; i < 5; ++i) sched->step();
    const StateDict sd = sched->state_dict();
    EXPECT_EQ(sd.at("last_epoch").item<int64_t>(), 5);
    // a fresh optimizer (another lr) and scheduler, restored
    Tensor q = zeros({1}).requires_grad_(true);
    optim::SGD opt2({q}, optim::SGDOptions{.lr = 0.7});
    auto sched2 = make_scheduler(name, opt2);
    sched2->load_state_dict(sd);
    EXPECT_EQ(sched2->last_epoch(), 5);
    EXPECT_DOUBLE_EQ(opt2.get_lr(), opt.get_lr());
    for (int i = 0; i < 7; ++i) {
      sched->step();
      sched2->step();
      EXPECT_DOUBLE_EQ(opt2.get_lr(), opt.get_lr()) << "epoch " << sched->last_epoch();
    }
  }
}

TEST(Schedulers, InvalidArguments) {
  Tensor p = zeros({1}).requires_grad_(true);
  optim::SGD opt({p});
  EXPECT_NABLA_ERROR(optim::StepLR(opt, 0), "StepLR", "step_size");
  EXPECT_NABLA_ERROR(optim::CosineAnnealingLR(opt, 0), "CosineAnnealingLR", "T_max");
  EXPECT_NABLA_ERROR(optim::LinearLR(opt, 0.0), "LinearLR", "start_factor");
  EXPECT_NABLA_ERROR(optim::LinearLR(opt, 0.5, 1.0, 0), "LinearLR", "total_iters");
  EXPECT_NABLA_ERROR(optim::ReduceLROnPlateau(opt, optim::ReduceLROnPlateauOptions{.factor = 1.0}),
                     "ReduceLROnPlateau", "factor");
}

// PyTorch 1.13.1, make_nn_reference.py: the metric sequence, and the lr after each step(metric)
const D kPlateauMetrics{1.0, 0.9, 0.8, 0.8, 0.80001, 0.79995, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.69, 0.7};

optim::ReduceLROnPlateauOptions plateau_options(const std::string& name) {
  optim::ReduceLROnPlateauOptions o;
  if (name == "plateau") {
    o.patience = 2;
    o.factor = 0.5;
  } else if (name == "plateau_cooldown") {
    o.patience = 1;
    o.factor = 0.5;
    o.cooldown = 2;
    o.min_lr = 0.03;
  } else {  // plateau_max
    o.mode = optim::ReduceLROnPlateauOptions::Mode::Max;
    o.patience = 1;
    o.factor = 0.1;
  }
  return o;
}

TEST(Schedulers, ReduceLROnPlateauMatchesPyTorch) {
  int checked = 0;
  for (const SchedRef& ref : kSchedulerReference) {
    const std::string name = ref.name;
    if (name.rfind("plateau", 0) != 0) continue;
    SCOPED_TRACE(name);
    Tensor p = zeros({1}).requires_grad_(true);
    optim::SGD opt({p}, optim::SGDOptions{.lr = 0.1});
    optim::ReduceLROnPlateau sched(opt, plateau_options(name));
    D lrs;
    for (double m : kPlateauMetrics) {
      sched.step(m);
      lrs.push_back(opt.get_lr());
    }
    EXPECT_TRUE(all_close(lrs, ref.lrs, 5e-13, 5e-13)) << "lr";
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

TEST(Schedulers, ReduceLROnPlateauStateDictRoundTrip) {
  for (const char* name : {"plateau", "plateau_cooldown", "plateau_max"}) {
    SCOPED_TRACE(name);
    Tensor p = zeros({1}).requires_grad_(true);
    optim::SGD opt({p}, optim::SGDOptions{.lr = 0.1});
    optim::ReduceLROnPlateau sched(opt, plateau_options(name));
    for (std::size_t i = 0; i < 6; ++i) sched.step(kPlateauMetrics[i]);
    Tensor q = zeros({1}).requires_grad_(true);
    optim::SGD opt2({q}, optim::SGDOptions{.lr = 0.1});
    opt2.load_state_dict(opt.state_dict());  // the lr travels with the optimizer
    optim::ReduceLROnPlateau sched2(opt2, plateau_options(name));
    sched2.load_state_dict(sched.state_dict());
    EXPECT_EQ(sched2.num_bad_epochs(), sched.num_bad_epochs());
    for (std::size_t i = 6; i < kPlateauMetrics.size(); ++i) {
      sched.step(kPlateauMetrics[i]);
      sched2.step(kPlateauMetrics[i]);
      EXPECT_EQ(opt2.get_lr(), opt.get_lr()) << "metric " << i;
    }
  }
}

// ============================================================================================
// regularisation helpers
// ============================================================================================

TEST(Regularisation, ClipGradNormReturnsThePreClipNorm) {
  for (ScalarType dt : {kFloat32, kFloat64}) {
    SCOPED_TRACE(dtype_name(dt));
    Tensor a = zeros({2, 2}, dt).requires_grad_(true), b = zeros({3}, dt).requires_grad_(true);
    Tensor c = zeros({2}, dt).requires_grad_(true);  // no gradient: ignored
    auto set = [&] {
      a.set_grad(from_vector<double>({3, 4, 0, 0}, {2, 2}).to(dt));
      b.set_grad(from_vector<double>({0, -12, 0}, {3}).to(dt));
    };
    auto norm_now = [&] {
      const D ga = a.grad().to_vector<double>(), gb = b.grad().to_vector<double>();
      double s = 0;
      for (double v : ga) s += v * v;
      for (double v : gb) s += v * v;
      return std::sqrt(s);
    };
    set();
    EXPECT_NEAR(optim::clip_grad_norm_({a, b, c}, 6.5), 13.0, 1e-6);
    EXPECT_NEAR(norm_now(), 6.5, 1e-6);
    EXPECT_TRUE(all_close(a.grad().to_vector<double>(), {1.5, 2.0, 0, 0}, 5e-7, 5e-7)) << "a";
    EXPECT_FALSE(c.grad().defined());
    // below max_norm: unchanged
    set();
    EXPECT_NEAR(optim::clip_grad_norm_({a, b}, 20.0), 13.0, 1e-6);
    EXPECT_TRUE(all_close(b.grad().to_vector<double>(), {0, -12, 0}, 0, 0)) << "b";
    // other norms
    set();
    EXPECT_NEAR(optim::clip_grad_norm_({a, b}, 6.0, INFINITY), 12.0, 1e-6);
    EXPECT_NEAR(b.grad().to_vector<double>()[1], -6.0, 1e-5);
    set();
    EXPECT_NEAR(optim::clip_grad_norm_({a, b}, 100.0, 1.0), 19.0, 1e-6);
    EXPECT_EQ(optim::clip_grad_norm_({c}, 1.0), 0.0);
  }
  Tensor p = zeros({1}).requires_grad_(true);
  EXPECT_NABLA_ERROR(optim::clip_grad_norm_({p}, -1.0), "clip_grad_norm_", "max_norm");
}

TEST(Regularisation, ClipGradValue) {
  Tensor a = zeros({4}, kFloat64).requires_grad_(true);
  a.set_grad(from_vector<double>({-3, -1, 2, 7}, {4}));
  optim::clip_grad_value_({a}, 2.5);
  EXPECT_EQ(a.grad().to_vector<double>(), (D{-2.5, -1, 2, 2.5}));
  EXPECT_NABLA_ERROR(optim::clip_grad_value_({a}, -1.0), "clip_grad_value_", "clip_value");
}

TEST(Regularisation, PenaltiesValuesAndGradients) {
  Tensor a = from_vector<double>({0.5, -2.0, 3.0, -0.25}, {2, 2}).requires_grad_(true);
  Tensor b = from_vector<double>({-1.5, 1.0}, {2}).requires_grad_(true);
  const Tensor l1 = optim::l1_penalty({a, b});
  EXPECT_DOUBLE_EQ(l1.item<double>(), 0.5 + 2.0 + 3.0 + 0.25 + 1.5 + 1.0);
  l1.backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (D{1, -1, 1, -1}));
  EXPECT_EQ(b.grad().to_vector<double>(), (D{-1, 1}));
  a.set_grad(Tensor());
  b.set_grad(Tensor());
  const Tensor l2 = optim::l2_penalty({a, b});
  EXPECT_DOUBLE_EQ(l2.item<double>(), 0.25 + 4.0 + 9.0 + 0.0625 + 2.25 + 1.0);
  l2.backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (D{1.0, -4.0, 6.0, -0.5}));
  EXPECT_EQ(b.grad().to_vector<double>(), (D{-3.0, 2.0}));
}

TEST(Regularisation, SgdWeightDecayEqualsAnL2PenaltyOfHalfTheDecay) {
  for (double momentum : {0.0, 0.9}) {
    SCOPED_TRACE(momentum);
    const double wd = 0.1;
    Tensor p1 = from_vector<double>(kP0, {2, 2}).requires_grad_(true);
    Tensor p2 = from_vector<double>(kP0, {2, 2}).requires_grad_(true);
    optim::SGD with_decay({p1}, optim::SGDOptions{.lr = 0.05, .momentum = momentum, .weight_decay = wd});
    optim::SGD by_hand({p2}, optim::SGDOptions{.lr = 0.05, .momentum = momentum});
    for (int s = 0; s < 5; ++s) {
      with_decay.zero_grad();
      quadratic_loss(p1).backward();
      with_decay.step();
      by_hand.zero_grad();
      (quadratic_loss(p2) + optim::l2_penalty({p2}) * (wd / 2.0)).backward();
      by_hand.step();
      EXPECT_TRUE(all_close(p2.to_vector<double>(), p1.to_vector<double>(), 5e-14, 5e-14))
          << "step " + std::to_string(s);
    }
  }
}

// ============================================================================================
// end to end
// ============================================================================================

// Trains XOR; returns the first step after which the accuracy was 1.0, or -1.
int train_xor(uint64_t seed, std::vector<std::vector<uint32_t>>* final_bits = nullptr) {
  manual_seed(seed);
  nn::Sequential net{std::make_shared<nn::Linear>(2, 4), std::make_shared<nn::Tanh>(),
                     std::make_shared<nn::Linear>(4, 1), std::make_shared<nn::Sigmoid>()};
  const Tensor x = from_vector<float>({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  const Tensor y = from_vector<float>({0, 1, 1, 0}, {4, 1});
  optim::Adam opt(net.parameters(), optim::AdamOptions{.lr = 0.1});
  int solved_at = -1;
  for (int step = 1; step <= 500; ++step) {
    opt.zero_grad();
    const Tensor out = net(x);
    F::binary_cross_entropy(out, y).backward();
    opt.step();
    NoGradGuard g;
    const std::vector<float> pred = net(x).to_vector<float>();
    bool all = true;
    for (int i = 0; i < 4; ++i) all = all && ((pred[i] > 0.5f) == (y.to_vector<float>()[i] > 0.5f));
    if (all && solved_at < 0) solved_at = step;
    if (!all) solved_at = -1;
  }
  if (final_bits != nullptr) {
    for (const Tensor& p : net.parameters()) final_bits->push_back(bits(p));
  }
  return solved_at;
}

// With 4 tanh units, a few initialisations end in XOR's classic local minimum (two inputs at
// 0.5): seeds 0, 22 and 70 of 0..99 here, and 3 of 100 seeds with PyTorch 1.13 too. The seeds
// below are not among them.
TEST(EndToEnd, XorIsLearnedDeterministically) {
  std::vector<std::vector<uint32_t>> first, second;
  const int solved = train_xor(1, &first);
  EXPECT_GT(solved, 0) << "XOR not solved within 500 steps";
  EXPECT_EQ(train_xor(1, &second), solved);
  EXPECT_EQ(first, second);  // bitwise the same run
  for (uint64_t seed : {2, 3, 4, 5}) EXPECT_GT(train_xor(seed), 0) << "seed " << seed;
}

}  // namespace
}  // namespace nabla
