/* phase.c: the phase diagram of docs/model.md section 3: over many initial
 * conditions, the fraction of runs whose classes stay apart (with a Wilson
 * 95% interval) and the median final separation, per model, frustration and
 * head rate ratio eta_head sigma^2 / eta_x; the crossover f_c where the
 * fraction crosses one half. Whether a run stays apart is decided by basins
 * of attraction (both kinds of fixed point can be stable), so this is a
 * statistic over initial conditions, not a threshold of one equation.
 *
 * With apart_decay_max > 0 (docs/model.md section 6.5, the atlas), a run is
 * apart only when, besides the threshold, the collapse metric's decay rate
 * fitted over the last decade of recorded t (t >= t_end / 10) is below
 * apart_decay_max times the minimal model's slow_rate on the same data, so
 * that slowed is not mistaken for prevented; and without --t-end or --steps
 * each run ends at 10 / (the mechanism's own predicted slow rate) where one
 * exists (rc_phase_predicted_slow_rate). Each row then also carries the
 * median collapse time (read on the collapse metric) over the seeds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "repcollapse/experiments.h"
#include "repcollapse/io.h"
#include "repcollapse/report.h"

void rc_wilson_interval(size_t k, size_t n, double *lo, double *hi) {
  if (n == 0) {
    *lo = 0;
    *hi = 1;
    return;
  }
  const double z = 1.959963984540054, p = (double)k / (double)n, nn = (double)n;
  const double den = 1 + z * z / nn, centre = (p + z * z / (2 * nn)) / den;
  const double half = z * sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / den;
  *lo = k == 0 ? 0.0 : fmax(0.0, centre - half); /* exact ends: round-off must not cut the point estimate out */
  *hi = k == n ? 1.0 : fmin(1.0, centre + half);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  if (isnan(x) || isnan(y)) return isnan(x) - isnan(y); /* NaN last */
  return (x > y) - (x < y);
}

/* median of v[0..n) (sorted in place; NaNs sort last, +inf counts) */
static double median(double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double rc_phase_predicted_slow_rate(const rc_run_config *cfg, double slow_rate) {
  if (!rc_model_is_minimal(&cfg->terms) || !(slow_rate > 0)) return NAN; /* term models: no closed form */
  const rc_train_settings *t = &cfg->train;
  double w = t->opt.weight_decay;
  /* decay on a subset of x and y breaks the e^{-wt} factor: no prediction */
  if (w > 0 && !(rc_decay_applies(t->decay_on, "x") && rc_decay_applies(t->decay_on, "y"))) return NAN;
  const double lambda = slow_rate + w;
  if (cfg->integrator != RC_INTEGRATOR_GD) return lambda; /* flow */
  rc_mode_rate m;
  rc_error e;
  rc_optimizer_kind k = t->opt.kind;
  if (k != RC_OPTIMIZER_GD && k != RC_OPTIMIZER_MOMENTUM && k != RC_OPTIMIZER_NESTEROV) return NAN; /* Adam: none */
  if (rc_optimizer_mode_rate(k, t->opt.momentum, cfg->dt, lambda, &m, &e) != RC_OK || !m.stable) return NAN;
  return m.rate; /* a minibatch run is predicted by its full-batch mean */
}

double rc_phase_last_decade_rate(const rc_metrics_row *rows, size_t n_rows, int col) {
  if (n_rows == 0) return NAN;
  const double t_end = rows[n_rows - 1].t;
  double st = 0, sv = 0, stt = 0, stv = 0;
  size_t n = 0;
  for (size_t k = 0; k < n_rows; k++) {
    const double t = rows[k].t, v = rows[k].value[col];
    if (!(t >= t_end / 10) || !rows[k].valid[col] || !(v > 0) || !isfinite(v)) continue;
    const double y = -log(v);
    st += t;
    sv += y;
    stt += t * t;
    stv += t * y;
    n++;
  }
  if (n < 3) return NAN;
  const double den = (double)n * stt - st * st;
  return den > 0 ? ((double)n * stv - st * sv) / den : NAN;
}

rc_status rc_phase_experiment(const rc_run_config *base, const rc_sweep_settings *s, json_t **out, rc_error *err) {
  *out = NULL;
  if (s->n_f == 0) return rc_error_set(err, RC_EINVAL, "no frustration values (--frustration-list)");
  if (s->seeds == 0) return rc_error_set(err, RC_EINVAL, "--seeds must be at least 1");
  if (base->data.observations_file || base->data.n_pairs)
    return rc_error_set(err, RC_EINVAL, "phase needs generated data (--classes, --per-class, a --pattern) to vary f");
  for (size_t k = 1; k < s->n_f; k++)
    if (!(s->f[k] > s->f[k - 1])) return rc_error_set(err, RC_EINVAL, "--frustration-list must be increasing");
  rc_status st0 = rc_experiment_need_classes(&base->data, "phase", err);
  if (st0) return st0;
  const size_t n_models = s->models ? s->n_models : 1, n_ratios = s->ratios ? s->n_ratios : 1;
  json_t *top = json_object(), *rows = json_array(), *cross = json_array();
  json_object_set_new(top, "seeds", json_integer((json_int_t)s->seeds));
  json_object_set_new(top, "apart_threshold", json_real(s->apart_threshold));
  json_object_set_new(top, "integrator", json_string(rc_integrator_name(base->integrator)));
  json_object_set_new(top, "dim", json_integer((json_int_t)base->dim));
  json_object_set_new(top, "definition",
                      json_string("a run stays apart when min_label_distance(t_end) > apart_threshold * "
                                  "min_label_distance(0); fraction_apart over init seeds with a Wilson 95% interval; "
                                  "f_c interpolates linearly where fraction_apart first falls below 1/2"));
  if (base->collapse_metric != RC_COLLAPSE_MIN_LABEL_DISTANCE) /* section 6.0: apart read on a scale-free distance */
    json_object_set_new(top, "collapse_metric", json_string(rc_collapse_metric_name(base->collapse_metric)));
  const int rule65 = s->apart_decay_max > 0; /* docs/model.md 6.5's "apart" */
  if (rule65) {
    json_object_set_new(top, "apart_decay_max", json_real(s->apart_decay_max));
    json_object_set_new(top, "definition_decay",
                        json_string("docs/model.md 6.5: a run stays apart only if also its collapse metric's decay rate "
                                    "(least-squares slope of -log over the recorded t >= t_end/10) is below "
                                    "apart_decay_max * the minimal model's slow_rate on the same data "
                                    "(reference_slow_rate); without --t-end/--steps, t_end = 10 / predicted_slow_rate "
                                    "where the mechanism has one (the minimal model's, shifted by weight decay, through "
                                    "the optimizer's root in discrete time), else the run's default"));
  }
  const int t_given = base->t_end > 0 || base->steps > 0 || base->n_times > 0;
  double *D = calloc(s->seeds, sizeof *D), *frac = calloc(s->n_f, sizeof *frac);
  double *tc = calloc(s->seeds, sizeof *tc), *rate = calloc(s->seeds, sizeof *rate);
  rc_status st = (D && frac && tc && rate) ? RC_OK : rc_error_set(err, RC_ENOMEM, "phase diagram");
  size_t done = 0, total = n_models * n_ratios * s->n_f * s->seeds;
  for (size_t mi = 0; mi < n_models && !st; mi++)
    for (size_t ri = 0; ri < n_ratios && !st; ri++) {
      rc_run_config c = *base;
      c.out_dir = NULL;
      c.snapshots = 0;
      c.progress = NULL;
      if (s->models) c.terms = s->models[mi];
      if (s->ratios) c.eta_head = s->ratios[ri] * c.model.eta_x / (c.init.sigma * c.init.sigma);
      const double ratio = c.eta_head * c.init.sigma * c.init.sigma / c.model.eta_x;
      for (size_t fi = 0; fi < s->n_f && !st; fi++) {
        c.data.has_frustration = 1;
        c.data.frustration = s->f[fi];
        size_t apart = 0, collapsed = 0;
        double t_end = NAN, ref_slow = NAN, predicted = NAN;
        if (rule65) { /* the data's minimal-model spectrum: the reference rate and the predicted end time */
          rc_dataset *ds = NULL;
          rc_spectrum *sp = NULL;
          st = rc_data_generate(&c.data, &ds, err);
          if (!st) st = rc_spectrum_compute(ds, &c.model, c.exact_method, &sp, err);
          if (!st) {
            ref_slow = sp->slow_rate;
            predicted = rc_phase_predicted_slow_rate(&c, sp->slow_rate);
          }
          rc_spectrum_free(sp);
          rc_dataset_free(ds);
          if (st) break;
        }
        for (size_t k = 0; k < s->seeds && !st; k++) {
          rc_run_config cr = c;
          cr.init.seed = base->init.seed + k;
          if (rule65 && !t_given && isfinite(predicted) && predicted > 0) {
            const double te = RC_DEFAULT_T_END_SLOW / predicted;
            if (cr.integrator == RC_INTEGRATOR_GD) cr.steps = (size_t)ceil(te / cr.dt - 1e-9);
            else cr.t_end = te;
          }
          rc_run_result *r = NULL;
          st = rc_run_execute(&cr, &r, err);
          if (st) break;
          const int col = rc_collapse_metric_column(cr.collapse_metric); /* --collapse-metric, 6.0 */
          double D0 = r->rows[0].value[col];
          D[k] = r->rows[r->n_rows - 1].value[col] / D0;
          int is_apart = D[k] > s->apart_threshold;
          rate[k] = rc_phase_last_decade_rate(r->rows, r->n_rows, col);
          if (rule65 && !(isfinite(rate[k]) && rate[k] < s->apart_decay_max * ref_slow)) is_apart = 0;
          if (is_apart) apart++;
          tc[k] = r->has_collapse_time ? r->collapse_time : INFINITY;
          if (r->has_collapse_time) collapsed++;
          t_end = r->t_end;
          rc_run_result_free(r);
          done++;
          st = rc_progress_report(base->progress, base->progress_ctx, (double)done / (double)total, err);
        }
        if (st) break;
        double lo, hi, med = median(D, s->seeds), med_tc = median(tc, s->seeds), med_rate = median(rate, s->seeds);
        rc_wilson_interval(apart, s->seeds, &lo, &hi);
        frac[fi] = (double)apart / (double)s->seeds;
        json_t *row = json_object();
        json_object_set_new(row, "model", json_string(c.terms.name));
        json_object_set_new(row, "f", json_real(s->f[fi]));
        json_object_set_new(row, "head_rate_ratio", json_real(ratio));
        json_object_set_new(row, "seeds", json_integer((json_int_t)s->seeds));
        json_object_set_new(row, "apart", json_integer((json_int_t)apart));
        json_object_set_new(row, "fraction_apart", json_real(frac[fi]));
        json_object_set_new(row, "ci_low", json_real(lo));
        json_object_set_new(row, "ci_high", json_real(hi));
        json_object_set_new(row, "median_final_separation", rc_json_number(med));
        json_object_set_new(row, "t_end", rc_json_number(t_end));
        json_object_set_new(row, "collapsed", json_integer((json_int_t)collapsed));
        json_object_set_new(row, "median_collapse_time", rc_json_number(isfinite(med_tc) ? med_tc : NAN));
        json_object_set_new(row, "median_last_decade_rate", rc_json_number(med_rate));
        if (rule65) {
          json_object_set_new(row, "reference_slow_rate", rc_json_number(ref_slow));
          json_object_set_new(row, "predicted_slow_rate", rc_json_number(predicted));
        }
        json_array_append_new(rows, row);
      }
      if (st) break;
      json_t *cr = json_object();
      json_object_set_new(cr, "model", json_string(c.terms.name));
      json_object_set_new(cr, "head_rate_ratio", json_real(ratio));
      double fc = NAN;
      const char *why = NULL;
      for (size_t fi = 0; fi < s->n_f; fi++) {
        if (frac[fi] < 0.5) {
          if (fi == 0) why = "below one half already at the smallest f";
          else fc = s->f[fi - 1] + (s->f[fi] - s->f[fi - 1]) * (frac[fi - 1] - 0.5) / (frac[fi - 1] - frac[fi]);
          break;
        }
      }
      if (isnan(fc) && !why) why = "at least one half stay apart at every f";
      json_object_set_new(cr, "f_c", rc_json_number(fc));
      if (why) json_object_set_new(cr, "note", json_string(why));
      json_array_append_new(cross, cr);
    }
  free(D);
  free(frac);
  free(tc);
  free(rate);
  json_object_set_new(top, "rows", rows);
  json_object_set_new(top, "crossover", cross);
  if (st) {
    json_decref(top);
    return st;
  }
  *out = top;
  return RC_OK;
}

static void rows_csv(json_t *rows, FILE *fp) {
  json_t *first = json_array_get(rows, 0);
  const char *key;
  json_t *v;
  int col = 0;
  json_object_foreach(first, key, v) {
    if (json_is_array(v) || json_is_object(v)) continue;
    fprintf(fp, "%s%s", col++ ? "," : "", key);
  }
  fputc('\n', fp);
  size_t i;
  json_t *row;
  json_array_foreach(rows, i, row) {
    col = 0;
    json_object_foreach(first, key, v) {
      if (json_is_array(v) || json_is_object(v)) continue;
      json_t *x = json_object_get(row, key);
      if (col++) fputc(',', fp);
      if (json_is_real(x)) fprintf(fp, "%.17g", json_real_value(x));
      else if (json_is_integer(x)) fprintf(fp, "%lld", (long long)json_integer_value(x));
      else if (json_is_boolean(x)) fprintf(fp, "%s", json_is_true(x) ? "true" : "false");
      else if (json_is_string(x)) fprintf(fp, "%s", json_string_value(x));
    }
    fputc('\n', fp);
  }
}

rc_status rc_json_rows_write_csv(json_t *obj, const char *path, rc_error *err) {
  json_t *rows = json_object_get(obj, "rows");
  if (!json_is_array(rows)) return rc_error_set(err, RC_EINVAL, "no rows to write");
  rc_atomic_file f;
  rc_status st = rc_atomic_open(&f, path, err);
  if (st) return st;
  rows_csv(rows, f.fp);
  return rc_atomic_commit(&f, err);
}

rc_status rc_json_rows_print_csv(json_t *obj, FILE *fp, rc_error *err) {
  json_t *rows = json_object_get(obj, "rows");
  if (!json_is_array(rows)) return rc_error_set(err, RC_EINVAL, "no rows to write");
  rows_csv(rows, fp);
  return ferror(fp) ? rc_error_set(err, RC_EIO, "cannot write the CSV rows") : RC_OK;
}
