// PLACEHOLDER until the neon kernel lands: forwards to the reference.
#include "lowbit/optimized/qeft_impls.hpp"
#include "lowbit/reference/weak.hpp"
namespace lowbit::neon {
const QeftImpl kQeftNeon{"neon", 8, [] { return true; }, ref::qeft_matvec_ref};
}
