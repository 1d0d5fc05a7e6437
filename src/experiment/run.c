/* run.c: one experiment end to end (run.h): data -> spectrum -> initial state
 * -> integrator -> metrics at each recorded time -> collapse_time and
 * fitted_slow_rate -> metrics.csv, summary.json, snapshots.h5; checkpoints
 * and resuming (experiment/checkpoints.c); a run that cannot fit in memory
 * refused before it starts; a NaN or Inf anywhere stops it. This file drives
 * the table encoder (free embeddings); an encoder on inputs (`linear`) goes
 * through the same steps in run_encoder.c, which rc_run_config_check and
 * rc_run_execute hand it to. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/memory.h"
#include "experiment/checkpoints.h"
#include "experiment/engine_loop.h"
#include "repcollapse/engine.h"
#include "experiment/run_encoder.h"
#include "repcollapse/fixedpoint.h"
#include "repcollapse/io.h"
#include "repcollapse/report.h"
#include "repcollapse/run.h"
#include "repcollapse/trainer.h"

/* What every observer does: metrics of the state (checked finite), optional
 * snapshot and checkpoint journal record, keep the state. */
typedef struct {
  const rc_dataset *ds;
  const rc_head_params *hp; /* NULL: minimal model */
  rc_metrics_ref ref;
  rc_metrics_options mopt; /* what to compute, threads */
  rc_metrics_row *rows;
  size_t n;
  rc_snapshots *snap;
  run_checkpoints *ck;
  rc_state *view;     /* scratch with x replaced by P x (head models) */
  rc_head_ws *ws;
  rc_state *last;     /* copy of the last particle state */
  rc_reduced *red;    /* term models: their reduced system */
  double *last_u;
} observer_ctx;

/* Every recorded state and its metrics must be finite: the first NaN or Inf
 * stops the run, named with the time and the step. */
static rc_status check_finite(double t, size_t step, const rc_state *s, const rc_metrics_row *row, rc_error *err) {
  char what[200];
  if (s && rc_describe_non_finite(s->z, s->n, s->k, s->d, "the embedding", what, sizeof what))
    return rc_error_set(err, RC_ENUMERIC, "non-finite state at t = %g (step %zu): %s", t, step, what);
  if (s && s->P)
    for (size_t q = 0; q < s->d * s->d; q++)
      if (!isfinite(s->P[q]))
        return rc_error_set(err, RC_ENUMERIC, "non-finite state at t = %g (step %zu): head P[%zu][%zu] is %g", t, step,
                            q / s->d, q % s->d, s->P[q]);
  for (int m = 0; m < RC_N_METRICS; m++)
    if (row->valid[m] && !isfinite(row->value[m]))
      return rc_error_set(err, RC_ENUMERIC, "non-finite metric at t = %g (step %zu): %s is %g", t, step,
                          rc_metric_names[m], row->value[m]);
  return RC_OK;
}

static rc_status observe(double t, size_t step, const rc_state *s, void *vctx, rc_error *err) {
  observer_ctx *c = vctx;
  if (c->hp && s->P) {
    /* with a head, sample-side metrics use P x_i (docs/model.md section 3) */
    rc_head_project_samples(c->ds, c->hp, s->z, s->d, c->view->x);
    memcpy(c->view->y, s->y, s->k * s->d * sizeof(double));
    rc_metrics_compute_opt(c->ds, c->view, &c->ref, t, &c->mopt, &c->rows[c->n]);
  } else {
    rc_metrics_compute_opt(c->ds, s, &c->ref, t, &c->mopt, &c->rows[c->n]);
  }
  if (c->hp && (c->mopt.mask >> RC_M_LOSS & 1u)) {
    c->rows[c->n].value[RC_M_LOSS] = rc_head_loss(c->ds, c->hp, s->z, s->d, c->ws);
    c->rows[c->n].valid[RC_M_LOSS] = 1;
  }
  rc_status st = check_finite(t, step, s, &c->rows[c->n], err);
  if (!st && c->snap) st = rc_snapshots_write(c->snap, c->n, t, (long)step, s, err);
  if (!st && c->ck) st = run_checkpoints_record(c->ck, t, step, s, err);
  if (st) return st;
  if (c->last) rc_state_copy(c->last, s);
  c->n++;
  return RC_OK;
}

static rc_status observe_reduced(double t, const double *u, void *vctx, rc_error *err) {
  observer_ctx *c = vctx;
  rc_reduced_metrics(c->red, u, &c->ref, t, &c->rows[c->n]);
  for (int m = 0; m < RC_N_METRICS; m++)
    if (!(c->mopt.mask >> m & 1u)) {
      c->rows[c->n].value[m] = NAN;
      c->rows[c->n].valid[m] = 0;
    }
  rc_status st = check_finite(t, 0, NULL, &c->rows[c->n], err);
  if (st) return st;
  memcpy(c->last_u, u, rc_reduced_dim(c->red) * sizeof(double));
  c->n++;
  return RC_OK;
}

/* Bytes a run needs besides its data set: the state vectors alive at once
 * (the initial state, the integrator's, the fixed point computed at the end;
 * rk45 adds GSL's twelve work vectors: six stages, y0 and ytmp in the rkf45
 * stepper, y0, yerr, dydt_in and dydt_out in the evolver; a term model's gd
 * adds its vector field and four work arrays). */
static double embedding_bytes(const rc_run_config *cfg, size_t n, size_t k) {
  double vectors = cfg->integrator == RC_INTEGRATOR_RK45 ? 15.0 : 3.0;
  if (!rc_model_is_minimal(&cfg->terms)) vectors += 6.0;
  if (cfg->integrator == RC_INTEGRATOR_REDUCED) vectors = 1.0;
  return vectors * (double)(n + k) * (double)cfg->dim * (double)sizeof(double);
}

static rc_status check_memory(const rc_run_config *cfg, size_t n, size_t k, double data_bytes, rc_error *err) {
  char what[300], a[32], b[32];
  double emb = embedding_bytes(cfg, n, k);
  snprintf(what, sizeof what, "this run (N = %zu samples, K = %zu classes, d = %zu, %s; data set %s, embeddings %s)",
           n, k, cfg->dim, rc_integrator_name(cfg->integrator), rc_format_bytes(data_bytes, a, sizeof a),
           rc_format_bytes(emb, b, sizeof b));
  return rc_memory_check(data_bytes + emb, what, err);
}

static void out_path(char *buf, size_t size, const rc_run_config *cfg, const char *name) {
  snprintf(buf, size, "%s/%s", cfg->out_dir, name);
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The recorded times of a run (explicit, or the default log grid). */
static rc_status run_times(const rc_run_config *cfg, const rc_spectrum *spec, double **grid, size_t *n_times,
                           double *t_end_out, rc_error *err) {
  double t_end = 0.0;
  const double dt = cfg->integrator == RC_INTEGRATOR_GD ? cfg->dt : 0.0;
  rc_status st = rc_run_end_time(cfg, &t_end, err);
  if (st) return st;
  if (cfg->times) {
    for (size_t k = 0; k < cfg->n_times && dt > 0; k++) {
      double m = cfg->times[k] / dt;
      if (fabs(m - (double)llround(m)) > 1e-9 * fmax(1.0, m))
        return rc_error_set(err, RC_EINVAL, "recorded time %g is not a multiple of --dt %g", cfg->times[k], dt);
    }
    *grid = rc_calloc(cfg->n_times, sizeof **grid, "time grid", err);
    if (!*grid) return RC_ENOMEM;
    memcpy(*grid, cfg->times, cfg->n_times * sizeof **grid);
    *n_times = cfg->n_times;
    *t_end_out = cfg->n_times ? cfg->times[cfg->n_times - 1] : 0.0;
    return cfg->n_times ? RC_OK : rc_error_set(err, RC_EINVAL, "no recorded times");
  }
  if (!(t_end > 0)) {
    if (spec->slow_rate > 0) t_end = RC_DEFAULT_T_END_SLOW / spec->slow_rate;
    else return rc_error_set(err, RC_EINVAL, "no --t-end given and the spectrum has no nonzero rate");
    /* term models settle on their own timescales, not the minimal model's: give them at least 500 / eta_x */
    if (!rc_model_is_minimal(&cfg->terms) && t_end < RC_DEFAULT_T_END_HEAD / cfg->model.eta_x)
      t_end = RC_DEFAULT_T_END_HEAD / cfg->model.eta_x;
    if (cfg->t_min > t_end)
      return rc_error_set(err, RC_EINVAL, "--t-min %g is past the default end time %g: give --t-end", cfg->t_min, t_end);
  }
  double t_min = cfg->t_min > 0 ? cfg->t_min : RC_DEFAULT_T_MIN_FAST / spec->fast_rate;
  if (dt > 0 && t_min < dt) t_min = dt;
  *t_end_out = t_end;
  return rc_time_grid(t_min, t_end, cfg->points, dt, grid, n_times, err);
}

/* The initial particle state: embeddings as in docs/model.md section 2, then P. */
static rc_status initial_state(const rc_run_config *cfg, const rc_dataset *ds, int head, rc_state **out,
                               rc_error *err) {
  rc_state *s0 = NULL, *s = NULL;
  rc_status st = rc_state_init(ds, &cfg->init, cfg->dim, &s0, err);
  if (!st && cfg->terms.sphere) /* --sphere: the initial state projected first (docs/model.md section 6.2) */
    rc_sphere_project(s0->z, s0->n + s0->k, s0->d);
  if (st || !head) {
    *out = s0;
    return st;
  }
  st = rc_state_alloc_head(s0->n, s0->k, s0->d, 1, &s, err);
  if (!st) {
    memcpy(s->z, s0->z, (s0->n + s0->k) * s0->d * sizeof(double));
    st = rc_head_init_matrix(s->P, s->d, cfg->head_init, cfg->head_scale, cfg->init.seed + 1, err);
  }
  rc_state_free(s0);
  if (st) {
    rc_state_free(s);
    s = NULL;
  }
  *out = s;
  return st;
}

rc_status rc_run_config_check(const rc_run_config *cfg, rc_error *err) {
  if (cfg->encoder != RC_ENCODER_TABLE) return rc_run_encoder_check(cfg, err);
  if (cfg->dim == 0) return rc_error_set(err, RC_EINVAL, "--dim must be positive");
  if (cfg->dim > 100000) return rc_error_set(err, RC_EINVAL, "--dim %zu is too large (at most 100000)", cfg->dim);
  if (!(cfg->eps > 0 && cfg->eps < 1)) return rc_error_set(err, RC_EINVAL, "--eps must be in (0, 1) (got %g)", cfg->eps);
  if (!rc_train_is_plain(&cfg->train)) { /* driven by the one engine (run_engine below) */
    if (cfg->integrator != RC_INTEGRATOR_GD && cfg->integrator != RC_INTEGRATOR_RK45)
      return rc_error_set(err, RC_EINVAL, "--optimizer %s, --weight-decay, --batch and --ema/--ema-rate run with "
                          "--integrator gd (the discrete optimizers) or rk45 (flow: --weight-decay, --ema-rate), "
                          "not %s", rc_optimizer_name(cfg->train.opt.kind), rc_integrator_name(cfg->integrator));
    if (cfg->precision != RC_PRECISION_F64)
      return rc_error_set(err, RC_EINVAL, "--precision f32 is for plain gd (the engine runs in f64)");
  }
  if (cfg->integrator == RC_INTEGRATOR_GD && !(cfg->dt > 0))
    return rc_error_set(err, RC_EINVAL, "the gd integrator needs --dt > 0");
  double t_end;
  rc_status st_end = rc_run_end_time(cfg, &t_end, err); /* before anything is built or written */
  if (st_end) return st_end;
  if (!(cfg->eta_head > 0) || !isfinite(cfg->eta_head))
    return rc_error_set(err, RC_EINVAL, "--eta-head must be positive (got %g)", cfg->eta_head);
  const int minimal = rc_model_is_minimal(&cfg->terms) && cfg->integrator != RC_INTEGRATOR_REDUCED;
  if (!minimal && cfg->integrator == RC_INTEGRATOR_EXACT)
    return rc_error_set(err, RC_EINVAL, "the exact integrator solves the minimal model only; for model '%s' use %s",
                        cfg->terms.name,
                        rc_model_reduction_exact(&cfg->terms, NULL, 0) ? "rk45, gd or reduced" : "rk45 or gd");
  if (!rc_model_is_classic(&cfg->terms)) { /* the objectives of docs/model.md section 6.2 run through the engine */
    char why[96];
    if (cfg->integrator == RC_INTEGRATOR_REDUCED && !rc_model_reduction_exact(&cfg->terms, why, sizeof why))
      return rc_error_set(err, RC_EINVAL,
                          "the reduced integrator does not apply to model '%s': %s, so group means and scatters no "
                          "longer close (use --integrator rk45, or gd --dt h)",
                          cfg->terms.name, why);
  } /* gd and rk45 run them through the engine (its discrete loop, its flow) */
  if (cfg->integrator == RC_INTEGRATOR_REDUCED && cfg->snapshots)
    return rc_error_set(err, RC_EINVAL, "--snapshots records particles: the reduced integrator has none (use rk45 or gd)");
  if (!(cfg->checkpoint_every >= 0) || !isfinite(cfg->checkpoint_every))
    return rc_error_set(err, RC_EINVAL, "--checkpoint-every must be a positive time (got %g)", cfg->checkpoint_every);
  if ((cfg->checkpoint_every > 0 || cfg->resume) && !cfg->out_dir)
    return rc_error_set(err, RC_EINVAL, "checkpoints need an output directory");
  if ((cfg->checkpoint_every > 0 || cfg->resume) && !minimal && rc_train_is_plain(&cfg->train))
    return rc_error_set(err, RC_EINVAL,
                        "checkpoints are implemented for the minimal model's integrators (exact, rk45, gd), not yet for model '%s'",
                        cfg->terms.name);
  if (cfg->integrator == RC_INTEGRATOR_RK45 || cfg->integrator == RC_INTEGRATOR_REDUCED) {
    rc_status st = rc_rk45_check_tolerances(cfg->rtol, cfg->atol, err);
    if (st) return st;
  }
  if (cfg->integrator != RC_INTEGRATOR_GD && cfg->precision != RC_PRECISION_F64)
    return rc_error_set(err, RC_EINVAL, "--precision %s is for gd only (%s always runs in f64)",
                        rc_precision_name(cfg->precision), rc_integrator_name(cfg->integrator));
  if (!minimal && cfg->precision != RC_PRECISION_F64)
    return rc_error_set(err, RC_EINVAL, "--precision f32 is for the minimal model's gd (model '%s' runs in f64)", cfg->terms.name);
  return RC_OK;
}

/* Whether the training settings need the engine's loop: anything but plain
 * full-batch gd. A batch of every observation (B >= M, weight M/M = 1) is
 * full-batch gd, and EMA targets with kappa dt = 1 are plain sg: the plain
 * kernels run them, bit for bit. */
static int needs_engine(const rc_train_settings *t, double M, double dt, int discrete, const rc_model *m) {
  if (!rc_model_is_classic(m)) return 1; /* the objectives of section 6.2: only the engine has them */
  if (rc_train_is_plain(t)) return 0;
  if (!discrete) return 1; /* flow: weight decay or EMA targets (no kappa is plain sg) */
  /* EMA with kappa dt = 1 (--ema 0) copies theta into the targets every step: plain sg */
  const int no_ema = t->ema == RC_EMA_NONE || rc_train_ema_alpha(t, dt) == 1.0;
  return !(t->opt.kind == RC_OPTIMIZER_GD && t->opt.weight_decay == 0 && no_ema && (t->batch == 0 || (double)t->batch >= M));
}

/* The one engine's loop (engine_loop.c) for the table encoder: theta is the
 * particle state's vector z, observed through the same observer as every
 * integrator. */
typedef struct {
  observer_ctx *oc;
  rc_state *s;
} engine_observer_ctx;

static rc_status observe_theta(double t, size_t step, const double *theta, const rc_trainer *tr, void *vctx,
                               rc_error *err) {
  (void)tr;
  engine_observer_ctx *c = vctx;
  memcpy(c->s->z, theta, rc_state_size(c->s) * sizeof(double));
  return observe(t, step, c->s, c->oc, err);
}

static rc_status run_engine(const rc_run_config *cfg, const rc_dataset *ds, const rc_spectrum *spec,
                            const rc_state *init, const double *grid, size_t n_times, observer_ctx *oc,
                            run_checkpoints *ck, rc_error *err) {
  rc_engine_spec es;
  memset(&es, 0, sizeof es);
  es.encoder = RC_ENCODER_TABLE;
  es.ds = ds;
  es.d = cfg->dim;
  es.model = cfg->terms;
  es.rates = cfg->model.rates;
  es.eta_enc = cfg->model.eta_x;
  es.eta_y = cfg->model.eta_y;
  es.eta_head = cfg->eta_head;
  es.decay_enc = es.decay_y = es.decay_head = 1;
  rc_engine *e = NULL;
  rc_state *s = rc_state_clone(init);
  if (!s) return rc_error_set(err, RC_ENOMEM, "state");
  rc_status st = rc_engine_alloc(&es, &e, err);
  if (!st && rc_engine_n_theta(e) != rc_state_size(s))
    st = rc_error_set(err, RC_EINVAL, "internal: the engine's parameters do not match the state");
  if (!st) {
    rc_engine_checkpointing eck;
    run_checkpoints_engine(ck, &eck);
    rc_engine_loop L = {e, &es, &cfg->train, cfg->integrator, cfg->dt, spec->fast_rate, cfg->init.seed,
                        grid, n_times, cfg->progress, cfg->progress_ctx, cfg->rtol, cfg->atol, cfg->max_steps,
                        ck->path[0] ? &eck : NULL};
    engine_observer_ctx c = {oc, s};
    st = rc_engine_loop_run(&L, init->z, observe_theta, &c, err);
  }
  rc_engine_free(e);
  rc_state_free(s);
  return st;
}

rc_status rc_run_execute(const rc_run_config *cfg, rc_run_result **out, rc_error *err) {
  *out = NULL;
  if (cfg->encoder != RC_ENCODER_TABLE) return rc_run_encoder_execute(cfg, out, err);
  double t_start = now_seconds();
  rc_status st0 = rc_run_config_check(cfg, err);
  if (st0) return st0;
  const rc_head_params hp = rc_run_head_params(cfg);
  const int minimal = rc_model_is_minimal(&cfg->terms) && cfg->integrator != RC_INTEGRATOR_REDUCED;
  const int head = rc_model_has_head(&cfg->terms);
  size_t n0, k0;
  double data_bytes;
  rc_status st = rc_data_spec_size(&cfg->data, &n0, &k0, &data_bytes, err);
  if (!st && n0) st = check_memory(cfg, n0, k0, data_bytes, err); /* before anything is allocated */
  if (!st) st = rc_run_check_uniformity(&cfg->terms, n0, cfg->train.batch, err);
  if (st) return st;
  rc_run_result *r = rc_calloc(1, sizeof *r, "run result", err);
  if (!r) return RC_ENOMEM;
  r->has_head = head;
  r->dim = cfg->dim;
  r->predicted_final_min_label_distance = NAN;
  rc_state *init = NULL, *fixed = NULL;
  double *grid = NULL;
  rc_snapshots *snap = NULL;
  run_checkpoints ck;
  memset(&ck, 0, sizeof ck);
  observer_ctx oc;
  memset(&oc, 0, sizeof oc);
  st = rc_data_generate(&cfg->data, &r->ds, err);
  if (!st && cfg->data.observations_file) { /* recorded so that a rerun notices a changed file */
    st = rc_input_hash(cfg->data.observations_file, "observations file", &r->observations_hash, err);
    r->has_observations_hash = !st;
  }
  if (!st) st = check_memory(cfg, r->ds->n_samples, r->ds->n_classes, 0.0, err); /* an observations file's sizes */
  if (!st) st = rc_components_compute(r->ds, &r->comp, err);
  if (!st) st = rc_spectrum_compute(r->ds, &cfg->model, RC_SPECTRUM_AUTO, &r->spec, err);
  if (!st) st = initial_state(cfg, r->ds, head, &init, err);
  size_t n_times = 0;
  if (!st) st = run_times(cfg, r->spec, &grid, &n_times, &r->t_end, err);
  if (!st) {
    r->rows = rc_calloc(n_times, sizeof *r->rows, "metrics", err);
    if (!r->rows) st = RC_ENOMEM;
  }
  if (!st && !rc_train_is_plain(&cfg->train)) { /* every refusal of 6.1 before anything is created */
    int sg = 0;
    for (size_t q = 0; q < cfg->terms.n_terms; q++) sg |= cfg->terms.terms[q].stop_gradient;
    st = rc_train_check_data(&cfg->train, r->ds, cfg->model.rates, cfg->model.eta_x, cfg->model.eta_y,
                             cfg->integrator == RC_INTEGRATOR_GD, cfg->dt, r->spec->fast_rate, sg, err);
  }
  const int engine = !st && needs_engine(&cfg->train, r->ds->total, cfg->dt, cfg->integrator == RC_INTEGRATOR_GD, &cfg->terms);
  if (!st && !minimal && !engine && (cfg->checkpoint_every > 0 || cfg->resume)) /* e.g. --ema 0: plain sg's integrator */
    st = rc_error_set(err, RC_EINVAL, "checkpoints are implemented for the minimal model's integrators and the one "
                      "engine's runs, not yet for model '%s' on plain %s", cfg->terms.name,
                      rc_integrator_name(cfg->integrator));
  if (!st && cfg->out_dir) st = rc_mkdir_p(cfg->out_dir, err);
  /* one writer per directory, from before the first file is touched to the end */
  rc_dir_lock *lock = NULL;
  if (!st && cfg->out_dir) st = rc_dir_lock_acquire(cfg->out_dir, &lock, err);
  char path[4200];
  static const char *const outputs[] = {"metrics.csv", "summary.json", "snapshots.h5"};
  for (size_t q = 0; !st && cfg->out_dir && q < 3; q++) { /* temporaries of a run killed while writing */
    out_path(path, sizeof path, cfg, outputs[q]);
    rc_atomic_remove_stale(path);
  }
  if (!st && cfg->out_dir && cfg->snapshots) {
    out_path(path, sizeof path, cfg, "snapshots.h5");
    st = rc_snapshots_open(path, n_times, r->ds->n_samples, r->ds->n_classes, cfg->dim, head,
                           rc_integrator_name(cfg->integrator), &snap, err);
    if (!st) st = rc_snapshots_write_data(snap, r->ds, err); /* the observations, so a plot can colour by class */
  }
  oc.ds = r->ds;
  oc.hp = minimal ? NULL : &hp;
  oc.rows = r->rows;
  oc.snap = snap;
  /* min_label_distance always: collapse_time and fitted_slow_rate are computed from it */
  oc.mopt.mask = (cfg->metrics ? cfg->metrics : RC_METRICS_ALL) | 1u << RC_M_MIN_LABEL_DISTANCE;
  oc.mopt.threads = cfg->threads;
  /* the references of t = 0, with the clean samples' sample-side embeddings (P x_i with a head) */
  if (init) oc.ref = rc_metrics_reference_data(r->ds, init, head ? init->P : NULL);
  if (!st && (minimal || engine)) {
    oc.ck = &ck;
    st = run_checkpoints_open(&ck, cfg, r->ds, init, grid, n_times, r->rows, &oc.n, snap, t_start, engine, err);
  }
  if (!st) {
    rc_integrate_config ic = {cfg->integrator, grid, n_times, cfg->dt, cfg->rtol, cfg->atol, cfg->exact_method,
                              cfg->progress, cfg->progress_ctx, cfg->precision, cfg->threads, cfg->max_steps};
    if (!minimal) st = rc_reduced_alloc(r->ds, &hp, cfg->dim, &oc.red, err);
    if (!st && !minimal) {
      r->reduced_dim = rc_reduced_dim(oc.red);
      oc.last_u = r->final_reduced = rc_calloc(r->reduced_dim, sizeof(double), "reduced state", err);
      if (!oc.last_u) st = RC_ENOMEM;
    }
    if (!st && cfg->integrator == RC_INTEGRATOR_REDUCED) {
      rc_reduced_from_state(oc.red, init, oc.last_u);
      double *u0 = malloc(r->reduced_dim * sizeof *u0);
      if (!u0) st = rc_error_set(err, RC_ENOMEM, "reduced state");
      else {
        memcpy(u0, oc.last_u, r->reduced_dim * sizeof *u0);
        st = rc_integrate_reduced(oc.red, u0, &ic, observe_reduced, &oc, err);
        free(u0);
      }
    } else if (!st) {
      oc.last = r->final_state = rc_state_clone(init);
      if (!oc.last) st = rc_error_set(err, RC_ENOMEM, "state");
      if (!st && !minimal) {
        st = rc_state_alloc(r->ds->n_samples, r->ds->n_classes, cfg->dim, &oc.view, err);
        if (!st) st = rc_head_ws_alloc(r->ds->n_samples, r->ds->n_classes, cfg->dim, &oc.ws, err);
      }
      if (!st && engine) {
        r->resumed = ck.loaded != NULL;
        r->resumed_from_t = ck.loaded ? ck.from.t : 0.0;
        st = run_engine(cfg, r->ds, r->spec, init, grid, n_times, &oc, &ck, err);
      } else if (!st && minimal) {
        rc_checkpointing cking = {ck.every, run_checkpoints_save, &ck, ck.loaded ? &ck.from : NULL};
        r->resumed = ck.loaded != NULL;
        r->resumed_from_t = ck.loaded ? ck.from.t : 0.0;
        st = rc_integrate_resumable(r->ds, &cfg->model, r->spec, init, &ic, &cking, observe, &oc, err);
      } else if (!st) {
        st = rc_integrate_head(r->ds, &hp, init, &ic, observe, &oc, err);
      }
      if (!st && !minimal) rc_reduced_from_state(oc.red, oc.last, r->final_reduced);
    }
    r->n_rows = oc.n;
  }
  if (!st) { /* summaries */
    double *t = malloc((r->n_rows + 1) * sizeof *t), *D = malloc((r->n_rows + 1) * sizeof *D);
    if (!t || !D) st = rc_error_set(err, RC_ENOMEM, "summaries");
    else {
      /* collapse is read on the distance --collapse-metric names (D by default, section 6.0) */
      const int col = rc_collapse_metric_column(cfg->collapse_metric);
      for (size_t k = 0; k < r->n_rows; k++) {
        t[k] = r->rows[k].t;
        D[k] = r->rows[k].valid[col] ? r->rows[k].value[col] : NAN;
      }
      r->collapse_time = rc_collapse_time(t, D, r->n_rows, cfg->eps, &r->has_collapse_time);
      if (minimal && cfg->integrator == RC_INTEGRATOR_EXACT && r->n_rows &&
          cfg->collapse_metric == RC_COLLAPSE_MIN_LABEL_DISTANCE) {
        /* exact: from the labels' exact trajectory of D, not the recorded times (a scale-free
         * --collapse-metric is read on the recorded times, as every other integrator does) */
        rc_exact *e = NULL;
        double t_min = cfg->t_min > 0 ? cfg->t_min : 1e-2 / r->spec->fast_rate;
        st = rc_exact_alloc(r->ds, &cfg->model, init, cfg->exact_method, &e, err);
        if (!st) st = rc_exact_collapse_time(e, t_min, r->rows[r->n_rows - 1].t, cfg->eps, &r->collapse_time,
                                             &r->has_collapse_time, err);
        rc_exact_free(e);
        r->collapse_time_exact = 1;
      }
      double t_fit = r->spec->next_rate > 0 ? 5.0 / r->spec->next_rate : 0.0;
      r->fitted_slow_rate = rc_fitted_decay_rate(t, D, r->n_rows, t_fit, &r->has_fitted_slow_rate);
    }
    free(t);
    free(D);
  }
  if (!st && r->final_state && oc.ws &&
      (rc_model_has_kind(&cfg->terms, RC_TERM_COS) || rc_model_has_kind(&cfg->terms, RC_TERM_UNIFORMITY))) {
    (void)rc_head_loss(r->ds, &hp, r->final_state->z, cfg->dim, oc.ws); /* counts the zero-norm vectors */
    r->has_zero_norm = 1;
    r->zero_norm_vectors = rc_objective_zero_norm(rc_head_ws_objective(oc.ws));
  }
  if (!st && oc.red) {
    r->final_labels = rc_reduced_labels(oc.red, r->final_reduced);
    r->final_head = rc_reduced_head(oc.red, r->final_reduced);
  } else if (!st) {
    r->final_labels = r->final_state->y;
  }
  if (!st && minimal && !engine) { /* the flow's conserved means (no decay, no noise) */
    st = rc_fixed_point_state(r->ds, &cfg->model, init, &fixed, err);
    if (!st) r->predicted_final_min_label_distance = rc_min_label_distance(fixed);
  }
  r->wall_seconds = now_seconds() - t_start + ck.wall_before;
  /* Outputs in the order snapshots.h5, metrics.csv, summary.json, after
   * removing a former run's summary.json: a directory with a summary.json
   * holds the complete outputs of the run it describes. */
  if (!st && cfg->out_dir) {
    out_path(path, sizeof path, cfg, "summary.json");
    unlink(path);
  }
  if (snap) {
    rc_status s2 = rc_snapshots_close(snap, st == RC_OK, st == RC_OK ? err : NULL);
    if (!st) st = s2;
  }
  if (!st && cfg->out_dir) {
    out_path(path, sizeof path, cfg, "metrics.csv");
    st = rc_write_metrics_csv(path, r->rows, r->n_rows, err);
    if (!st) {
      json_t *j = rc_run_summary_json(cfg, r);
      out_path(path, sizeof path, cfg, "summary.json");
      st = j ? rc_json_write_file(j, path, err) : rc_error_set(err, RC_ENOMEM, "summary.json");
      json_decref(j);
    }
  }
  if (minimal || engine) run_checkpoints_close(&ck, st == RC_OK);
  rc_dir_lock_release(lock);
  rc_state_free(oc.view);
  rc_head_ws_free(oc.ws);
  rc_reduced_free(oc.red);
  free(grid);
  rc_state_free(init);
  rc_state_free(fixed);
  if (st) {
    rc_run_result_free(r);
    return st;
  }
  *out = r;
  return RC_OK;
}
