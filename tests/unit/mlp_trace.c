/* mlp_trace.c: one evaluation of the engine's field with the `mlp` encoder on
 * a small generated data set, printed as one JSON object with everything
 * PyTorch needs to redo it (tests/reference/mlp_ref.py): the observations,
 * the inputs, the blocks and their rates, theta, the field F(theta), the loss,
 * and the encoder's own forward X and backward g for a given G.
 *
 * usage: mlp_trace ACTIVATION RATES TERMS
 *   e.g. mlp_trace tanh degree siam-sg */
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
  if (argc < 4) {
    fprintf(stderr, "usage: mlp_trace ACTIVATION RATES TERMS\n");
    return 2;
  }
  rc_error err;
  rc_engine_spec sp;
  memset(&sp, 0, sizeof sp);
  if (rc_parse_activation(argv[1], &sp.activation, &err) || rc_parse_rate_scheme(argv[2], &sp.rates, &err) ||
      (rc_model_parse_terms(argv[3], &sp.model, &err) && rc_model_preset(argv[3], &sp.model, &err))) {
    fprintf(stderr, "mlp_trace: %s\n", err.msg);
    return 2;
  }
  /* data: K = 3, 4 clean samples per class, frustrated pairs 0-1 (2) and 1-2 (1): uneven weights */
  size_t sizes[1] = {4};
  rc_pair_count pc[2] = {{0, 1, 2}, {1, 2, 1}};
  rc_data_spec ds_spec;
  memset(&ds_spec, 0, sizeof ds_spec);
  ds_spec.n_classes = 3;
  ds_spec.class_sizes = sizes;
  ds_spec.n_class_sizes = 1;
  ds_spec.pairs = pc;
  ds_spec.n_pairs = 2;
  ds_spec.data_seed = 3;
  rc_dataset *ds = NULL;
  if (rc_data_generate(&ds_spec, &ds, &err)) return 1;
  const size_t N = ds->n_samples, K = ds->n_classes, d = 3, D = 7, h = 5;
  double *U = malloc(N * D * sizeof *U);
  for (size_t k = 0; k < N * D; k++) U[k] = sin(1.0 + 0.7 * (double)k) * 0.8;
  sp.encoder = RC_ENCODER_MLP;
  sp.ds = ds;
  sp.U = U;
  sp.D = D;
  sp.d = d;
  sp.hidden = h;
  sp.eta_enc = 0.8;
  sp.eta_y = 1.2;
  sp.eta_head = 0.5;
  sp.decay_enc = sp.decay_y = sp.decay_head = 1;
  rc_engine *e = NULL;
  if (rc_engine_alloc(&sp, &e, &err)) {
    fprintf(stderr, "mlp_trace: %s\n", err.msg);
    return 1;
  }
  const size_t n = rc_engine_n_theta(e), ne = rc_engine_encoder_size(e);
  const rc_param_block *blk;
  const size_t nb = rc_engine_blocks(e, &blk);
  double *theta = calloc(n, sizeof *theta), *F = calloc(n, sizeof *F);
  for (size_t k = 0; k < n; k++) theta[k] = 0.6 * cos(0.3 + 1.3 * (double)k);
  for (size_t b = 0; b < nb; b++)
    if (!strcmp(blk[b].name, "P"))
      for (size_t q = 0; q < d; q++) theta[blk[b].offset + q * d + q] += 1.0;
  const double loss = rc_engine_field(e, theta, NULL, NULL, F);
  /* the encoder alone: X = enc(theta), g = backward(G) for a fixed G */
  const rc_encoder *enc = rc_engine_encoder(e);
  double *X = calloc(N * d, sizeof *X), *G = calloc(N * d, sizeof *G), *g = calloc(ne, sizeof *g);
  for (size_t k = 0; k < N * d; k++) G[k] = cos(0.5 + 0.9 * (double)k);
  enc->method->forward(enc, theta, X);
  enc->method->backward(enc, theta, G, g);
  json_t *j = json_object();
  json_object_set_new(j, "N", json_integer((json_int_t)N));
  json_object_set_new(j, "K", json_integer((json_int_t)K));
  json_object_set_new(j, "d", json_integer((json_int_t)d));
  json_object_set_new(j, "D", json_integer((json_int_t)D));
  json_object_set_new(j, "h", json_integer((json_int_t)h));
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
  json_object_set_new(j, "U", arr(U, N * D));
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
  json_object_set_new(j, "theta", arr(theta, n));
  json_object_set_new(j, "F", arr(F, n));
  json_object_set_new(j, "loss", json_real(loss));
  json_object_set_new(j, "X", arr(X, N * d));
  json_object_set_new(j, "G", arr(G, N * d));
  json_object_set_new(j, "g", arr(g, ne));
  json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(17));
  putchar('\n');
  json_decref(j);
  rc_engine_free(e);
  free(theta);
  free(F);
  free(X);
  free(G);
  free(g);
  free(U);
  rc_dataset_free(ds);
  return 0;
}
