// lowbit: every public C++ header in one (docs/api.md). One namespace per family, each with the same
// shape (an Options struct with defaults; encode, decode, quantize, and pack/unpack or gemm/matvec
// where the family has them): lowbit::fp8, gse, mx, nf4 (NF4 and bitsandbytes' FP4), nvfp4, qeft, owq
// (with lowbit::weak, what those two share); lowbit::io, the file containers; lowbit::kernels, the
// kernel tables; lowbit::cpu, the CPU's features. Every function reports failure by throwing
// lowbit::Error (lowbit/error.hpp).
#pragma once
#include "lowbit/cpu.hpp"
#include "lowbit/error.hpp"
#include "lowbit/fp8.hpp"
#include "lowbit/gse.hpp"
#include "lowbit/io.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/mx.hpp"
#include "lowbit/nvfp4.hpp"
#include "lowbit/nf4.hpp"
#include "lowbit/owq.hpp"
#include "lowbit/qeft.hpp"
#include "lowbit/weak.hpp"
