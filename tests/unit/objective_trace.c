/* objective_trace.c: evaluates the engine's objective (docs/model.md section
 * 6.2 kinds included) once on a small generated data set and prints, as one
 * JSON object, everything PyTorch needs to redo it (tests/reference/
 * objectives_ref.py): the observations and their weights, the inputs of the
 * linear encoder, theta, the loss, the rate-scaled field F (uniform rates,
 * eta_x or eta_W 0.8, eta_y 1.2, eta_P 0.5), the zero-norm count, and theta
 * after one gd step of dt 0.1 with the --sphere projection.
 *
 * usage: objective_trace TERMS ENCODER SPHERE ZERO BATCH T TAU
 *   SPHERE, ZERO (sample 2 and label 1 at the origin, table only), BATCH (every other
 *   observation as a minibatch): 0 or 1; T, TAU: --uniformity-t, --temperature */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "repcollapse/repcollapse.h"

static json_t *arr(const double *v, size_t n) {
  json_t *a = json_array();
  for (size_t k = 0; k < n; k++) json_array_append_new(a, json_real(v[k]));
  return a;
}

int main(int argc, char **argv) {
  if (argc < 8) {
    fprintf(stderr, "usage: objective_trace TERMS ENCODER SPHERE ZERO BATCH T TAU\n");
    return 2;
  }
  rc_error err;
  rc_encoder_kind enc;
  if (rc_parse_encoder(argv[2], &enc, &err)) {
    fprintf(stderr, "objective_trace: %s\n", err.msg);
    return 2;
  }
  const int sphere = atoi(argv[3]), zero = atoi(argv[4]), batch = atoi(argv[5]);
  /* data: K = 3 on a ring, 3 clean samples per class, frustrated samples between neighbours */
  size_t sizes[1] = {3};
  rc_data_spec ds_spec;
  memset(&ds_spec, 0, sizeof ds_spec);
  ds_spec.n_classes = 3;
  ds_spec.class_sizes = sizes;
  ds_spec.n_class_sizes = 1;
  ds_spec.has_frustration = 1;
  ds_spec.frustration = 0.25;
  ds_spec.pattern = RC_PATTERN_RING;
  ds_spec.data_seed = 2;
  rc_dataset *ds = NULL;
  if (rc_data_generate(&ds_spec, &ds, &err)) return 1;
  const size_t N = ds->n_samples, K = ds->n_classes, d = 3, D = 5, nnz = ds->row_ptr[N];
  double *U = malloc(N * D * sizeof *U);
  for (size_t k = 0; k < N * D; k++) U[k] = sin(1.0 + 0.7 * (double)k) * 0.9;
  rc_engine_spec sp;
  memset(&sp, 0, sizeof sp);
  sp.encoder = enc;
  sp.ds = ds;
  sp.U = enc == RC_ENCODER_LINEAR ? U : NULL;
  sp.D = enc == RC_ENCODER_LINEAR ? D : 0;
  sp.d = d;
  if (rc_model_parse_terms(argv[1], &sp.model, &err) && rc_model_preset(argv[1], &sp.model, &err)) {
    fprintf(stderr, "objective_trace: %s\n", err.msg);
    return 2;
  }
  sp.model.sphere = sphere;
  sp.model.uniformity_t = atof(argv[6]);
  sp.model.temperature = atof(argv[7]);
  sp.rates = RC_RATES_UNIFORM;
  sp.eta_enc = 0.8;
  sp.eta_y = 1.2;
  sp.eta_head = 0.5;
  rc_engine *e = NULL;
  if (rc_engine_alloc(&sp, &e, &err)) {
    fprintf(stderr, "objective_trace: %s\n", err.msg);
    return 1;
  }
  const size_t n = rc_engine_n_theta(e), n_enc = n - K * d - (rc_model_has_head(&sp.model) ? d * d : 0);
  double *theta = malloc(n * sizeof *theta), *F = malloc(n * sizeof *F);
  for (size_t k = 0; k < n; k++) theta[k] = cos(0.3 + 1.37 * (double)k) * 0.8;
  if (zero && enc == RC_ENCODER_TABLE) {
    memset(theta + 2 * d, 0, d * sizeof *theta);
    memset(theta + n_enc + d, 0, d * sizeof *theta);
  }
  size_t M = (size_t)ds->total, nb = 0;
  size_t *obs = malloc((M + 1) * sizeof *obs);
  for (size_t o = 0; o < M; o += 2) obs[nb++] = o;
  rc_batch b = {nb, obs, ds->total / (double)nb};
  const double loss = rc_engine_field(e, theta, NULL, batch ? &b : NULL, F);
  const double zeros = rc_engine_zero_norm(e);
  double *theta1 = malloc(n * sizeof *theta1);
  for (size_t k = 0; k < n; k++) theta1[k] = theta[k] + 0.1 * F[k];
  rc_engine_project(e, theta1);
  json_t *j = json_object();
  json_object_set_new(j, "N", json_integer((json_int_t)N));
  json_object_set_new(j, "K", json_integer((json_int_t)K));
  json_object_set_new(j, "d", json_integer((json_int_t)d));
  json_object_set_new(j, "D", json_integer((json_int_t)D));
  json_object_set_new(j, "M", json_real(ds->total));
  json_t *rp = json_array(), *lab = json_array();
  for (size_t i = 0; i <= N; i++) json_array_append_new(rp, json_integer((json_int_t)ds->row_ptr[i]));
  for (size_t q = 0; q < nnz; q++) json_array_append_new(lab, json_integer((json_int_t)ds->labels[q]));
  json_object_set_new(j, "row_ptr", rp);
  json_object_set_new(j, "labels", lab);
  json_object_set_new(j, "counts", arr(ds->counts, nnz));
  json_t *bo = json_array();
  for (size_t q = 0; batch && q < nb; q++) json_array_append_new(bo, json_integer((json_int_t)obs[q]));
  json_object_set_new(j, "batch", bo);
  json_object_set_new(j, "batch_weight", json_real(b.weight));
  json_object_set_new(j, "U", arr(U, N * D));
  json_object_set_new(j, "n_enc", json_integer((json_int_t)n_enc));
  json_object_set_new(j, "theta", arr(theta, n));
  json_object_set_new(j, "loss", json_real(loss));
  json_object_set_new(j, "F", arr(F, n));
  json_object_set_new(j, "zero_norm", json_real(zeros));
  json_object_set_new(j, "theta1", arr(theta1, n));
  char *s = json_dumps(j, JSON_COMPACT);
  puts(s);
  free(s);
  json_decref(j);
  free(theta);
  free(theta1);
  free(F);
  free(obs);
  free(U);
  rc_engine_free(e);
  rc_dataset_free(ds);
  return 0;
}
