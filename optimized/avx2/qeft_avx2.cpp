// PLACEHOLDER until the avx2 kernel lands: forwards to the reference.
#include "lowbit/optimized/qeft_impls.hpp"
#include "lowbit/reference/weak.hpp"
namespace lowbit::avx2 {
const QeftImpl kQeftAvx2{"avx2", 8, [] { return true; }, ref::qeft_matvec_ref};
}
