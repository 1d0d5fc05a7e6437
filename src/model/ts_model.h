/* ts_model.h (private): the teacher-student model's buffers (teacher.h),
 * shared by its vector field and its initialisation. */
#ifndef RC_TS_MODEL_H
#define RC_TS_MODEL_H

#include "model/head_terms.h"
#include "repcollapse/teacher.h"

struct rc_ts_model {
  const rc_ts_data *data;
  rc_ts_params p;
  size_t N, D, K, d;
  int head;
  rc_rows rows;
  double *X, *G, *gy, *gP; /* X = U W^T (N x d), dL/dX, dL/dY, dL/dP */
  double *rate_x, *rate_y; /* per-sample and per-label factors: -eta (M / weight, or 1) */
  double *dz;              /* scratch of the state size (gd) */
  rc_head_ws *ws;
  float *Uf, *Wf, *Xf, *Gf, *dWf; /* single-precision copies (f32) */
};

/* name of quantity q of a state (W[a][k], a label coordinate, P[a][b]) */
void rc_ts_describe(const rc_ts_model *m, size_t q, char *buf, size_t n);

#endif
