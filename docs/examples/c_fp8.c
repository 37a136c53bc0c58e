/* docs/examples/c_fp8.c: floats to FP8 E4M3 codes and back, with CUDA's saturating conversion. */
#include <stdio.h>

#include "lowbit/c_api.h" /* cc -std=c11 c_fp8.c $(pkg-config --cflags --libs lowbit) */

int main(void) {
  const float x[4] = {1.0f, -2.5f, 0.3f, 1000.0f};
  uint8_t codes[4];
  float back[4];
  lowbit_fp8_options o = LOWBIT_FP8_OPTIONS_INIT; /* E4M3, "ml_dtypes", round to nearest even */
  o.profile = "cuda-satfinite";                   /* 1000 becomes 448, the largest E4M3 value, not NaN */
  if (lowbit_fp8_encode_f32(4, x, codes, 4, &o) != LOWBIT_OK ||
      lowbit_fp8_decode_f32(4, codes, back, 4, &o) != LOWBIT_OK) {
    fprintf(stderr, "%s\n", lowbit_last_error()); /* names the function and the problem */
    return 1;
  }
  for (int i = 0; i < 4; ++i) printf("%g -> 0x%02X -> %g\n", x[i], codes[i], back[i]);
  return codes[3] == 0x7E && back[3] == 448.0f ? 0 : 1;
}
