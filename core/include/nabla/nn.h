// nabla::nn in one include: modules, layers, losses, functional, init.
#pragma once

#include "nabla/nn/containers.h"
#include "nabla/nn/conv.h"
#include "nabla/nn/functional.h"
#include "nabla/nn/init.h"
#include "nabla/nn/loss.h"
#include "nabla/nn/module.h"
#include "nabla/nn/modules.h"
#include "nabla/nn/recurrent.h"
#include "nabla/nn/transformer.h"
