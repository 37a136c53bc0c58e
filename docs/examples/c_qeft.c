/* docs/examples/c_qeft.c: a layer packed as QEFT (4-bit groups, two weak columns kept in fp16), then y = W x. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "lowbit/c_api.h"

enum { OC = 64, IC = 256, K = 2 };

int main(void) {
  static float w[OC * IC], x[IC], x_layout[IC], y[OC];
  const int32_t weak[K] = {3, 100}; /* the most sensitive input columns: ascending */
  lowbit_qeft_pack_options o = LOWBIT_QEFT_PACK_OPTIONS_INIT; /* groups of 128, asymmetric, mse tuning */
  lowbit_qeft_sizes size;
  for (int i = 0; i < OC * IC; ++i) w[i] = sinf(1.7f * (float)i); /* in [-1, 1] ... */
  for (int r = 0; r < OC; ++r) { /* ... but for two outlier columns */
    w[r * IC + weak[0]] *= 30.0f;
    w[r * IC + weak[1]] *= 30.0f;
  }
  for (int j = 0; j < IC; ++j) x[j] = cosf(2.3f * (float)j);
  if (lowbit_qeft_buffer_sizes(OC, IC, K, &o, &size) != LOWBIT_OK) {
    fprintf(stderr, "%s\n", lowbit_last_error());
    return 1;
  }
  int16_t* qweight = malloc(size.qweight * sizeof *qweight);
  uint16_t* scales = malloc(size.scales * sizeof *scales);
  uint16_t* zeros = malloc(size.scales * sizeof *zeros);
  uint16_t* oweight = malloc(size.oweight * sizeof *oweight);
  /* The layout puts the weak columns last: x is reordered the same way. */
  for (int j = 0, q = 0; j < IC; ++j)
    if (j != weak[0] && j != weak[1]) x_layout[q++] = x[j];
  x_layout[IC - 2] = x[weak[0]];
  x_layout[IC - 1] = x[weak[1]];
  const lowbit_qeft_matrix m = {OC, IC, K, size.group, qweight, scales, zeros, oweight};
  int ok = qweight && scales && zeros && oweight &&
           lowbit_qeft_pack(OC, IC, w, K, weak, qweight, size.qweight, scales, size.scales, zeros, size.scales, oweight,
                            size.oweight, &o) == LOWBIT_OK &&
           lowbit_qeft_matvec(&m, x_layout, y, OC) == LOWBIT_OK;
  if (!ok) fprintf(stderr, "%s\n", lowbit_last_error());
  double error = 0.0, norm = 0.0; /* against the f32 weights */
  for (int r = 0; ok && r < OC; ++r) {
    double exact = 0.0;
    for (int j = 0; j < IC; ++j) exact += (double)w[r * IC + j] * x[j];
    error += (y[r] - exact) * (y[r] - exact);
    norm += exact * exact;
  }
  printf("y[0] = %g, relative error %.3f\n", y[0], sqrt(error / norm));
  free(qweight);
  free(scales);
  free(zeros);
  free(oweight);
  return ok && error < 0.01 * norm ? 0 : 1; /* under 0.1: 4-bit groups of uniform weights give about 0.06 */
}
