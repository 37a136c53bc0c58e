/* docs/examples/c_mx.c: one block of 32 values in MXFP4 (E2M1 elements, a shared E8M0 scale). */
#include <stdio.h>

#include "lowbit/c_api.h"

int main(void) {
  float x[32], y[32];
  uint8_t codes[32], scale;
  lowbit_mx_options o = LOWBIT_MX_OPTIONS_INIT; /* MXFP8 E4M3, rna (microxcaling's 'nearest') */
  o.format = LOWBIT_MX_FP4_E2M1;
  for (int i = 0; i < 32; ++i) x[i] = (float)(i - 16) / 4.0f; /* -4 .. 3.75 */
  if (lowbit_mx_encode_f32(32, x, codes, 32, &scale, lowbit_mx_blocks(32), NULL, &o) != LOWBIT_OK ||
      lowbit_mx_decode_f32(32, codes, &scale, y, 32, &o) != LOWBIT_OK) {
    fprintf(stderr, "%s\n", lowbit_last_error());
    return 1;
  }
  printf("scale 2^%d; %g -> 0x%X -> %g, %g -> 0x%X -> %g\n", scale - 127, x[0], codes[0], y[0], x[5], codes[5], y[5]);
  return scale == 127 && codes[0] == 0xE && y[0] == -4.0f ? 0 : 1; /* amax 4: scale 2^(2 - 2), -4 = 0b1110 */
}
