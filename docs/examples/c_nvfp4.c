/* docs/examples/c_nvfp4.c: a 2 x 32 matrix in NVFP4, packed two codes a byte as cuBLAS reads them. */
#include <stdio.h>

#include "lowbit/c_api.h"

int main(void) {
  float x[64], y[64], amax;
  uint8_t codes[32], scales[4]; /* two rows of two blocks of 16 */
  lowbit_nvfp4_options o = LOWBIT_NVFP4_OPTIONS_INIT; /* 1x16 blocks, linear scales, rne, one code a byte */
  o.cols = 32;
  o.packed = 1;
  for (int i = 0; i < 64; ++i) x[i] = (float)(i % 13) - 6.0f; /* -6 .. 6 */
  if (lowbit_nvfp4_encode_f32(64, x, codes, lowbit_nvfp4_code_bytes(64, &o), scales, lowbit_nvfp4_scales(64, &o), &amax,
                              &o) != LOWBIT_OK ||
      lowbit_nvfp4_decode_f32(64, codes, scales, amax, y, 64, &o) != LOWBIT_OK) {
    fprintf(stderr, "%s\n", lowbit_last_error());
    return 1;
  }
  printf("amax %g, scales 0x%02X 0x%02X, byte 0 = 0x%02X: %g -> %g, %g -> %g\n", amax, scales[0], scales[1], codes[0], x[0],
         y[0], x[1], y[1]);
  /* amax 6: scale 448 (0x7E), x * 1 rounded to E2M1: -6 is code 0xF, -5 ties to even, -4 (0xE), low nibble first. */
  return amax == 6.0f && scales[0] == 0x7E && codes[0] == 0xEF && y[0] == -6.0f && y[1] == -4.0f ? 0 : 1;
}
