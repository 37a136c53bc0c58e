/* docs/examples/c_gse.c: a stream in 6-bit GSE-INT, groups of 32 sharing a 5-bit exponent, and what the encode met. */
#include <math.h>
#include <stdio.h>

#include "lowbit/c_api.h"

enum { N = 100 }; /* three groups of 32 and a short one */

int main(void) {
  float x[N], y[N];
  int8_t codes[N];
  uint8_t exps[4];
  lowbit_gse_stats stats;
  lowbit_gse_options o = LOWBIT_GSE_OPTIONS_INIT; /* 8 bits, groups of 32, 5-bit exponent (bias 15), rne */
  o.format.bits = 6;
  for (int i = 0; i < N; ++i) x[i] = sinf((float)i) * (float)(i + 1);
  size_t groups = lowbit_gse_groups(N, o.format.group); /* 4 exponent fields */
  if (lowbit_gse_encode_f32(N, x, codes, N, exps, groups, &stats, &o) != LOWBIT_OK ||
      lowbit_gse_decode_f32(N, codes, exps, y, N, &o) != LOWBIT_OK) {
    fprintf(stderr, "%s\n", lowbit_last_error());
    return 1;
  }
  float worst = 0.0f;
  for (int i = 0; i < N; ++i) worst = fmaxf(worst, fabsf(y[i] - x[i]));
  printf("%llu groups, %llu saturated elements, largest error %g\n", (unsigned long long)stats.groups,
         (unsigned long long)stats.saturated, worst);
  return stats.groups == 4 && worst <= 100.0f / 16.0f ? 0 : 1; /* a step of the largest group: 2^-4 of it */
}
