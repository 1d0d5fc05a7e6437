/* encoder.c: the registry of encoders (engine.h) and what every encoder shares:
 * its size, blocks, scratch memory and seeded initialisation. Adding an
 * encoder: its file encoder_<name>.c defines an rc_encoder_method; list it
 * here and in rc_encoder_kind. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "core/alloc.h"
#include "repcollapse/engine.h"

extern const rc_encoder_method rc_encoder_table, rc_encoder_linear, rc_encoder_mlp;

const rc_encoder_method *const rc_encoder_methods[RC_N_ENCODERS] = {&rc_encoder_table, &rc_encoder_linear,
                                                                    &rc_encoder_mlp};

rc_status rc_parse_encoder(const char *text, rc_encoder_kind *out, rc_error *err) {
  for (int k = 0; k < RC_N_ENCODERS; k++)
    if (!strcmp(text, rc_encoder_methods[k]->name)) {
      *out = (rc_encoder_kind)k;
      return RC_OK;
    }
  return rc_error_set(err, RC_EINVAL, "unknown encoder '%s' (expected table, linear or mlp)", text);
}

const char *rc_encoder_name(rc_encoder_kind k) {
  return (unsigned)k < RC_N_ENCODERS ? rc_encoder_methods[k]->name : "unknown";
}

rc_status rc_parse_activation(const char *text, rc_activation *out, rc_error *err) {
  if (!strcmp(text, "relu")) *out = RC_ACTIVATION_RELU;
  else if (!strcmp(text, "tanh")) *out = RC_ACTIVATION_TANH;
  else return rc_error_set(err, RC_EINVAL, "unknown activation '%s' (expected relu or tanh)", text);
  return RC_OK;
}

const char *rc_activation_name(rc_activation a) { return a == RC_ACTIVATION_TANH ? "tanh" : "relu"; }

size_t rc_encoder_n_params(const rc_encoder *e) {
  return e->method->n_params_of ? e->method->n_params_of(e) : e->method->n_params(e->n, e->D, e->d);
}

size_t rc_encoder_blocks(const rc_encoder *e, rc_param_block *out) {
  if (e->method->blocks) return e->method->blocks(e, out);
  rc_param_block b = {e->method->block_name, 0, rc_encoder_n_params(e), 0.0, 0};
  out[0] = b;
  return 1;
}

size_t rc_encoder_work_size(const rc_encoder *e) { return e->method->work_size ? e->method->work_size(e) : 0; }

rc_status rc_encoder_setup(rc_encoder *e, rc_encoder_kind kind, size_t n, size_t D, size_t d, const double *U,
                           size_t hidden, rc_activation activation, rc_error *err) {
  memset(e, 0, sizeof *e);
  if ((unsigned)kind >= RC_N_ENCODERS) return rc_error_set(err, RC_EINVAL, "unknown encoder");
  if (d == 0) return rc_error_set(err, RC_EINVAL, "--dim must be positive");
  if (kind != RC_ENCODER_TABLE && (!U || D == 0))
    return rc_error_set(err, RC_EINVAL, "the %s encoder needs inputs (--inputs)", rc_encoder_name(kind));
  if (kind == RC_ENCODER_MLP && hidden == 0)
    return rc_error_set(err, RC_EINVAL, "the mlp encoder needs a positive hidden width (--hidden)");
  if (kind == RC_ENCODER_MLP && activation != RC_ACTIVATION_RELU && activation != RC_ACTIVATION_TANH)
    return rc_error_set(err, RC_EINVAL, "unknown activation");
  e->method = rc_encoder_methods[kind];
  e->n = n;
  e->D = kind == RC_ENCODER_TABLE ? 0 : D;
  e->d = d;
  e->U = kind == RC_ENCODER_TABLE ? NULL : U;
  e->h = kind == RC_ENCODER_MLP ? hidden : 0;
  e->activation = activation;
  const size_t w = rc_encoder_work_size(e);
  if (w) {
    e->work = rc_calloc(w, sizeof(double), "encoder workspace", err);
    if (!e->work) return RC_ENOMEM;
  }
  return RC_OK;
}

void rc_encoder_release(rc_encoder *e) {
  if (!e) return;
  free(e->work);
  e->work = NULL;
}

static double gsl_gauss(void *rng, double sd) { return gsl_ran_gaussian_ziggurat((gsl_rng *)rng, sd); }

rc_status rc_encoder_init(const rc_encoder *e, double sigma, unsigned long seed, double *theta_e, rc_error *err) {
  if (!e->method->init)
    return rc_error_set(err, RC_EINVAL, "the %s encoder has no initialisation of its own", e->method->name);
  if (!(sigma > 0.0) || !isfinite(sigma)) return rc_error_set(err, RC_EINVAL, "sigma must be positive (got %g)", sigma);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  if (!r) return rc_error_set(err, RC_ENOMEM, "cannot allocate the random generator");
  gsl_rng_set(r, seed);
  e->method->init(e, sigma, gsl_gauss, r, theta_e);
  gsl_rng_free(r);
  return RC_OK;
}
