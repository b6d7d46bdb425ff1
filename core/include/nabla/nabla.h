// The one header users include.
#pragma once

#include "nabla/autograd.h"
#include "nabla/device.h"
#include "nabla/dtype.h"
#include "nabla/error.h"
#include "nabla/factories.h"
#include "nabla/half.h"
#include "nabla/macros.h"
#include "nabla/ops.h"
#include "nabla/parallel.h"
#include "nabla/random.h"
#include "nabla/scalar.h"
#include "nabla/tensor.h"
