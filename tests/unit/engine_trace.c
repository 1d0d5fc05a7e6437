/* engine_trace.c: runs one optimizer through the engine (trainer.h) on a small
 * generated data set and prints, as one JSON object, everything PyTorch needs
 * to redo it (tests/reference/optim_ref.py --engine): the observations, the
 * inputs of the linear encoder, the blocks and their rates, the initial
 * parameters and theta after every step.
 *
 * usage: engine_trace OPTIMIZER ENCODER TERMS STEPS DT W [RATES]
 *   e.g. engine_trace adam linear siam-sg 40 0.05 0.01 uniform */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "repcollapse/repcollapse.h"
#include "repcollapse/trainer.h"

static json_t *arr(const double *v, size_t n) {
  json_t *a = json_array();
  for (size_t k = 0; k < n; k++) json_array_append_new(a, json_real(v[k]));
  return a;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: engine_trace OPTIMIZER ENCODER TERMS STEPS DT W [RATES]\n");
    return 2;
  }
  rc_error err;
  rc_train_settings t = rc_train_settings_default();
  rc_encoder_kind enc;
  if (rc_parse_optimizer(argv[1], &t.opt.kind, &err) || rc_parse_encoder(argv[2], &enc, &err)) {
    fprintf(stderr, "engine_trace: %s\n", err.msg);
    return 2;
  }
  int steps = atoi(argv[4]);
  double dt = atof(argv[5]);
  t.opt.weight_decay = atof(argv[6]);
  t.opt.momentum = 0.6;
  rc_rate_scheme rates = RC_RATES_UNIFORM;
  if (argc > 7 && rc_parse_rate_scheme(argv[7], &rates, &err)) return 2;
  /* data: K = 2, 5 clean samples per class, 2 frustrated */
  size_t sizes[1] = {5};
  rc_pair_count pc = {0, 1, 2};
  rc_data_spec ds_spec;
  memset(&ds_spec, 0, sizeof ds_spec);
  ds_spec.n_classes = 2;
  ds_spec.class_sizes = sizes;
  ds_spec.n_class_sizes = 1;
  ds_spec.pairs = &pc;
  ds_spec.n_pairs = 1;
  ds_spec.data_seed = 1;
  rc_dataset *ds = NULL;
  if (rc_data_generate(&ds_spec, &ds, &err)) return 1;
  const size_t N = ds->n_samples, K = ds->n_classes, d = 3, D = 16;
  double *U = malloc(N * D * sizeof *U);
  for (size_t k = 0; k < N * D; k++) U[k] = sin(1.0 + 0.7 * (double)k) * 0.5;
  rc_engine_spec sp;
  memset(&sp, 0, sizeof sp);
  sp.encoder = enc;
  sp.ds = ds;
  sp.U = enc == RC_ENCODER_LINEAR ? U : NULL;
  sp.D = enc == RC_ENCODER_LINEAR ? D : 0;
  sp.d = d;
  if (rc_model_parse_terms(argv[3], &sp.model, &err) && rc_model_preset(argv[3], &sp.model, &err)) {
    fprintf(stderr, "engine_trace: %s\n", err.msg);
    return 2;
  }
  sp.rates = rates;
  sp.eta_enc = 0.8;
  sp.eta_y = 1.2;
  sp.eta_head = 0.5;
  sp.decay_enc = sp.decay_y = sp.decay_head = 1;
  rc_engine *e = NULL;
  if (rc_engine_alloc(&sp, &e, &err)) {
    fprintf(stderr, "engine_trace: %s\n", err.msg);
    return 1;
  }
  size_t n = rc_engine_n_theta(e);
  const rc_param_block *blk;
  size_t nb = rc_engine_blocks(e, &blk);
  double *theta = calloc(n, sizeof *theta);
  for (size_t k = 0; k < n; k++) theta[k] = 0.6 * cos(0.3 + 1.3 * (double)k);
  if (nb > 2)
    for (size_t q = 0; q < d; q++) theta[blk[2].offset + q * d + q] += 1.0;
  rc_trainer *tr = NULL;
  if (rc_trainer_alloc(e, &sp, &t, 1, dt, 1e-6, 1, theta, &tr, &err)) {
    fprintf(stderr, "engine_trace: %s\n", err.msg);
    return 1;
  }
  json_t *j = json_object();
  json_object_set_new(j, "N", json_integer((json_int_t)N));
  json_object_set_new(j, "K", json_integer((json_int_t)K));
  json_object_set_new(j, "d", json_integer((json_int_t)d));
  json_object_set_new(j, "D", json_integer((json_int_t)(enc == RC_ENCODER_LINEAR ? D : 0)));
  json_t *obs = json_array();
  for (size_t i = 0; i < N; i++)
    for (size_t q = ds->row_ptr[i]; q < ds->row_ptr[i + 1]; q++) {
      json_t *o = json_array();
      json_array_append_new(o, json_integer((json_int_t)i));
      json_array_append_new(o, json_integer((json_int_t)ds->labels[q]));
      json_array_append_new(o, json_real(ds->counts[q]));
      json_array_append_new(obs, o);
    }
  json_object_set_new(j, "observations", obs);
  if (enc == RC_ENCODER_LINEAR) json_object_set_new(j, "U", arr(U, N * D));
  json_t *bl = json_array();
  for (size_t b = 0; b < nb; b++) {
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(blk[b].name));
    json_object_set_new(o, "offset", json_integer((json_int_t)blk[b].offset));
    json_object_set_new(o, "len", json_integer((json_int_t)blk[b].len));
    json_object_set_new(o, "eta", json_real(blk[b].eta));
    json_array_append_new(bl, o);
  }
  json_object_set_new(j, "blocks", bl);
  json_object_set_new(j, "theta0", arr(theta, n));
  json_t *traj = json_array();
  for (int s = 0; s < steps; s++) {
    if (rc_trainer_step(tr, theta, NULL, &err)) {
      fprintf(stderr, "engine_trace: %s\n", err.msg);
      return 1;
    }
    json_array_append_new(traj, arr(theta, n));
  }
  json_object_set_new(j, "trajectory", traj);
  json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(17));
  putchar('\n');
  json_decref(j);
  rc_trainer_free(tr);
  rc_engine_free(e);
  free(theta);
  free(U);
  rc_dataset_free(ds);
  return 0;
}
