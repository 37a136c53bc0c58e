/* docs/examples/c_nf4.c: a weight in NF4 with QLoRA's double quantization, as bitsandbytes stores it. */
#include <math.h>
#include <stdio.h>

#include "lowbit/c_api.h"

enum { N = 64 * 512 }; /* 512 blocks of 64: two nested blocks of 256 absmax values */

static float w[N], back[N], absmax[N / 64], absmax_back[N / 64], nested[2];
static uint8_t packed[N / 2], absmax_codes[N / 64];

int main(void) {
  lowbit_nf4_options o = LOWBIT_NF4_OPTIONS_INIT; /* NF4, blocks of 64, profile "lowbit" */
  o.profile = "bnb-cuda";                         /* bit for bit what bitsandbytes' CUDA kernels write */
  lowbit_nf4_dq_options dq = LOWBIT_NF4_DQ_OPTIONS_INIT;
  dq.profile = o.profile;
  float offset;
  for (int i = 0; i < N; ++i) w[i] = 0.02f * sinf(0.37f * (float)i) * (1.0f + (float)(i % 5000) / 5000.0f);

  const size_t blocks = lowbit_nf4_blocks(N, o.block); /* 512 absmax values, lowbit_nf4_nested_blocks: 2 */
  if (lowbit_nf4_encode_f32(N, w, packed, lowbit_nf4_packed_bytes(N), absmax, blocks, &o) != LOWBIT_OK ||
      lowbit_nf4_double_quantize(blocks, absmax, absmax_codes, blocks, nested, 2, &offset, &dq) != LOWBIT_OK ||
      lowbit_nf4_double_dequantize(blocks, absmax_codes, nested, offset, absmax_back, blocks, &dq) != LOWBIT_OK ||
      lowbit_nf4_decode_f32(N, packed, absmax_back, back, N, &o) != LOWBIT_OK) {
    fprintf(stderr, "%s\n", lowbit_last_error());
    return 1;
  }
  /* Stored: packed (N / 2 bytes), absmax_codes (N / 64 bytes), nested (2 floats) and offset: 4.13 bits a weight. */
  float worst = 0.0f;
  for (int i = 0; i < N; ++i) worst = fmaxf(worst, fabsf(back[i] - w[i]));
  printf("offset %g, nested absmax %g %g, largest error %g\n", offset, nested[0], nested[1], worst);
  return worst < 0.04f * 0.2f ? 0 : 1; /* half NF4's widest gap (0.30 of absmax <= 0.04), and a little */
}
