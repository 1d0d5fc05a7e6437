/* cmd_figures_beyond.c: `repcollapse figures --beyond --out DIR [--quick]`:
 * the claims beyond the paper (docs/model.md section 6.5) in the form of the
 * paper's report (cmd_figures.c): each claim runs ordinary repcollapse
 * commands (recorded verbatim in the report, runnable as printed), plots what
 * they wrote with gnuplot (PNG and SVG) from CSV files written beside the
 * figures, and sets the measured numbers beside the tool's own predictions
 * (the momentum root, the weight-decay shift, B = M against gd) in
 * DIR/report.md, with the time each claim took. DIR/beyond.json holds every
 * table row (claim, quantity, measured, predicted) for programs.
 *
 * Claim 9, the atlas, is a table of mechanisms (atlas[] below): adding a
 * mechanism is one row (its name, base model and options). Every mechanism
 * runs `phase` with docs/model.md 6.5's definition of "apart"
 * (--collapse-metric angular_label_distance --apart-decay-max 0.01) on the
 * same data and seeds. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/figures_util.h"
#include "repcollapse/plot.h"

typedef struct {
  fig_run *f;
  fig_text report;
  fig_text table;     /* rows of the claim's numbers table */
  json_t *numbers;    /* beyond.json: every row */
  const char *claim;  /* "7", ..., "geometry" */
  struct timespec t0; /* the claim's start */
} bx_ctx;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void row(bx_ctx *c, const char *what, double measured, double predicted, const char *how) {
  double diff = measured - predicted;
  char m[64], p[64], d[64];
  snprintf(m, sizeof m, isfinite(measured) ? "%.6g" : "null", measured);
  snprintf(p, sizeof p, isfinite(predicted) ? "%.6g" : "-", predicted);
  snprintf(d, sizeof d, isfinite(diff) ? "%.3g" : "-", diff);
  fig_text_add(&c->table, "| %s | %s | %s | %s | %s |\n", what, m, p, d, how);
  json_t *r = json_object();
  json_object_set_new(r, "claim", json_string(c->claim));
  json_object_set_new(r, "quantity", json_string(what));
  json_object_set_new(r, "measured", isfinite(measured) ? json_real(measured) : json_null());
  json_object_set_new(r, "predicted", isfinite(predicted) ? json_real(predicted) : json_null());
  json_object_set_new(r, "how", json_string(how));
  json_array_append_new(c->numbers, r);
}

static void claim_begin(bx_ctx *c, const char *id, const char *heading, const char *statement) {
  c->claim = id;
  c->f->commands.len = 0;
  if (c->f->commands.s) c->f->commands.s[0] = '\0';
  c->table.len = 0;
  if (c->table.s) c->table.s[0] = '\0';
  fig_text_add(&c->report, "\n## %s\n\n> %s\n\n", heading, statement);
  clock_gettime(CLOCK_MONOTONIC, &c->t0);
}

static void claim_end(bx_ctx *c, const char *figures, const char *extra, const char *reading) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - c->t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - c->t0.tv_nsec);
  fig_text_add(&c->report, "Commands (run by `repcollapse figures --beyond`; each can be run alone):\n\n```\n%s```\n\n",
               c->f->commands.s ? c->f->commands.s : "");
  if (figures) fig_text_add(&c->report, "%s\n", figures);
  if (c->table.len)
    fig_text_add(&c->report,
                 "| quantity | measured | predicted | difference | how it is predicted |\n|---|---|---|---|---|\n%s\n",
                 c->table.s);
  if (extra) fig_text_add(&c->report, "%s\n", extra);
  if (reading) fig_text_add(&c->report, "%s\n\n", reading);
  fig_text_add(&c->report, "Time taken by this claim: %.1f s.\n", secs);
  json_t *r = json_object();
  json_object_set_new(r, "claim", json_string(c->claim));
  json_object_set_new(r, "quantity", json_string("seconds"));
  json_object_set_new(r, "measured", json_real(secs));
  json_object_set_new(r, "predicted", json_null());
  json_object_set_new(r, "how", json_string("wall time of the claim"));
  json_array_append_new(c->numbers, r);
}

/* the whole file, or NULL */
static char *slurp(const char *path, size_t *n) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return NULL;
  size_t cap = 1 << 16, len = 0;
  char *s = malloc(cap);
  size_t got;
  while (s && (got = fread(s + len, 1, cap - len, fp)) > 0) {
    len += got;
    if (len == cap) {
      char *t = realloc(s, cap *= 2);
      if (!t) {
        free(s);
        s = NULL;
      }
      s = t;
    }
  }
  fclose(fp);
  *n = len;
  return s;
}

/* 1 when the two files have the same bytes, 0 when not, NAN when one cannot be read */
static double same_bytes(const char *a, const char *b) {
  size_t na = 0, nb = 0;
  char *x = slurp(a, &na), *y = slurp(b, &nb);
  double out = (!x || !y) ? NAN : (na == nb && memcmp(x, y, na) == 0) ? 1.0 : 0.0;
  free(x);
  free(y);
  return out;
}

/* the value of a column at the last row, NAN if none */
static double csv_last(const char *path, const char *column) {
  double *v = NULL;
  size_t n = fig_csv_column(path, column, &v);
  double out = n ? v[n - 1] : NAN;
  free(v);
  return out;
}

static double csv_first(const char *path, const char *column) {
  double *v = NULL;
  size_t n = fig_csv_column(path, column, &v);
  double out = n ? v[0] : NAN;
  free(v);
  return out;
}

/* the crossover of one phase.json (its only model), NAN when it has none */
static double phase_fc(json_t *ph) {
  json_t *cr = json_array_get(json_object_get(ph, "crossover"), 0);
  return cr ? fig_num(cr, "f_c") : NAN;
}

static const char *phase_fc_note(json_t *ph) {
  json_t *cr = json_array_get(json_object_get(ph, "crossover"), 0);
  const char *s = cr ? json_string_value(json_object_get(cr, "note")) : NULL;
  return s ? s : "";
}

/* phase.json's rows as a CSV for gnuplot */
static void phase_rows_csv(bx_ctx *c, json_t *ph, const char *path) {
  rc_atomic_file af;
  FILE *fp = fig_csv_open(c->f, &af, "%s", path);
  if (!fp) return;
  fprintf(fp, "f,fraction_apart,ci_low,ci_high,apart,seeds,median_final_separation,median_collapse_time,median_last_decade_rate,reference_slow_rate,t_end\n");
  size_t i;
  json_t *r;
  json_array_foreach(json_object_get(ph, "rows"), i, r) {
    fprintf(fp, "%.17g,%.17g,%.17g,%.17g,%.0f,%.0f,%.17g,%.17g,%.17g,%.17g,%.17g\n", fig_num(r, "f"),
            fig_num(r, "fraction_apart"), fig_num(r, "ci_low"), fig_num(r, "ci_high"), fig_num(r, "apart"),
            fig_num(r, "seeds"), fig_num(r, "median_final_separation"), fig_num(r, "median_collapse_time"),
            fig_num(r, "median_last_decade_rate"), fig_num(r, "reference_slow_rate"), fig_num(r, "t_end"));
  }
  fig_csv_close(c->f, &af, fp);
}

/* ---- claim 7: momentum and weight decay ---- */
static void claim_7(bx_ctx *c) {
  fig_run *f = c->f;
  const char *D = f->dir;
  claim_begin(c, "7", "Claim 7: momentum and weight decay",
              "Momentum changes the collapse rate by the closed-form root (fitted rates compared, at beta = 0.5, "
              "dt = 0.1; the underdamped regime shown as such); weight decay shrinks the geometry but leaves the "
              "scale-free collapse of the minimal model unchanged.");
  const int n = 100, F = 8;
  const double dt = 0.1, w = 0.02;
  const char *data = "--classes 2 --per-class 100 --frustrated 0-1:8 --dim 8 --seed 1";
  const double betas_full[] = {0.25, 0.5, 0.7, 0.8, 0.9}, betas_quick[] = {0.5, 0.9};
  const double *betas = f->quick ? betas_quick : betas_full;
  const size_t nb = f->quick ? 2 : 5;
  fig_cmd(f, "spectrum --classes 2 --per-class 100 --frustrated 0-1:8 --weight-decay %g --out %s/claim7/spectrum_decay.json", w, D);
  fig_cmd(f, "run %s --integrator gd --dt %g --steps 3000 --points 120 --quiet --out %s/claim7/gd", data, dt, D);
  for (size_t k = 0; k < nb; k++)
    fig_cmd(f, "run %s --integrator gd --dt %g --optimizer momentum --momentum %g --steps 3000 --points 120 --quiet --out %s/claim7/momentum_%g",
            data, dt, betas[k], D, betas[k]);
  /* the underdamped mode on a fine grid, to see D oscillate */
  fig_cmd(f, "run %s --integrator gd --dt %g --optimizer momentum --momentum 0.9 --steps 400 --points 300 --t-min 0.1 --quiet --out %s/claim7/momentum_0.9_fine",
          data, dt, D);
  fig_cmd(f, "run %s --integrator gd --dt %g --steps 3000 --points 120 --weight-decay %g --quiet --out %s/claim7/decay", data, dt, w, D);
  fig_cmd(f, "run %s --integrator gd --dt %g --steps 3000 --points 120 --collapse-metric angular_label_distance --quiet --out %s/claim7/gd_angular",
          data, dt, D);
  fig_cmd(f, "run %s --integrator gd --dt %g --steps 3000 --points 120 --weight-decay %g --collapse-metric angular_label_distance --quiet --out %s/claim7/decay_angular",
          data, dt, w, D);
  fig_cmd(f, "run --classes 2 --per-class 100 --dim 8 --seed 1 --integrator gd --dt %g --steps 3000 --points 120 --quiet --out %s/claim7/clean", dt, D);
  fig_cmd(f, "run --classes 2 --per-class 100 --dim 8 --seed 1 --integrator gd --dt %g --steps 3000 --points 120 --weight-decay %g --quiet --out %s/claim7/clean_decay",
          dt, w, D);
  /* in flow the decayed state is exactly e^{-wt} times the decay-free one (6.1) */
  fig_cmd(f, "run %s --integrator rk45 --t-end 300 --points 60 --collapse-metric angular_label_distance --quiet --out %s/claim7/flow", data, D);
  fig_cmd(f, "run %s --integrator rk45 --t-end 300 --points 60 --weight-decay %g --collapse-metric angular_label_distance --quiet --out %s/claim7/flow_decay",
          data, w, D);
  if (f->failed) return;
  json_t *sp = fig_json(f, "%s/claim7/spectrum_decay.json", D), *gd = fig_json(f, "%s/claim7/gd/summary.json", D);
  json_t *dec = fig_json(f, "%s/claim7/decay/summary.json", D), *ga = fig_json(f, "%s/claim7/gd_angular/summary.json", D);
  json_t *da = fig_json(f, "%s/claim7/decay_angular/summary.json", D);
  char path[4200], how[400];
  rc_atomic_file af;
  FILE *csv = f->failed ? NULL : fig_csv_open(f, &af, "%s/claim7/momentum.csv", D);
  const double slow_closed = 1.0 - sqrt((double)n / (double)(n + F)); /* docs/theory.md s5 */
  double slow = fig_num(sp, "slow_rate");
  if (csv) fprintf(csv, "beta,h,regime,fitted,predicted,small_h_approximation,underdamped_rate\n");
  for (size_t k = 0; k < nb && csv; k++) {
    json_t *m = fig_json(f, "%s/claim7/momentum_%g/summary.json", D, betas[k]);
    if (!m) break;
    json_t *tr = json_object_get(m, "training");
    const char *regime = json_string_value(json_object_get(tr, "momentum_regime"));
    double fit = fig_num(m, "fitted_slow_rate"), pred = fig_num(tr, "predicted_slow_decay_rate");
    fprintf(csv, "%g,%.17g,%s,%.17g,%.17g,%.17g,%.17g\n", betas[k], dt * slow, regime ? regime : "", fit, pred,
            slow / (1 - betas[k]), -log(betas[k]) / (2 * dt));
    snprintf(how, sizeof how,
             "summary.json predicted_slow_decay_rate: -ln max|r| / dt, r^2 - (1 + beta - h) r + beta = 0, h = dt slow_rate = %.4g (%s)",
             dt * slow, regime ? regime : "?");
    char what[200];
    snprintf(what, sizeof what, "momentum beta = %g: fitted decay rate of D", betas[k]);
    row(c, what, fit, pred, how);
    if (regime && !strcmp(regime, "underdamped")) {
      snprintf(what, sizeof what, "momentum beta = %g: underdamped rate -ln(beta)/(2 dt)", betas[k]);
      row(c, what, pred, -log(betas[k]) / (2 * dt), "6.1: an underdamped mode decays at -ln(beta)/(2 dt)");
    }
    json_decref(m);
  }
  fig_csv_close(f, &af, csv);
  if (f->failed) goto out;
  row(c, "spectrum slow_rate (decay-free, reported with --weight-decay)", slow, slow_closed, "1 - sqrt(n/(n+F)), n = 100, F = 8");
  row(c, "spectrum weight_decay_shift", fig_num(sp, "weight_decay_shift"), w, "= w (every rate moves by w)");
  row(c, "gd: fitted decay rate of D", fig_num(gd, "fitted_slow_rate"), -log(1 - dt * slow) / dt, "-ln(1 - dt slow_rate)/dt");
  row(c, "gd + weight decay w = 0.02: fitted decay rate of D", fig_num(dec, "fitted_slow_rate"),
      -log(1 - dt * (slow + w)) / dt, "-ln(1 - dt (slow_rate + w))/dt: D shrinks at slow_rate + w");
  row(c, "gd + weight decay: fitted decay rate of angular_label_distance", fig_num(da, "fitted_slow_rate"),
      fig_num(ga, "fitted_slow_rate"),
      "the decay-free run's (exact in flow; gd's step couples w and the rates at order dt^2 w slow_rate per step)");
  row(c, "gd + weight decay: collapse time read on angular_label_distance", fig_num(da, "collapse_time"),
      fig_num(ga, "collapse_time"), "the decay-free run's");
  {
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s/claim7/flow/metrics.csv", D);
    snprintf(b, sizeof b, "%s/claim7/flow_decay/metrics.csv", D);
    double *t = NULL, *a0 = NULL, *a1 = NULL, *d0 = NULL, *d1 = NULL, worst_ang = 0, worst_d = 0;
    size_t n0 = fig_csv_column(a, "t", &t), na = fig_csv_column(a, "angular_label_distance", &a0);
    size_t nb2 = fig_csv_column(b, "angular_label_distance", &a1), nd0 = fig_csv_column(a, "min_label_distance", &d0);
    size_t nd1 = fig_csv_column(b, "min_label_distance", &d1);
    int same = n0 > 1 && na == n0 && nb2 == n0 && nd0 == n0 && nd1 == n0;
    for (size_t k = 0; same && k < n0; k++) {
      worst_ang = fmax(worst_ang, fabs(a1[k] / a0[k] - 1));
      worst_d = fmax(worst_d, fabs(d1[k] / (d0[k] * exp(-w * t[k])) - 1));
    }
    row(c, "flow (rk45) + decay: max relative |angular - the decay-free run's| over the recorded t", same ? worst_ang : NAN, 0,
        "0: the state is e^{-wt} times the decay-free state; what is left is rk45's own error (two adaptive step "
        "sequences, rtol 1e-10 and atol 1e-12 of a state whose D falls to 1e-8)");
    row(c, "flow (rk45) + decay: max relative |D / (e^{-wt} D without decay) - 1|", same ? worst_d : NAN, 0,
        "0: D shrinks at exactly slow_rate + w (rk45's error as above)");
    free(t);
    free(a0);
    free(a1);
    free(d0);
    free(d1);
    snprintf(a, sizeof a, "%s/claim7/clean/metrics.csv", D);
    snprintf(b, sizeof b, "%s/claim7/clean_decay/metrics.csv", D);
    double r_abs = csv_last(b, "min_label_distance") / csv_last(a, "min_label_distance");
    double r_ang = csv_last(b, "angular_label_distance") / csv_last(a, "angular_label_distance");
    row(c, "f = 0: D(t_end) with decay / without", r_abs, pow(1 - dt * w, 3000),
        "(1 - dt w)^steps: the zero modes decay at w (the geometry shrinks even without frustration)");
    row(c, "f = 0: angular_label_distance(t_end) with decay / without", r_ang, 1, "scale-free: unchanged");
  }
  /* the figure */
  {
    double d0 = csv_first(strcat(strcpy(path, D), "/claim7/gd/metrics.csv"), "min_label_distance");
    char script[20000];
    snprintf(script, sizeof script,
             "set datafile separator ','\nset grid\n"
             "set multiplot layout 1,3 title \"Minimal model, K = 2, n = 100, F = 8, d = 8, gd dt = 0.1: heavy-ball momentum and weight decay\"\n"
             "set logscale y\nset format y '10^{%%L}'\nset yrange [1e-12:3]\nset xrange [0:60]\nset xlabel 't'\n"
             "set ylabel 'D(t)/D(0)'\nset key bottom left box opaque\nset title 'momentum: faster, and underdamped at beta = 0.9'\n"
             "plot '%s/claim7/gd/metrics.csv' u 1:($6/%.17g) skip 1 w l lw 2 lc 'black' t 'gd', "
             "'%s/claim7/momentum_0.5/metrics.csv' u 1:($6/%.17g) skip 1 w l lw 2 lc 'blue' t 'beta = 0.5 (overdamped)', "
             "'%s/claim7/momentum_0.9_fine/metrics.csv' u 1:($6/%.17g) skip 1 w l lw 2 lc 'red' t 'beta = 0.9 (underdamped: D oscillates)'\n"
             "unset logscale y\nset format y '%%g'\nset autoscale y\nset xrange [*:*]\nset yrange [0:*]\nset xlabel 'momentum beta'\nset ylabel 'decay rate of D'\n"
             "set key top left box opaque\nset title 'fitted vs the closed-form root'\n"
             "plot '%s/claim7/momentum.csv' u 1:5 skip 1 w lp lw 2 pt 5 lc 'black' t 'predicted: root of r^2-(1+beta-h)r+beta', "
             "'' u 1:4 skip 1 w p pt 7 ps 1.6 lc 'red' t 'fitted from D(t)', '' u 1:6 skip 1 w l dt 2 lc 'gray50' t 'small-h: slow/(1-beta)'\n"
             "set logscale y\nset format y '10^{%%L}'\nset yrange [1e-12:3]\nset xrange [0:300]\nset xlabel 't'\nset ylabel 'distance / its value at t = 0'\n"
             "set key bottom left box opaque\nset title 'weight decay w = 0.02: D shrinks faster, the angle does not'\n"
             "plot '%s/claim7/gd/metrics.csv' u 1:($6/%.17g) skip 1 w l lw 2 lc 'black' t 'D, w = 0', "
             "'%s/claim7/decay/metrics.csv' u 1:($6/%.17g) skip 1 w l lw 2 lc 'orange' t 'D, w = 0.02', "
             "'%s/claim7/gd/metrics.csv' u 1:($11/%.17g) skip 1 w l lw 4 lc 'blue' t 'angular, w = 0', "
             "'%s/claim7/decay/metrics.csv' u 1:($11/%.17g) skip 1 w l lw 2 dt 2 lc 'cyan' t 'angular, w = 0.02'\nunset multiplot\n",
             D, d0, D, d0, D, d0, D, D, d0, D, d0, D, csv_first(path, "angular_label_distance"), D,
             csv_first(path, "angular_label_distance"));
    fig_plot(f, script, "fig7_momentum_decay", 1600, 560);
  }
  claim_end(c,
            "![Figure 7](fig7_momentum_decay.png)\n\n*Figure 7.* Left: D(t) under gd and heavy-ball momentum (beta = 0.9 on a "
            "fine grid: the underdamped slow mode makes D dip periodically); middle: fitted decay rates of D against "
            "the closed-form root (claim7/momentum.csv); right: D and the angular label distance with and without "
            "weight decay.\n",
            NULL,
            "The decay rate of D under momentum is the root of the per-mode recursion, not lambda/(1 - beta) (the "
            "small-h approximation, dashed). At beta = 0.9 the slow mode is underdamped: summary.json says "
            "`momentum_regime: underdamped`, D oscillates and decays at -ln(beta)/(2 dt) whatever the frustration. "
            "Weight decay moves every rate by w (the spectrum reports weight_decay_shift = w beside the decay-free "
            "rates): D decays at slow_rate + w and even the clean model's geometry shrinks, while the angular label "
            "distance, which decides collapse for these mechanisms, follows the decay-free run.");
out:
  json_decref(sp);
  json_decref(gd);
  json_decref(dec);
  json_decref(ga);
  json_decref(da);
}

/* ---- claim 8: minibatch noise ---- */
static void claim_8(bx_ctx *c) {
  fig_run *f = c->f;
  const char *D = f->dir;
  claim_begin(c, "8", "Claim 8: SGD noise",
              "SGD noise: collapse time and the stop-gradient crossover f_c against batch size, within the stable "
              "range of 6.1.");
  const char *data = "--classes 2 --per-class 100 --frustrated 0-1:8 --dim 8 --seed 1";
  const int M = 2 * 100 + 2 * 8; /* observations */
  const double dt = 0.1;
  const int bl_full[] = {216, 108, 54, 27, 18, 12}, bl_quick[] = {216, 54, 12}; /* divisors of M: no remainder batch */
  const int *bl = f->quick ? bl_quick : bl_full;
  const size_t nb = f->quick ? 3 : 6, nseed = f->quick ? 2 : 5;
  fig_cmd(f, "run %s --integrator gd --dt %g --steps 3000 --points 120 --quiet --out %s/claim8/gd", data, dt, D);
  for (size_t k = 0; k < nb; k++)
    for (size_t s = 0; s < (bl[k] == M ? 1 : nseed); s++)
      fig_cmd(f, "run %s --integrator gd --dt %g --steps 3000 --points 120 --batch %d --batch-seed %zu --quiet --out %s/claim8/batch_%d_seed%zu",
              data, dt, bl[k], 3 + s, D, bl[k], 3 + s);
  /* the crossover of siam-sg against B, 6.5's "apart" */
  /* B such that at every f of the list the remainder batch (M mod B) is stable too (6.1) */
  const int pb_full[] = {0, 94, 47, 31}, pb_quick[] = {0, 31};
  const int *pb = f->quick ? pb_quick : pb_full;
  const size_t npb = f->quick ? 2 : 4;
  const char *flist = f->quick ? "0:0.45:4" : "0:0.5:11";
  const int pseeds = f->quick ? 4 : 16;
  for (size_t k = 0; k < npb; k++) {
    char opt[64] = "";
    if (pb[k]) snprintf(opt, sizeof opt, " --batch %d", pb[k]);
    fig_cmd(f, "phase --classes 2 --per-class 50 --dim 4 --seed 1 --models siam-sg --integrator gd --dt %g%s --frustration-list %s --seeds %d --collapse-metric angular_label_distance --apart-decay-max 0.01 --quiet --out %s/claim8/phase_B%d",
            dt, opt, flist, pseeds, D, pb[k]);
  }
  if (f->failed) return;
  json_t *gd = fig_json(f, "%s/claim8/gd/summary.json", D);
  if (!gd) return;
  char a[4200], b[4200], how[300];
  snprintf(a, sizeof a, "%s/claim8/gd/metrics.csv", D);
  snprintf(b, sizeof b, "%s/claim8/batch_%d_seed3/metrics.csv", D, M);
  row(c, "B = M = 216: metrics.csv identical to gd's, byte for byte (1 = yes)", same_bytes(a, b), 1,
      "6.1: contributions accumulate per sample in data order, so B = M is gd bit for bit");
  const double t_gd = fig_num(gd, "collapse_time");
  rc_atomic_file af;
  FILE *csv = fig_csv_open(f, &af, "%s/claim8/collapse_time.csv", D);
  if (csv) fprintf(csv, "B,stability_factor,median_collapse_time,min_collapse_time,max_collapse_time,median_fitted_rate,gd_collapse_time\n");
  for (size_t k = 0; k < nb && csv; k++) {
    double tc[8], fr[8], lo = INFINITY, hi = -INFINITY;
    size_t ns = bl[k] == M ? 1 : nseed;
    for (size_t s = 0; s < ns; s++) {
      json_t *j = fig_json(f, "%s/claim8/batch_%d_seed%zu/summary.json", D, bl[k], 3 + s);
      tc[s] = fig_num(j, "collapse_time");
      fr[s] = fig_num(j, "fitted_slow_rate");
      json_decref(j);
      lo = fmin(lo, tc[s]);
      hi = fmax(hi, tc[s]);
    }
    /* median of ns values (insertion sort) */
    for (size_t i = 1; i < ns; i++)
      for (size_t j = i; j > 0 && tc[j] < tc[j - 1]; j--) {
        double t = tc[j];
        tc[j] = tc[j - 1];
        tc[j - 1] = t;
      }
    for (size_t i = 1; i < ns; i++)
      for (size_t j = i; j > 0 && fr[j] < fr[j - 1]; j--) {
        double t = fr[j];
        fr[j] = fr[j - 1];
        fr[j - 1] = t;
      }
    double med = ns % 2 ? tc[ns / 2] : 0.5 * (tc[ns / 2 - 1] + tc[ns / 2]);
    double medr = ns % 2 ? fr[ns / 2] : 0.5 * (fr[ns / 2 - 1] + fr[ns / 2]);
    fprintf(csv, "%d,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", bl[k], dt * M / bl[k], med, lo, hi, medr, t_gd);
    char what[200];
    snprintf(what, sizeof what, "B = %d (dt M/B = %.3g): median collapse time over %zu shuffles", bl[k], dt * M / bl[k], ns);
    snprintf(how, sizeof how, "gd's (every step is unbiased; the noise is not predicted); range over shuffles %.4g to %.4g", lo, hi);
    row(c, what, med, t_gd, how);
  }
  fig_csv_close(f, &af, csv);
  row(c, "smallest stable B at dt = 0.1 (dt eta_x M / B < 2)", floor(dt * M / 2) + 1, NAN,
      "6.1's bound: B > dt M / 2 = 10.8 (B = 10 is refused before the run)");
  /* the crossover */
  FILE *fc = fig_csv_open(f, &af, "%s/claim8/f_c.csv", D);
  if (fc) fprintf(fc, "B,f_c,note\n");
  char plot_lines[4000] = "";
  size_t pl = 0;
  const char *colors[] = {"black", "blue", "orange", "red"};
  for (size_t k = 0; k < npb && fc; k++) {
    json_t *ph = fig_json(f, "%s/claim8/phase_B%d/phase.json", D, pb[k]);
    if (!ph) break;
    char name[32];
    snprintf(name, sizeof name, "B%d", pb[k]);
    char csvp[4200];
    snprintf(csvp, sizeof csvp, "%s/claim8/phase_B%d.csv", D, pb[k]);
    phase_rows_csv(c, ph, csvp);
    double v = phase_fc(ph);
    fprintf(fc, "%d,%.17g,%s\n", pb[k], v, phase_fc_note(ph));
    char what[200];
    if (pb[k]) snprintf(what, sizeof what, "siam-sg, B = %d: crossover f_c", pb[k]);
    else snprintf(what, sizeof what, "siam-sg, full batch (gd): crossover f_c");
    snprintf(how, sizeof how, "measured only (basins of attraction)%s%s", isfinite(v) ? "" : ": ", isfinite(v) ? "" : phase_fc_note(ph));
    row(c, what, v, NAN, how);
    pl += (size_t)snprintf(plot_lines + pl, sizeof plot_lines - pl,
                           "%s'%s/claim8/phase_B%d.csv' u ($1+%g):2:3:4 skip 1 w yerrorlines lw 2 pt 7 lc '%s' t '%s%s'",
                           k ? ", " : "", D, pb[k], 0.004 * (double)k, colors[k % 4], pb[k] ? "B = " : "full batch",
                           pb[k] ? name + 1 : "");
    json_decref(ph);
  }
  fig_csv_close(f, &af, fc);
  if (f->failed) goto out;
  {
    char script[20000];
    snprintf(script, sizeof script,
             "set datafile separator ','\nset grid\n"
             "set multiplot layout 1,2 title \"Minibatch SGD (dt = 0.1): left, the minimal model (K = 2, n = 100, F = 8, M = 216); right, siam-sg (2 x 50, d = 4), 6.5's apart rule\"\n"
             "set logscale x\nset xlabel 'batch size B'\nset ylabel 'collapse time (D <= 0.01 D(0))'\nset key top right box opaque\n"
             "set title 'collapse time against B (points: median over shuffles, bars: range)'\n"
             "plot '%s/claim8/collapse_time.csv' u 1:3:4:5 skip 1 w yerrorlines lw 2 pt 7 lc 'red' t 'minibatch', "
             "'' u 1:7 skip 1 w l dt 2 lw 2 lc 'black' t 'full-batch gd'\n"
             "unset logscale x\nset xlabel 'frustrated fraction f'\nset ylabel 'fraction of initial conditions apart'\nset yrange [-0.05:1.05]\n"
             "set title 'siam-sg: fraction apart (95%% Wilson intervals) against f'\nplot %s\nunset multiplot\n",
             D, plot_lines);
    fig_plot(f, script, "fig8_minibatch", 1500, 560);
  }
  claim_end(c,
            "![Figure 8](fig8_minibatch.png)\n\n*Figure 8.* Left: collapse time of the minimal model against the batch "
            "size (claim8/collapse_time.csv; B = M is gd bit for bit); right: siam-sg's fraction of initial "
            "conditions apart against f for several B (claim8/phase_B*.csv, f_c in claim8/f_c.csv).\n",
            NULL,
            "Each minibatch step is an unbiased estimate of the gd step, and B = M reproduces gd byte for byte. The "
            "noise is measured, not predicted: the table gives the collapse time per B beside gd's and siam-sg's "
            "crossover per B, all within 6.1's stable range: every batch, the remainder M mod B included, holds more "
            "than dt M / 2 observations (the B of the phase runs are chosen so at every f of the list).");
out:
  json_decref(gd);
}

/* ---- claim 9: the atlas ---- */
typedef struct {
  const char *slug;    /* claim9/<slug>/ */
  const char *name;    /* as the table prints it */
  const char *base;    /* the base model, as the table prints it */
  const char *model;   /* how phase is given it: "--models minimal", "--terms 'x-y+uniformity(y)'" */
  const char *options; /* what the mechanism adds ("" for none) */
  double dt;           /* gd step */
} bx_mechanism;

/* One row per mechanism: docs/model.md 6.5, each added to `minimal` (sg and
 * EMA to the siam-sg family). A quoted argument holds no blank (fig_cmd). */
static const bx_mechanism atlas[] = {
    {"none", "none", "minimal", "--models minimal", "", 0.1},
    {"decay_0.02", "weight decay w = 0.02", "minimal", "--models minimal", "--weight-decay 0.02", 0.1},
    {"decay_0.2", "weight decay w = 0.2", "minimal", "--models minimal", "--weight-decay 0.2", 0.1},
    {"momentum_0.5", "momentum beta = 0.5", "minimal", "--models minimal", "--optimizer momentum --momentum 0.5", 0.1},
    {"momentum_0.9", "momentum beta = 0.9", "minimal", "--models minimal", "--optimizer momentum --momentum 0.9", 0.1},
    /* B such that every remainder batch is stable too (6.1) at every f of both lists */
    {"batch_31", "minibatch noise B = 31", "minimal", "--models minimal", "--batch 31", 0.1},
    {"siam", "shared head without sg (control)", "siam", "--models siam", "", 0.1},
    {"sg", "stop-gradient", "siam-sg", "--models siam-sg", "", 0.1},
    {"ema_0.1", "EMA target kappa = 0.1", "siam-sg", "--models siam-sg", "--ema-rate 0.1", 0.1},
    {"ema_1", "EMA target kappa = 1", "siam-sg", "--models siam-sg", "--ema-rate 1", 0.1},
    {"ema_5", "EMA target kappa = 5", "siam-sg", "--models siam-sg", "--ema-rate 5", 0.1},
    /* docs/model.md 6.2's objectives (the minimal model's cosine reading, the sphere, repulsion) */
    {"cosine", "cosine loss", "minimal (cosine)", "--terms 'cos(x,y)'", "", 0.1},
    {"sphere", "unit sphere", "minimal", "--models minimal", "--sphere", 0.1},
    {"uniformity_y", "uniformity(y), w = 0.5", "minimal", "--terms 'x-y+0.5*uniformity(y)'", "", 0.1},
    {"infonce", "InfoNCE, tau = 0.1", "minimal", "--terms 'x-y+infonce(x,y)'", "", 0.02},
    {"simsiam", "SimSiam (cosine, shared head, sg)", "siam-sg (cosine)", "--models simsiam", "", 0.1},
};
#define N_ATLAS (sizeof atlas / sizeof atlas[0])

static void claim_9(bx_ctx *c) {
  fig_run *f = c->f;
  const char *D = f->dir;
  claim_begin(c, "9", "Claim 9: the atlas of collapse prevention",
              "The atlas: fraction of initial conditions kept apart (Wilson intervals) and collapse time against f, "
              "for none, sg, EMA (several kappa), weight decay, momentum, minibatch noise, cosine, sphere, "
              "uniformity(y) and InfoNCE, on the table encoder. Each mechanism is added to `minimal` (sg and EMA to "
              "the siam-sg family). \"Apart\" means the angular label distance at t_end is above 1e-3 of its start "
              "and its fitted decay rate over the last decade of t is below 1% of the minimal model's slow_rate; "
              "t_end = 10 / (the mechanism's own predicted slow rate) where one exists. Collapse-time ratios are "
              "against `minimal` on the same data and seeds.");
  const char *flist = f->quick ? "0:0.45:4" : "0:0.5:11";
  const int seeds = f->quick ? 4 : 40;
  const char *common = "--classes 2 --per-class 50 --dim 4 --seed 1 --integrator gd "
                       "--collapse-metric angular_label_distance --apart-decay-max 0.01";
  int have[N_ATLAS]; /* a mechanism this build does not have (6.2's objectives before they land) is left out, and said so */
  fig_text missing = {0};
  for (size_t m = 0; m < N_ATLAS; m++) {
    char probe[1024];
    snprintf(probe, sizeof probe, "phase %s --dt %g %s %s --help", common, atlas[m].dt, atlas[m].model, atlas[m].options);
    have[m] = fig_probe(probe);
    if (!have[m]) fig_text_add(&missing, "%s%s", missing.len ? ", " : "", atlas[m].name);
  }
  for (size_t m = 0; m < N_ATLAS; m++)
    if (have[m])
      fig_cmd(f, "phase %s --dt %g %s%s%s --frustration-list %s --seeds %d --quiet --out %s/claim9/%s", common, atlas[m].dt,
              atlas[m].model, atlas[m].options[0] ? " " : "", atlas[m].options, flist, seeds, D, atlas[m].slug);
  json_t *ph[N_ATLAS] = {0};
  if (f->failed) goto out;
  for (size_t m = 0; m < N_ATLAS; m++)
    if (have[m]) ph[m] = fig_json(f, "%s/claim9/%s/phase.json", D, atlas[m].slug);
  if (f->failed) goto out;
  json_t *base_rows = json_object_get(ph[0], "rows");
  const size_t nf = json_array_size(base_rows);
  /* the two f of the table's ratio columns: the smallest positive one and f = 0.3 */
  size_t i1 = nf > 1 ? 1 : 0, i2 = 0;
  for (size_t k = 0; k < nf; k++)
    if (fabs(fig_num(json_array_get(base_rows, k), "f") - 0.3) < 1e-9) i2 = k;
  const double f1 = fig_num(json_array_get(base_rows, i1), "f"), f2 = fig_num(json_array_get(base_rows, i2), "f");
  rc_atomic_file af;
  FILE *csv = fig_csv_open(f, &af, "%s/claim9/atlas.csv", D);
  if (csv)
    fprintf(csv, "mechanism,base_model,options,f,apart,seeds,fraction_apart,ci_low,ci_high,median_collapse_time,"
                 "collapse_time_ratio,median_last_decade_rate,reference_slow_rate,t_end\n");
  fig_text tab = {0};
  fig_text_add(&tab,
               "Every row: `phase %s --frustration-list %s --seeds %d` (init seeds 1 to %d, data seed 1), the "
               "mechanism's model and options below added.\n\n",
               common, flist, seeds, seeds);
  fig_text_add(&tab,
               "| mechanism | base model | options added | dt | f_c | fraction apart at f = %.3g | collapse-time ratio at f = %.3g | at f = %.3g |\n"
               "|---|---|---|---|---|---|---|---|\n",
               fig_num(json_array_get(base_rows, nf - 1), "f"), f1, f2);
  char plot_lines[20000] = "";
  size_t pl = 0;
  const char *colors[] = {"black", "gray50", "dark-gray", "blue", "dark-blue", "orange", "cyan", "red", "magenta",
                          "dark-magenta", "dark-red", "dark-green", "green", "brown", "gold", "purple"};
  for (size_t m = 0; m < N_ATLAS && csv; m++) {
    if (!have[m]) continue;
    json_t *rows = json_object_get(ph[m], "rows");
    double ratio1 = NAN, ratio2 = NAN, last_frac = NAN;
    for (size_t k = 0; k < json_array_size(rows); k++) {
      json_t *r = json_array_get(rows, k), *r0 = json_array_get(base_rows, k);
      double tc = fig_num(r, "median_collapse_time"), tc0 = fig_num(r0, "median_collapse_time");
      double ratio = tc / tc0; /* NAN when either never collapsed (median) */
      if (k == i1) ratio1 = ratio;
      if (k == i2) ratio2 = ratio;
      last_frac = fig_num(r, "fraction_apart");
      fprintf(csv, "%s,%s,%s,%.17g,%.0f,%.0f,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", atlas[m].slug,
              atlas[m].base, atlas[m].options, fig_num(r, "f"), fig_num(r, "apart"), fig_num(r, "seeds"),
              fig_num(r, "fraction_apart"), fig_num(r, "ci_low"), fig_num(r, "ci_high"), tc, ratio,
              fig_num(r, "median_last_decade_rate"), fig_num(r, "reference_slow_rate"), fig_num(r, "t_end"));
    }
    double fc = phase_fc(ph[m]);
    char fcs[200], r1[64], r2[64];
    if (isfinite(fc)) snprintf(fcs, sizeof fcs, "%.3g", fc);
    else snprintf(fcs, sizeof fcs, "none (%s)", phase_fc_note(ph[m]));
    snprintf(r1, sizeof r1, isfinite(ratio1) ? "%.3g" : "none by t_end", ratio1);
    snprintf(r2, sizeof r2, isfinite(ratio2) ? "%.3g" : "none by t_end", ratio2);
    fig_text_add(&tab, "| %s | `%s` | `%s` | %g | %s | %.3g | %s | %s |\n", atlas[m].name, atlas[m].base,
                 atlas[m].options[0] ? atlas[m].options : "-", atlas[m].dt, fcs, last_frac, r1, r2);
    char what[300];
    snprintf(what, sizeof what, "%s: crossover f_c", atlas[m].name);
    row(c, what, fc, NAN, isfinite(fc) ? "measured only" : phase_fc_note(ph[m]));
    snprintf(what, sizeof what, "%s: collapse-time ratio to none at f = %.3g", atlas[m].name, f2);
    row(c, what, ratio2, NAN, "median over seeds / the minimal model's, same data and seeds");
    pl += (size_t)snprintf(plot_lines + pl, sizeof plot_lines - pl,
                           "%s'%s/claim9/atlas.csv' u ($4+%.4g):(strcol(1) eq '%s' ? $7 : NaN):8:9 skip 1 w yerrorlines lw 2 pt %zu lc '%s' t '%s'",
                           m ? ", " : "", D, 0.0025 * ((double)m - (double)N_ATLAS / 2), atlas[m].slug, 1 + m % 13,
                           colors[m % 16], atlas[m].name);
  }
  fig_csv_close(f, &af, csv);
  if (!f->failed) {
    char *script = malloc(40000);
    if (script) {
      snprintf(script, 40000,
               "set datafile separator ','\nset grid\nset xlabel 'frustrated fraction f'\nset ylabel 'fraction of initial conditions apart'\n"
               "set yrange [-0.05:1.05]\nset key outside right top box opaque\n"
               "set title \"The atlas: 2 classes x 50, d = 4, gd, %d initial conditions per point; apart as docs/model.md 6.5 (angular label distance; 95%% Wilson intervals)\"\n"
               "plot %s\n",
               seeds, plot_lines);
      fig_plot(f, script, "fig9_atlas", 1600, 700);
      free(script);
    }
  }
  if (missing.len)
    fig_text_add(&tab, "\nNot in this build, so not in the atlas: %s (their options or terms are refused by this "
                       "binary's `phase`).\n", missing.s);
  claim_end(c,
            "![Figure 9](fig9_atlas.png)\n\n*Figure 9.* Fraction of initial conditions whose classes stay apart "
            "against f, per mechanism (claim9/atlas.csv; each mechanism's phase.json and phase.csv in "
            "claim9/<mechanism>/).\n",
            tab.s,
            "Every mechanism ran the same `phase` on the same data and init seeds, with `--collapse-metric "
            "angular_label_distance --apart-decay-max 0.01`: a run is apart when its angular label distance ends "
            "above 1e-3 of its start and decays, over the last decade of t, slower than 1% of the minimal model's "
            "slow_rate. t_end is 10 / the mechanism's predicted slow rate where one exists (minimal, weight decay: "
            "slow_rate + w, momentum: the root, minibatch: gd's), else the default (500 for term models). A ratio "
            "above 1 is a slower collapse, below 1 a faster one; \"none by t_end\" where the median run did not reach 1% of its start by its t_end.");
  fig_text_free(&tab);
out:
  fig_text_free(&missing);
  for (size_t m = 0; m < N_ATLAS; m++) json_decref(ph[m]);
}

/* ---- picture: the embedding geometry (d = 2) from snapshots.h5 ---- */

/* Read /samples, /labels ([T][.][2]) and /sample_label of a snapshots.h5 and
 * write, for recorded time index k, DIR/geometry/<name>_<k>.csv (kind, class,
 * x1, x2); box: the points' bounding box over every time (x1 min, max, x2 min, max). */
static void geometry_csv(bx_ctx *c, const char *name, size_t n_times, double box[4]) {
  box[0] = box[2] = INFINITY;
  box[1] = box[3] = -INFINITY;
  fig_run *f = c->f;
  if (f->failed) return;
  char path[4200];
  snprintf(path, sizeof path, "%s/geometry/%s/snapshots.h5", f->dir, name);
  H5dont_atexit();
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) {
    fig_fail(f, "cannot open %s", path);
    return;
  }
  const char *names[3] = {"samples", "labels", "sample_label"};
  hsize_t dims[3][3] = {{0}};
  double *v[2] = {NULL, NULL};
  long long *lab = NULL;
  int ok = 1;
  for (int q = 0; q < 3 && ok; q++) {
    hid_t ds = H5Dopen2(file, names[q], H5P_DEFAULT);
    if (ds < 0) {
      ok = 0;
      break;
    }
    hid_t sp = H5Dget_space(ds);
    int rank = H5Sget_simple_extent_ndims(sp);
    if (rank != (q < 2 ? 3 : 1)) ok = 0;
    if (ok) H5Sget_simple_extent_dims(sp, dims[q], NULL);
    if (ok && q < 2 && (dims[q][2] != 2 || dims[q][0] < n_times)) ok = 0;
    if (ok) {
      size_t count = q < 2 ? (size_t)(dims[q][0] * dims[q][1] * dims[q][2]) : (size_t)dims[q][0];
      if (q < 2) {
        v[q] = malloc(count * sizeof(double));
        ok = v[q] && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v[q]) >= 0;
      } else {
        lab = malloc(count * sizeof *lab);
        ok = lab && H5Dread(ds, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, lab) >= 0;
      }
    }
    H5Sclose(sp);
    H5Dclose(ds);
  }
  H5Fclose(file);
  if (ok && dims[2][0] != dims[0][1]) ok = 0;
  for (size_t k = 0; k < n_times && ok && !f->failed; k++) {
    rc_atomic_file af;
    FILE *fp = fig_csv_open(f, &af, "%s/geometry/%s_%zu.csv", f->dir, name, k);
    if (!fp) break;
    fprintf(fp, "kind,class,x1,x2\n");
    const size_t N = (size_t)dims[0][1], K = (size_t)dims[1][1];
    for (size_t i = 0; i < N + K; i++) {
      const double *z = i < N ? v[0] + (k * N + i) * 2 : v[1] + (k * K + (i - N)) * 2;
      if (i < N) fprintf(fp, "sample,%lld,%.17g,%.17g\n", lab[i], z[0], z[1]);
      else fprintf(fp, "label,%zu,%.17g,%.17g\n", i - N, z[0], z[1]);
      box[0] = fmin(box[0], z[0]);
      box[1] = fmax(box[1], z[0]);
      box[2] = fmin(box[2], z[1]);
      box[3] = fmax(box[3], z[1]);
    }
    fig_csv_close(f, &af, fp);
  }
  if (!ok) fig_fail(f, "%s: not the snapshots of a d = 2 run with %zu recorded times", path, n_times);
  free(v[0]);
  free(v[1]);
  free(lab);
}

static void picture_geometry(bx_ctx *c) {
  fig_run *f = c->f;
  const char *D = f->dir;
  claim_begin(c, "geometry", "Picture: the embedding geometry",
              "The embeddings themselves, d = 2: samples (coloured by class; frustrated ones black) and labels "
              "(large symbols) at the start, on the plateau and at the end, for the clean minimal model, the "
              "frustrated one, siam and siam-sg.");
  const double t_plateau = 5, t_end = 300;
  const char *cases[][3] = {{"clean", "minimal", "--frustration 0"},
                            {"frustrated", "minimal", "--frustration 0.1"},
                            {"siam", "siam", "--frustration 0.1"},
                            {"siam-sg", "siam-sg", "--frustration 0.1"}};
  for (int k = 0; k < 4; k++)
    fig_cmd(f, "run --classes 2 --per-class 50 %s --dim 2 --seed 1 --model %s --integrator gd --dt 0.1 --times 0,%g,%g --snapshots --quiet --out %s/geometry/%s",
            cases[k][2], cases[k][1], t_plateau, t_end, D, cases[k][0]);
  double box[4][4];
  for (int k = 0; k < 4; k++) geometry_csv(c, cases[k][0], 3, box[k]);
  if (f->failed) return;
  char *script = malloc(60000);
  if (!script) return;
  size_t pl = (size_t)snprintf(script, 60000,
                               "set datafile separator ','\nset size ratio -1\nset grid\nunset key\n"
                               "set multiplot layout 4,3 title \"Embeddings in d = 2 (2 classes x 50, gd dt = 0.1, seed 1): rows clean, f = 0.1 minimal, siam, siam-sg;\\ncolumns t = 0, %g (plateau), %g; one scale per row\"\n",
                               t_plateau, t_end);
  const double tt[3] = {0, t_plateau, t_end};
  for (int k = 0; k < 4; k++)
    for (int q = 0; q < 3; q++) {
      const char *p = "";
      const double pad = 0.05 * fmax(box[k][1] - box[k][0], box[k][3] - box[k][2]);
      pl += (size_t)snprintf(script + pl, 60000 - pl,
                             "set xrange [%.6g:%.6g]\nset yrange [%.6g:%.6g]\nset title '%s, t = %g'\n"
                             "plot '%s/geometry/%s_%d.csv' u (strcol(1) eq 'sample' && $2 == 0 ? $3 : NaN):4 skip 1 w p pt 7 ps 0.5 lc 'blue'%s, "
                             "'' u (strcol(1) eq 'sample' && $2 == 1 ? $3 : NaN):4 skip 1 w p pt 7 ps 0.5 lc 'red', "
                             "'' u (strcol(1) eq 'sample' && $2 < 0 ? $3 : NaN):4 skip 1 w p pt 7 ps 0.6 lc 'black', "
                             "'' u (strcol(1) eq 'label' && $2 == 0 ? $3 : NaN):4 skip 1 w p pt 9 ps 3 lc 'dark-blue', "
                             "'' u (strcol(1) eq 'label' && $2 == 1 ? $3 : NaN):4 skip 1 w p pt 11 ps 3 lc 'dark-red'\n",
                             box[k][0] - pad, box[k][1] + pad, box[k][2] - pad, box[k][3] + pad, cases[k][0], tt[q], D,
                             cases[k][0], q, p);
    }
  snprintf(script + pl, 60000 - pl, "unset multiplot\n");
  fig_plot(f, script, "fig_geometry", 1300, 1700);
  free(script);
  char path[4200];
  for (int k = 0; k < 4 && !f->failed; k++) {
    snprintf(path, sizeof path, "%s/geometry/%s/metrics.csv", D, cases[k][0]);
    char what[200];
    snprintf(what, sizeof what, "%s: D(t = %g)/D(0)", cases[k][0], t_end);
    row(c, what, csv_last(path, "min_label_distance") / csv_first(path, "min_label_distance"), NAN,
        k == 0 ? "finite (conserved means)" : k == 3 ? "finite (free)" : "collapse");
  }
  claim_end(c,
            "![Geometry](fig_geometry.png)\n\n*Picture.* Samples (small dots: blue and red by class, black the "
            "frustrated ones) and labels (large symbols); the points of each panel in geometry/<case>_<k>.csv "
            "(k = 0, 1, 2 the three times), read from each run's snapshots.h5.\n",
            NULL,
            "On the plateau every model has aligned its samples to the labels; by the end the frustrated minimal "
            "model and siam have pulled the two labels (and their samples) onto one point, while siam-sg keeps "
            "them apart.");
}

/* ---- picture: order parameters over time across f, from the exact reduced dynamics ---- */
static void picture_order(bx_ctx *c) {
  fig_run *f = c->f;
  const char *D = f->dir;
  claim_begin(c, "order", "Picture: the order parameters over time across f",
              "siam-sg's order parameters (separation D(t)/D(0), the head's gain on the separation, the loss) "
              "against time for several f, from the exact reduced dynamics (`--integrator reduced`).");
  const double fl_full[] = {0.05, 0.1, 0.2, 0.3, 0.4}, fl_quick[] = {0.1, 0.3};
  const double *fl = f->quick ? fl_quick : fl_full;
  const size_t nfl = f->quick ? 2 : 5, ng = f->quick ? 6 : 16;
  const char *common = "--classes 2 --per-class 50 --dim 4 --seed 1 --model siam-sg --integrator reduced";
  for (size_t k = 0; k < nfl; k++) {
    fig_cmd(f, "run %s --frustration %g --t-end 500 --points 100 --t-min 0.01 --quiet --out %s/order/f%g", common, fl[k], D, fl[k]);
    /* the head's gain at a time: summary.json's final_head of a run ending there */
    for (size_t g = 0; g < ng; g++)
      fig_cmd(f, "run %s --frustration %g --t-end %.6g --points 1 --quiet --out %s/order/f%g_gain%zu", common, fl[k],
              0.05 * pow(500 / 0.05, (double)g / (double)(ng - 1)), D, fl[k], g);
  }
  if (f->failed) return;
  char lines[3][6000];
  size_t pl[3] = {0, 0, 0};
  const char *colors[] = {"blue", "dark-green", "orange", "red", "dark-red"};
  for (size_t k = 0; k < nfl && !f->failed; k++) {
    rc_atomic_file af;
    FILE *fp = fig_csv_open(f, &af, "%s/order/gain_f%g.csv", D, fl[k]);
    if (!fp) break;
    fprintf(fp, "t,separation_head_gain,min_label_distance\n");
    for (size_t g = 0; g < ng; g++) {
      json_t *j = fig_json(f, "%s/order/f%g_gain%zu/summary.json", D, fl[k], g);
      if (!j) break;
      json_t *sg = json_array_get(json_object_get(json_object_get(j, "final_head"), "separation_head_gain"), 0);
      json_t *gv = json_array_get(sg, 2);
      fprintf(fp, "%.17g,%.17g,%.17g\n", fig_num(j, "final.t"), json_is_number(gv) ? json_number_value(gv) : NAN,
              fig_num(j, "final.min_label_distance"));
      json_decref(j);
    }
    fig_csv_close(f, &af, fp);
    char path[4200];
    snprintf(path, sizeof path, "%s/order/f%g/metrics.csv", D, fl[k]);
    double d0 = csv_first(path, "min_label_distance");
    json_t *s = fig_json(f, "%s/order/f%g/summary.json", D, fl[k]);
    char what[200];
    snprintf(what, sizeof what, "f = %g (data: %.4g): final D/D(0)", fl[k], fig_num(s, "data.frustration"));
    row(c, what, fig_num(s, "final.min_label_distance") / d0, NAN, "free (the separation is set by the dynamics)");
    json_decref(s);
    pl[0] += (size_t)snprintf(lines[0] + pl[0], sizeof lines[0] - pl[0], "%s'%s' u 1:($6/%.17g) skip 1 w l lw 2 lc '%s' t 'f = %g'",
                              k ? ", " : "", path, d0, colors[k % 5], fl[k]);
    pl[1] += (size_t)snprintf(lines[1] + pl[1], sizeof lines[1] - pl[1],
                              "%s'%s/order/gain_f%g.csv' u 1:2 skip 1 w lp lw 2 pt 7 lc '%s' t 'f = %g'", k ? ", " : "", D,
                              fl[k], colors[k % 5], fl[k]);
    pl[2] += (size_t)snprintf(lines[2] + pl[2], sizeof lines[2] - pl[2], "%s'%s' u 1:2 skip 1 w l lw 2 lc '%s' t 'f = %g'",
                              k ? ", " : "", path, colors[k % 5], fl[k]);
  }
  if (f->failed) return;
  char script[30000];
  snprintf(script, sizeof script,
           "set datafile separator ','\nset grid\nset logscale x\nset format x '10^{%%L}'\nset xlabel 't'\nset xrange [0.01:500]\n"
           "set multiplot layout 1,3 title \"siam-sg, 2 classes x 50, d = 4, seed 1: exact reduced dynamics (group means, labels, second moments, P)\"\n"
           "set logscale y\nset format y '10^{%%L}'\nset key bottom left box opaque\nset ylabel 'D(t)/D(0)'\nset title 'separation'\nplot %s\n"
           "unset logscale y\nset format y '%%g'\nset ylabel '|P v|/|v|, v = y_0 - y_1'\nset title 'head gain on the separation'\nplot %s\n"
           "set logscale y\nset format y '10^{%%L}'\nset ylabel 'loss'\nset title 'loss'\nplot %s\nunset multiplot\n",
           lines[0], lines[1], lines[2]);
  fig_plot(f, script, "fig_order_parameters", 1600, 560);
  claim_end(c,
            "![Order parameters](fig_order_parameters.png)\n\n*Picture.* The separation and the loss from each f's "
            "reduced run (order/f*/metrics.csv); the head's gain on the separation at a time t is "
            "`final_head.separation_head_gain` of the same run ended at t (order/gain_f*.csv; null once the labels "
            "have met).\n",
            NULL,
            "The gain settles on the fast timescale; the separation and the loss then either settle (apart) or "
            "fall on the slow timescale (collapse, where the gain is no longer defined).");
}

/* ---- claim 10: an MLP on Fashion-MNIST ---- */

/* least-squares slope of -log(column) over the rows with t >= t_end / 10 (as phase's last decade) */
static double csv_last_decade_rate(const char *path, const char *column) {
  double *t = NULL, *v = NULL;
  size_t n = fig_csv_column(path, "t", &t), m = fig_csv_column(path, column, &v);
  double st = 0, sv = 0, stt = 0, stv = 0, out = NAN;
  size_t k = 0;
  for (size_t i = 0; i < n && i < m; i++) {
    if (!(t[i] >= t[n - 1] / 10) || !(v[i] > 0) || !isfinite(v[i])) continue;
    double y = -log(v[i]);
    st += t[i];
    sv += y;
    stt += t[i] * t[i];
    stv += t[i] * y;
    k++;
  }
  double den = (double)k * stt - st * st;
  if (k >= 3 && den > 0) out = ((double)k * stv - st * sv) / den;
  free(t);
  free(v);
  return out;
}

static void claim_10(bx_ctx *c) {
  fig_run *f = c->f;
  const char *D = f->dir;
  claim_begin(c, "10", "Claim 10: an MLP on Fashion-MNIST",
              "Real inputs and a nonlinear encoder: an MLP on Fashion-MNIST (for instance 30 images per class, h = 64, "
              "d = 16) with conflict frustration shows, or does not show, the same two-timescale collapse and the "
              "same prevention; the answer, whichever it is, is reported with its numbers and the time each claim "
              "took.");
  const int per = f->quick ? 10 : 30, h = f->quick ? 32 : 64;
  const double dt = f->quick ? 1e-3 : 5e-4, t_end = 10, fr = 0.2;
  char common[600];
  snprintf(common, sizeof common,
           "--encoder mlp --hidden %d --activation tanh --inputs fashion-mnist --per-class %d --dim 16 --seed 1 "
           "--integrator gd --dt %g --t-end %g --points 60",
           h, per, dt, t_end);
  char probe[800];
  snprintf(probe, sizeof probe, "run %s --help", common);
  if (!fig_probe(probe)) {
    fig_text_add(&c->report, "Not in this report: this build's `run` refuses `%s` (the mlp encoder on Fashion-MNIST).\n\n",
                 common);
    claim_end(c, NULL, NULL, NULL);
    return;
  }
  const char *cases[][3] = {{"clean_minimal", "0", "minimal"},
                            {"frustrated_minimal", "0.2", "minimal"},
                            {"clean_siam-sg", "0", "siam-sg"},
                            {"frustrated_siam-sg", "0.2", "siam-sg"}};
  (void)fr;
  for (int k = 0; k < 4; k++)
    fig_cmd(f, "run %s --frustration %s --model %s --quiet --out %s/claim10/%s", common, cases[k][1], cases[k][2], D,
            cases[k][0]);
  if (f->failed) return;
  json_t *j[4] = {0};
  double d_ratio[4], a_ratio[4], rate[4], slow[4], acc_max[4], t_acc[4];
  int apart[4];
  char path[4][4200];
  for (int k = 0; k < 4; k++) {
    j[k] = fig_json(f, "%s/claim10/%s/summary.json", D, cases[k][0]);
    snprintf(path[k], sizeof path[k], "%s/claim10/%s/metrics.csv", D, cases[k][0]);
  }
  if (f->failed) goto out;
  for (int k = 0; k < 4; k++) {
    d_ratio[k] = csv_last(path[k], "min_label_distance") / csv_first(path[k], "min_label_distance");
    a_ratio[k] = csv_last(path[k], "angular_label_distance") / csv_first(path[k], "angular_label_distance");
    rate[k] = csv_last_decade_rate(path[k], "angular_label_distance");
    slow[k] = fig_num(j[k], "minimal_model_prediction.slow_rate");
    apart[k] = a_ratio[k] > 1e-3 && isfinite(rate[k]) && rate[k] < 0.01 * slow[k];
    double *t = NULL, *a = NULL;
    size_t n = fig_csv_column(path[k], "t", &t), m = fig_csv_column(path[k], "accuracy", &a);
    acc_max[k] = -1;
    t_acc[k] = NAN;
    for (size_t i = 0; i < n && i < m; i++)
      if (a[i] > acc_max[k]) {
        acc_max[k] = a[i];
        t_acc[k] = t[i];
      }
    free(t);
    free(a);
    char what[300], how[300];
    snprintf(what, sizeof what, "%s: D(t = %g)/D(0)", cases[k][0], t_end);
    row(c, what, d_ratio[k], NAN, "measured");
    snprintf(what, sizeof what, "%s: angular label distance (t = %g) / at t = 0", cases[k][0], t_end);
    row(c, what, a_ratio[k], NAN, "measured");
    snprintf(what, sizeof what, "%s: decay rate of the angular distance over the last decade of t", cases[k][0]);
    snprintf(how, sizeof how, "apart (6.5) needs it below 1%% of the minimal model's slow_rate on the same observations, %.4g: %s",
             slow[k], apart[k] ? "apart" : "not apart");
    row(c, what, rate[k], NAN, how);
    snprintf(what, sizeof what, "%s: collapse time (D <= 0.01 D(0))", cases[k][0]);
    row(c, what, fig_num(j[k], "collapse_time"), NAN, "measured (null: not by t_end)");
    snprintf(what, sizeof what, "%s: highest train accuracy (clean samples), reached at t = %.3g", cases[k][0], t_acc[k]);
    row(c, what, acc_max[k], NAN, "the fast timescale");
    snprintf(what, sizeof what, "%s: final test accuracy", cases[k][0]);
    row(c, what, fig_num(j[k], "final.test_accuracy"), NAN, "first 1000 images of the test set");
  }
  {
    int cd = fig_csv_column_index(path[0], "min_label_distance"), ca = fig_csv_column_index(path[0], "accuracy");
    size_t cap = 60000;
    char *script = malloc(cap);
    if (script) snprintf(script, cap,
             "set datafile separator ','\nset grid\nset logscale x\nset format x '10^{%%L}'\nset xlabel 't'\n"
             "set multiplot layout 1,2 title \"MLP (tanh, h = %d, d = 16) on Fashion-MNIST, %d images per class, gd dt = %g: f = 0 and f = 0.2 (conflict), minimal and siam-sg\"\n"
             "set logscale y\nset format y '10^{%%L}'\nset key bottom left box opaque\nset ylabel 'D(t)/D(0)'\nset title 'closest label pair'\n"
             "plot '%s' u 1:(column(%d)/%.17g) skip 1 w l lw 2 lc 'blue' t 'minimal, f = 0', "
             "'%s' u 1:(column(%d)/%.17g) skip 1 w l lw 2 lc 'gray30' t 'minimal, f = 0.2', "
             "'%s' u 1:(column(%d)/%.17g) skip 1 w l lw 2 dt 2 lc 'cyan' t 'siam-sg, f = 0', "
             "'%s' u 1:(column(%d)/%.17g) skip 1 w l lw 3 lc 'red' t 'siam-sg, f = 0.2'\n"
             "unset logscale y\nset format y '%%g'\nset yrange [0:1.05]\nset ylabel 'train accuracy (clean samples)'\nset title 'accuracy'\n"
             "plot '%s' u 1:%d skip 1 w l lw 2 lc 'blue' t 'minimal, f = 0', '%s' u 1:%d skip 1 w l lw 2 lc 'gray30' t 'minimal, f = 0.2', "
             "'%s' u 1:%d skip 1 w l lw 2 dt 2 lc 'cyan' t 'siam-sg, f = 0', '%s' u 1:%d skip 1 w l lw 3 lc 'red' t 'siam-sg, f = 0.2'\n"
             "unset multiplot\n",
             h, per, dt, path[0], cd, csv_first(path[0], "min_label_distance"), path[1], cd,
             csv_first(path[1], "min_label_distance"), path[2], cd, csv_first(path[2], "min_label_distance"), path[3], cd,
             csv_first(path[3], "min_label_distance"), path[0], ca, path[1], ca, path[2], ca, path[3], ca);
    if (script) fig_plot(f, script, "fig10_mlp", 1500, 560);
    free(script);
  }
  {
    fig_text ans = {0};
    const int same_collapse = !apart[1] && apart[0];
    const int same_prevention = apart[3] && !apart[1];
    fig_text_add(&ans,
                 "**Answer (from the numbers above, 6.5's rule on the angular label distance at t = %g).** Without "
                 "frustration the minimal model's classes are %s (angular distance at %.3g of its start, last-decade "
                 "decay rate %.3g); with f = 0.2 they are %s (%.3g, rate %.3g). siam-sg: %s at f = 0 (%.3g), %s at "
                 "f = 0.2 (%.3g, rate %.3g). So the MLP on real images %s the paper's picture: %s; and stop-gradient "
                 "%s. Accuracy peaks first (t = %.3g, %.3g for minimal at f = 0.2) while the labels keep contracting: "
                 "the fast timescale of the encoder, then the slow one.",
                 t_end, apart[0] ? "apart" : "not apart", a_ratio[0], rate[0], apart[1] ? "apart" : "not apart",
                 a_ratio[1], rate[1], apart[2] ? "apart" : "not apart", a_ratio[2], apart[3] ? "apart" : "not apart",
                 a_ratio[3], rate[3], same_collapse && same_prevention ? "shows" : "does not show",
                 same_collapse ? "frustration makes the labels collapse where the clean data does not"
                               : "the labels contract with and without frustration (the shared encoder couples the "
                                 "classes, as the linear student does when the architecture frustrates the data, "
                                 "docs/model.md section 4)",
                 same_prevention ? "keeps them apart" : "does not keep them apart within this time",
                 t_acc[1], acc_max[1]);
    claim_end(c,
              "![Figure 10](fig10_mlp.png)\n\n*Figure 10.* The closest label pair's distance and the train accuracy "
              "for the four runs (claim10/<case>/metrics.csv).\n",
              NULL, ans.s);
    fig_text_free(&ans);
  }
out:
  for (int k = 0; k < 4; k++) json_decref(j[k]);
}

int cmd_figures_beyond(int argc, char **argv) {
  cli_options o;
  int rc = cli_parse(argc, argv, 2, OPT_OUTFILE | OPT_FIGURES, "figures", &o);
  if (rc) {
    cli_options_free(&o);
    return rc < 0 ? 0 : rc;
  }
  static const char *const subs[] = {"claim7", "claim8", "claim9", "geometry", "order", "claim10"};
  fig_run f;
  rc_dir_lock *lock = NULL;
  rc = fig_begin(&o, subs, 6, &f, &lock);
  if (rc) {
    cli_options_free(&o);
    return rc;
  }
  rc_error err;
  bx_ctx c;
  memset(&c, 0, sizeof c);
  c.f = &f;
  c.numbers = json_array();
  const double t0 = now_s();
  fig_text_add(&c.report,
               "# repcollapse: beyond the paper\n\n"
               "The claims of section 6.5 of the project's docs/model.md (7: momentum and weight decay, 8: SGD noise, "
               "9: the atlas of collapse prevention), and two pictures (the embedding geometry, the order parameters "
               "over time). Produced by `%s figures --beyond --out %s%s` (repcollapse %s, commit %s). Every number "
               "below is computed by the commands listed with it, each of which runs as printed, from any directory; "
               "the predictions are the tool's own closed forms (the spectrum, the optimizers' per-mode roots, the "
               "weight-decay shift), each recomputed independently by the test `cli_figures_beyond`. Every table "
               "row is also in beyond.json.\n",
               f.exe, f.dir, o.quick ? " --quick" : "", rc_version(), rc_source_commit());
  if (o.claims) fig_text_add(&c.report, "\nOnly some parts were asked for (`--claims`).\n");
  const unsigned want = o.claims ? o.claims : 0x3fu; /* --claims 7,8,9,10,geometry,order */
  if (want & 1u) claim_7(&c);
  if (!f.failed && (want & 2u)) claim_8(&c);
  if (!f.failed && (want & 4u)) claim_9(&c);
  if (!f.failed && (want & 16u)) picture_geometry(&c);
  if (!f.failed && (want & 32u)) picture_order(&c);
  if (!f.failed && (want & 8u)) claim_10(&c);
  const double wall = now_s() - t0;
  int status = 0;
  if (f.failed) {
    fprintf(cli_stderr(), "repcollapse figures: error: %s\n", f.failure);
    status = 1;
  } else {
    fig_text_add(&c.report, "\n---\nWall time: %.1f s.\n", wall);
    json_t *top = json_object();
    json_object_set_new(top, "quick", json_boolean(f.quick));
    json_object_set_new(top, "wall_seconds", json_real(wall));
    json_object_set(top, "rows", c.numbers);
    char path[4200];
    snprintf(path, sizeof path, "%s/beyond.json", o.out);
    rc_atomic_file af;
    char *text = json_dumps(top, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    json_decref(top);
    if (!text || rc_atomic_open(&af, path, &err) != RC_OK) {
      status = text ? cli_fail(&err) : 1;
    } else {
      fputs(text, af.fp);
      fputc('\n', af.fp);
      if (rc_atomic_commit(&af, &err) != RC_OK) status = cli_fail(&err);
    }
    free(text);
    snprintf(path, sizeof path, "%s/report.md", o.out);
    if (!status && rc_atomic_open(&af, path, &err) == RC_OK) {
      fputs(c.report.s, af.fp);
      if (rc_atomic_commit(&af, &err) == RC_OK) fprintf(cli_stdout(), "report: %s\n", path);
      else status = cli_fail(&err);
    } else if (!status) {
      status = cli_fail(&err);
    }
  }
  json_decref(c.numbers);
  fig_text_free(&c.report);
  fig_text_free(&c.table);
  fig_text_free(&f.commands);
  rc_dir_lock_release(lock);
  cli_options_free(&o);
  return status;
}
