/* cmd_figures.c: `repcollapse figures --out DIR [--quick]`: reproduce every
 * claim of docs/model.md section 5. Each claim runs ordinary repcollapse commands
 * (recorded verbatim in the report), plots what they wrote with gnuplot (PNG
 * and SVG), and sets the measured numbers beside the theory's predictions in
 * DIR/report.md. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <ctype.h>
#include <errno.h>
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
  fig_text table; /* rows of the claim's numbers table */
  int claim;
} fig_ctx;

static void row(fig_ctx *c, const char *what, double measured, double predicted, const char *how) {
  double diff = measured - predicted;
  char m[64], p[64], d[64];
  snprintf(m, sizeof m, isfinite(measured) ? "%.6g" : "null", measured);
  snprintf(p, sizeof p, isfinite(predicted) ? "%.6g" : "-", predicted);
  snprintf(d, sizeof d, isfinite(diff) ? "%.3g" : "-", diff);
  fig_text_add(&c->table, "| %s | %s | %s | %s | %s |\n", what, m, p, d, how);
}

/* start a claim: title and the paper's statement */
static void claim_begin(fig_ctx *c, int k, const char *title, const char *statement) {
  c->claim = k;
  c->f->commands.len = 0;
  if (c->f->commands.s) c->f->commands.s[0] = '\0';
  c->table.len = 0;
  if (c->table.s) c->table.s[0] = '\0';
  fig_text_add(&c->report, "\n## Claim %d: %s\n\n> %s\n\n", k, title, statement);
}

/* close a claim: commands, figures, numbers */
static void claim_end(fig_ctx *c, const char *figures, const char *reading) {
  fig_text_add(&c->report, "Commands (run by `repcollapse figures`; each can be run alone):\n\n```\n%s```\n\n",
               c->f->commands.s ? c->f->commands.s : "");
  if (figures) fig_text_add(&c->report, "%s\n", figures);
  if (c->table.len)
    fig_text_add(&c->report,
                 "| quantity | measured | predicted | difference | how it is predicted |\n|---|---|---|---|---|\n%s\n",
                 c->table.s);
  if (reading) fig_text_add(&c->report, "%s\n", reading);
}

static void plot(fig_ctx *c, const char *script, const char *stem, int w, int h) {
  if (c->f->failed) return;
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", c->f->dir, stem);
  rc_error err;
  if (rc_plot_render(script, path, w, h, &err) != RC_OK) {
    c->f->failed = 1;
    snprintf(c->f->failure, sizeof c->f->failure, "%.1000s", err.msg);
  }
}

/* The CSVs behind the figures are written like every output: under a
 * temporary name (rc_atomic_file), renamed when whole; a failure stops the
 * figures with a message naming the file. */
static FILE *csv_open(fig_ctx *c, rc_atomic_file *af, const char *path) {
  rc_error err;
  if (c->f->failed) return NULL;
  if (rc_atomic_open(af, path, &err) == RC_OK) return af->fp;
  c->f->failed = 1;
  snprintf(c->f->failure, sizeof c->f->failure, "%.1000s", err.msg);
  return NULL;
}

static void csv_close(fig_ctx *c, rc_atomic_file *af, FILE *fp) {
  rc_error err;
  if (!fp) return;
  if (c->f->failed) {
    rc_atomic_abort(af);
  } else if (rc_atomic_commit(af, &err) != RC_OK) {
    c->f->failed = 1;
    snprintf(c->f->failure, sizeof c->f->failure, "%.1000s", err.msg);
  }
}

/* first recorded time at which column reaches value (>=), NAN if never */
static double first_time_at_least(const char *csv, const char *column, double value) {
  double *t = NULL, *v = NULL;
  size_t n = fig_csv_column(csv, "t", &t), m = fig_csv_column(csv, column, &v);
  double out = NAN;
  for (size_t k = 0; k < n && k < m; k++)
    if (v[k] >= value) {
      out = t[k];
      break;
    }
  free(t);
  free(v);
  return out;
}

static double value_at_time(const char *csv, const char *column, double t0) {
  double *t = NULL, *v = NULL;
  size_t n = fig_csv_column(csv, "t", &t), m = fig_csv_column(csv, column, &v);
  double out = NAN, best = INFINITY;
  for (size_t k = 0; k < n && k < m; k++)
    if (fabs(log(t[k] > 0 ? t[k] : 1e-300) - log(t0)) < best) {
      best = fabs(log(t[k] > 0 ? t[k] : 1e-300) - log(t0));
      out = v[k];
    }
  free(t);
  free(v);
  return out;
}

/* ---- claims 1 and 2: trajectories with and without frustration ---- */
static void claims_1_2(fig_ctx *c) {
  fig_run *f = c->f;
  const int n = f->quick ? 200 : 500;
  const char *D = f->dir;
  char common[512];
  snprintf(common, sizeof common, "--classes 2 --per-class %d --dim 16 --seed 1 --quiet", n);
  claim_begin(c, 1, "no frustration, no collapse",
              "Without frustration the minimal model never collapses: classes end at finite separation, predicted "
              "exactly by the conserved means.");
  fig_cmd(f, "run %s --points 120 --t-end 1000 --out %s/claim1/clean", common, D);
  fig_cmd(f, "run %s --integrator rk45 --t-end 60 --points 30 --out %s/claim1/clean_rk45", common, D);
  fig_cmd(f, "run %s --frustration 0.03 --points 120 --t-end 1000 --out %s/claim1/frustrated", common, D);
  fig_cmd(f, "run %s --frustration 0.03 --integrator gd --dt 0.1 --steps 10000 --points 60 --out %s/claim1/frustrated_gd",
          common, D);
  json_t *clean = fig_json(f, "%s/claim1/clean/summary.json", D), *rk = fig_json(f, "%s/claim1/clean_rk45/summary.json", D);
  json_t *fr = fig_json(f, "%s/claim1/frustrated/summary.json", D), *gd = fig_json(f, "%s/claim1/frustrated_gd/summary.json", D);
  if (f->failed) goto out;
  double slow = fig_num(fr, "spectrum.slow_rate"), fast = fig_num(fr, "spectrum.fast_rate");
  char script[40000];
  snprintf(script, sizeof script,
           "set datafile separator ','\nset logscale x\nset format x '10^{%%L}'\nset xrange [1e-2:1e3]\nset grid\n"
           "set key bottom left box opaque\nset xlabel 'time t (units of 1/eta_x)'\n"
           "set multiplot layout 1,3 title \"Minimal model, 2 classes x %d samples, d = 16: f = 0.03 (red: exact; black dashes: gd, dt = 0.1) vs f = 0 (blue).\\n"
           "Grey dashed lines: 1/fast rate = %.3g and 1/slow rate = %.3g of the exact spectrum (f = 0.03).\"\n"
           "set arrow 1 from %g, graph 0 to %g, graph 1 nohead dt 2 lc 'gray40'\n"
           "set arrow 2 from %g, graph 0 to %g, graph 1 nohead dt 2 lc 'gray40'\n"
           "set logscale y\nset format y '10^{%%L}'\nset yrange [1e-8:3]\nset ylabel 'loss L(t)'\nset title 'loss: plateau, then a second drop'\n"
           "plot '%s/claim1/frustrated/metrics.csv' u 1:2 skip 1 w l lw 2 lc 'red' t 'f = 0.03', "
           "'%s/claim1/frustrated_gd/metrics.csv' u 1:2 skip 1 w l lw 2 dt 2 lc 'black' t 'f = 0.03, gd', "
           "'%s/claim1/clean/metrics.csv' u 1:2 skip 1 w l lw 2 lc 'blue' t 'f = 0'\n"
           "unset logscale y\nset format y '%%g'\nset yrange [0:1.05]\nset ylabel 'accuracy (clean samples)'\nset title 'accuracy rises on the fast timescale'\n"
           "plot '%s/claim1/frustrated/metrics.csv' u 1:3 skip 1 w l lw 2 lc 'red' t 'f = 0.03', "
           "'%s/claim1/clean/metrics.csv' u 1:3 skip 1 w l lw 4 dt 3 lc 'blue' t 'f = 0'\n"
           "set logscale y\nset format y '10^{%%L}'\nset yrange [1e-8:3]\nset ylabel 'min label distance D(t)'\nset title 'D(t): collapse on the slow timescale'\n"
           "plot '%s/claim1/frustrated/metrics.csv' u 1:6 skip 1 w l lw 2 lc 'red' t 'f = 0.03', "
           "'%s/claim1/frustrated_gd/metrics.csv' u 1:6 skip 1 w l lw 2 dt 2 lc 'black' t 'f = 0.03, gd', "
           "'%s/claim1/clean/metrics.csv' u 1:6 skip 1 w l lw 2 lc 'blue' t 'f = 0'\nunset multiplot\n",
           n, 1 / fast, 1 / slow, 1 / fast, 1 / fast, 1 / slow, 1 / slow, D, D, D, D, D, D, D, D);
  plot(c, script, "fig1_trajectories", 1500, 520);
  row(c, "final min_label_distance, f = 0 (rk45 at t = 60)", fig_num(rk, "final.min_label_distance"),
      fig_num(clean, "predicted.final_min_label_distance"), "conserved weighted means (docs/theory.md s2)");
  row(c, "final min_label_distance, f = 0 (exact at t = 1000)", fig_num(clean, "final.min_label_distance"),
      fig_num(clean, "predicted.final_min_label_distance"), "conserved weighted means");
  row(c, "zero modes, f = 0 (= classes)", fig_num(clean, "spectrum.zero_modes"), 2, "components of the class graph");
  row(c, "collapse_time, f = 0", fig_num(clean, "collapse_time"), NAN, "none: no collapse");
  claim_end(c, "![Figure 1](fig1_trajectories.png)\n\n*Figure 1.* Loss, accuracy and min label distance against log time.\n",
            NULL);

  claim_begin(c, 2, "a small frustrated fraction collapses slowly",
              "A small frustrated fraction makes it collapse, after an early rise of accuracy, on a slow timescale set "
              "by f; the loss shows a plateau then a second drop.");
  fig_text_add(&f->commands, "(the runs of claim 1)\n");
  double t_acc = first_time_at_least(strcat(strcpy(script, D), "/claim1/frustrated/metrics.csv"), "accuracy", 0.999);
  char how[200];
  snprintf(how, sizeof how, "a scale, not a prediction: 1/fast_rate = %.3g", 1 / fast);
  row(c, "time when accuracy first reaches 1 (f = 0.03)", t_acc, NAN, how);
  snprintf(how, sizeof how, "a scale: log(1/eps)/slow_rate = %.4g (the slow mode's amplitude sets the offset)", log(100.0) / slow);
  row(c, "collapse_time (f = 0.03, exact)", fig_num(fr, "collapse_time"), NAN, how);
  row(c, "slow decay rate of D(t) fitted (f = 0.03, exact)", fig_num(fr, "fitted_slow_rate"), slow, "exact spectrum (claim 3)");
  row(c, "collapse_time (f = 0.03, gd dt = 0.1)", fig_num(gd, "collapse_time"), fig_num(fr, "collapse_time"),
      "the exact integrator's");
  row(c, "loss plateau at t = 10 (f = 0.03)", value_at_time(script, "loss", 10.0), NAN, "-");
  row(c, "loss at t = 10 (f = 0)", value_at_time(strcat(strcpy(script, D), "/claim1/clean/metrics.csv"), "loss", 10.0), NAN,
      "-");
  row(c, "final min_label_distance (f = 0.03)", fig_num(fr, "final.min_label_distance"),
      fig_num(fr, "predicted.final_min_label_distance"), "one component: everything meets at the conserved mean");
  claim_end(c, "See Figure 1 (red and black).\n", NULL);
out:
  json_decref(clean);
  json_decref(rk);
  json_decref(fr);
  json_decref(gd);
}

/* ---- claim 3: two timescales, measured against the closed form ---- */
static void claim_3(fig_ctx *c) {
  fig_run *f = c->f;
  const char *D = f->dir;
  const int n = f->quick ? 100 : 200;
  claim_begin(c, 3, "two timescales",
              "Two timescales: a fast sample-to-class alignment and a slow frustration-controlled inter-class "
              "coupling; measured rates match the closed-form spectrum.");
  const double fq[] = {0.01, 0.04, 0.1, 0.25}, ff[] = {0.005, 0.01, 0.02, 0.04, 0.07, 0.1, 0.15, 0.25};
  const double *fl = f->quick ? fq : ff;
  const size_t nf = f->quick ? 4 : 8;
  char path[4200];
  snprintf(path, sizeof path, "%s/claim3/slow_rate.csv", D);
  FILE *csv = NULL;
  rc_atomic_file csv_file;
  double worst_rk = 0, worst_gd = 0, worst_sp = 0;
  for (size_t k = 0; k < nf && !f->failed; k++) {
    fig_cmd(f, "spectrum --classes 2 --per-class %d --frustration %g --out %s/claim3/spectrum_%zu.json", n, fl[k], D, k);
    json_t *sp = fig_json(f, "%s/claim3/spectrum_%zu.json", D, k);
    if (!sp) break;
    double slow = fig_num(sp, "slow_rate"), N = fig_num(sp, "n_samples"), F = N - 2.0 * n;
    double closed = 1.0 - sqrt((double)n / ((double)n + F));
    double t_end = 12.0 / slow, dt = 0.05;
    long steps = lround(t_end / dt);
    fig_cmd(f, "run --classes 2 --per-class %d --frustration %g --dim 8 --seed 2 --integrator rk45 --t-end %.6g --points 60 --quiet --out %s/claim3/rk45_%zu",
            n, fl[k], t_end, D, k);
    fig_cmd(f, "run --classes 2 --per-class %d --frustration %g --dim 8 --seed 2 --integrator gd --dt %g --steps %ld --points 60 --quiet --out %s/claim3/gd_%zu",
            n, fl[k], dt, steps, D, k);
    json_t *rk = fig_json(f, "%s/claim3/rk45_%zu/summary.json", D, k), *gd = fig_json(f, "%s/claim3/gd_%zu/summary.json", D, k);
    if (!f->failed) {
      if (!csv) {
        csv = csv_open(c, &csv_file, path);
        if (csv) fprintf(csv, "f,F,N,closed_form,spectrum,fitted_rk45,fitted_gd,closed_form_gd_discrete\n");
      }
      double frk = fig_num(rk, "fitted_slow_rate"), fgd = fig_num(gd, "fitted_slow_rate");
      double disc = -log(1 - dt * closed) / dt; /* gd decays by (1 - dt lambda) per step */
      if (csv)
        fprintf(csv, "%.17g,%g,%g,%.17g,%.17g,%.17g,%.17g,%.17g\n", F / N, F, N, closed, slow, frk, fgd, disc);
      worst_sp = fmax(worst_sp, fabs(slow / closed - 1));
      worst_rk = fmax(worst_rk, fabs(frk / closed - 1));
      worst_gd = fmax(worst_gd, fabs(fgd / disc - 1));
      if (k == 0) {
        row(c, "slow rate, smallest f: fitted from rk45 D(t)", frk, closed, "1 - sqrt(n/(n+F)) (docs/theory.md s5)");
        row(c, "slow rate, smallest f: fitted from gd D(t)", fgd, disc, "-log(1 - dt lambda)/dt, lambda closed form");
      }
    }
    json_decref(sp);
    json_decref(rk);
    json_decref(gd);
  }
  csv_close(c, &csv_file, csv);
  row(c, "max relative error, spectrum slow_rate vs closed form", worst_sp, 0, "K x K eigenproblem vs formula");
  row(c, "max relative error, rk45 fitted vs closed form", worst_rk, 0, "fit over t >= 5/lambda_next");
  row(c, "max relative error, gd fitted vs discrete closed form", worst_gd, 0, "fit over t >= 5/lambda_next");
  /* the gap: fast and slow rates over a fine f grid */
  snprintf(path, sizeof path, "%s/claim3/gap.csv", D);
  rc_atomic_file gap_file;
  FILE *gap = csv_open(c, &gap_file, path);
  if (gap) fprintf(gap, "f,slow_rate,next_rate,fast_rate,closed_form_slow\n");
  for (int k = 0; k < (f->quick ? 8 : 20) && !f->failed; k++) {
    double fv = 0.002 * pow(0.4 / 0.002, (double)k / (f->quick ? 7.0 : 19.0));
    fig_cmd(f, "spectrum --classes 2 --per-class %d --frustration %.6g --out %s/claim3/gap_%d.json", n, fv, D, k);
    json_t *sp = fig_json(f, "%s/claim3/gap_%d.json", D, k);
    if (!sp) break;
    double N = fig_num(sp, "n_samples"), F = N - 2.0 * n;
    if (gap && F > 0)
      fprintf(gap, "%.17g,%.17g,%.17g,%.17g,%.17g\n", F / N, fig_num(sp, "slow_rate"), fig_num(sp, "next_rate"),
              fig_num(sp, "fast_rate"), 1.0 - sqrt((double)n / ((double)n + F)));
    json_decref(sp);
  }
  csv_close(c, &gap_file, gap);
  char script[40000];
  snprintf(script, sizeof script,
           "set datafile separator ','\nset logscale xy\nset format x '10^{%%L}'\nset format y '10^{%%L}'\nset grid\n"
           "set key top left box opaque\nset xlabel 'frustrated fraction f = F/N'\nset ylabel 'slow rate (units of eta)'\n"
           "set title \"Slow rate against f (2 classes x %d, degree rates, eta = 1): fitted from simulated D(t) vs the closed form 1 - sqrt(n/(n+F))\"\n"
           "plot '%s/claim3/slow_rate.csv' u 1:4 skip 1 w l lw 2 lc 'black' t 'closed form', "
           "'' u 1:1 skip 1 w l dt 2 lc 'gray50' t 'small-f limit: f', "
           "'' u 1:6 skip 1 w p pt 7 ps 1.3 lc 'red' t 'fitted, rk45', "
           "'' u 1:7 skip 1 w p pt 6 ps 2 lc 'blue' t 'fitted, gd (dt = 0.05)'\n",
           n, D);
  plot(c, script, "fig2_slow_rate", 1000, 650);
  snprintf(script, sizeof script,
           "set datafile separator ','\nset logscale xy\nset format x '10^{%%L}'\nset format y '10^{%%L}'\nset grid\n"
           "set key bottom right box opaque\nset xlabel 'frustrated fraction f = F/N'\nset ylabel 'rate (units of eta)'\n"
           "set yrange [1e-4:5]\nset title \"The spectrum's gap (exact K x K spectrum, 2 classes x %d): fast rates stay of order eta, the slow one vanishes as f -> 0\"\n"
           "plot '%s/claim3/gap.csv' u 1:4 skip 1 w lp pt 7 lc 'black' t 'fast rate (largest)', "
           "'' u 1:3 skip 1 w lp pt 5 lc 'blue' t 'next rate (above the slow one)', "
           "'' u 1:2 skip 1 w lp pt 9 lc 'red' t 'slow rate', '' u 1:5 skip 1 w l dt 2 lw 2 lc 'gray30' t 'closed form'\n",
           n, D);
  plot(c, script, "fig3_gap", 1000, 650);
  claim_end(c,
            "![Figure 2](fig2_slow_rate.png)\n\n*Figure 2.* Slow rate against f, log-log: points fitted from simulated "
            "trajectories, line the closed form.\n\n![Figure 3](fig3_gap.png)\n\n*Figure 3.* Fast, next and slow rates "
            "against f.\n",
            NULL);
}

/* ---- claim 4: stop-gradient prevents collapse (phase diagram) ---- */
static void claim_4(fig_ctx *c) {
  fig_run *f = c->f;
  const char *D = f->dir;
  claim_begin(c, 4, "stop-gradient keeps the classes apart",
              "A shared projection head with stop-gradient has non-collapsed fixed points under frustration and keeps "
              "a finite class separation; without stop-gradient the same architecture collapses.");
  fig_cmd(f, "phase --classes 2 --per-class 50 --frustration-list %s --dim %d --seeds %d --models minimal,head,siam,siam-sg --t-end 500 --quiet --out %s/claim4",
          f->quick ? "0:0.45:4" : "0:0.5:11", f->quick ? 4 : 8, f->quick ? 4 : 20, D);
  fig_cmd(f, "fixedpoint --classes 2 --per-class 50 --frustration 0.05 --dim 4 --model siam-sg --t-end 500 --out %s/claim4/fixedpoint_siam-sg.json",
          D);
  fig_cmd(f, "run --classes 2 --per-class 50 --frustration 0.05 --dim 4 --model siam --integrator rk45 --t-end 500 --quiet --out %s/claim4/siam", D);
  fig_cmd(f, "run --classes 2 --per-class 50 --frustration 0.05 --dim 4 --model siam-sg --integrator rk45 --t-end 500 --quiet --out %s/claim4/siam-sg", D);
  json_t *ph = fig_json(f, "%s/claim4/phase.json", D), *fp = fig_json(f, "%s/claim4/fixedpoint_siam-sg.json", D);
  json_t *a = fig_json(f, "%s/claim4/siam/summary.json", D), *b = fig_json(f, "%s/claim4/siam-sg/summary.json", D);
  if (f->failed) goto out;
  double fc = NAN;
  size_t i;
  json_t *cr;
  json_array_foreach(json_object_get(ph, "crossover"), i, cr) {
    if (!strcmp(json_string_value(json_object_get(cr, "model")), "siam-sg")) fc = fig_num(cr, "f_c");
  }
  /* split phase.csv per model for plotting */
  const char *models[] = {"minimal", "head", "siam", "siam-sg"};
  for (int m = 0; m < 4; m++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/claim4/phase_%s.csv", D, models[m]);
    rc_atomic_file out_file;
    FILE *out = csv_open(c, &out_file, path);
    if (!out) break;
    fprintf(out, "f,fraction_apart,ci_low,ci_high,median_final_separation\n");
    json_t *r;
    json_array_foreach(json_object_get(ph, "rows"), i, r) {
      if (strcmp(json_string_value(json_object_get(r, "model")), models[m])) continue;
      fprintf(out, "%.17g,%.17g,%.17g,%.17g,%.17g\n", fig_num(r, "f"), fig_num(r, "fraction_apart"), fig_num(r, "ci_low"),
              fig_num(r, "ci_high"), fmax(fig_num(r, "median_final_separation"), 1e-16));
    }
    csv_close(c, &out_file, out);
  }
  char script[40000], fcline[300] = "";
  if (isfinite(fc))
    snprintf(fcline, sizeof fcline,
             "set arrow 1 from %g, graph 0 to %g, graph 1 nohead lw 2 dt 2 lc 'dark-green'\n"
             "set label 1 'f_c (siam-sg) = %.3g' at %g, graph 0.5 right offset -0.5,0 tc 'dark-green'\n",
             fc, fc, fc, fc);
  snprintf(script, sizeof script,
           "set datafile separator ','\nset grid\nset xlabel 'frustrated fraction f'\n%s"
           "set multiplot layout 1,2 title \"Phase diagram: 2 classes x 50, d = %d, %d initial conditions per point, head rate ratio eta_P sigma^2/eta_x = 1, exact reduced dynamics to t = 500\"\n"
           "set logscale y\nset format y '10^{%%L}'\nset yrange [1e-17:3]\nset ylabel 'median final separation D(t_{end})/D(0)'\n"
           "set key bottom left box opaque\nset title 'final separation (median over initial conditions)'\n"
           "plot '%s/claim4/phase_minimal.csv' u 1:5 skip 1 w lp pt 4 lc 'gray40' t 'minimal', "
           "'%s/claim4/phase_head.csv' u 1:5 skip 1 w lp pt 6 lc 'orange' t 'head', "
           "'%s/claim4/phase_siam.csv' u 1:5 skip 1 w lp pt 8 lc 'blue' t 'siam', "
           "'%s/claim4/phase_siam-sg.csv' u 1:5 skip 1 w lp pt 7 lw 2 lc 'red' t 'siam-sg'\n"
           "unset logscale y\nset format y '%%g'\nset yrange [-0.05:1.05]\nset ylabel 'fraction of initial conditions apart'\n"
           "set key top right box opaque\nset title 'fraction apart (95%% Wilson intervals)'\n"
           "plot '%s/claim4/phase_siam-sg.csv' u 1:2:3:4 skip 1 w yerrorlines pt 7 lw 2 lc 'red' t 'siam-sg', "
           "'%s/claim4/phase_siam.csv' u 1:2:3:4 skip 1 w yerrorlines pt 8 lc 'blue' t 'siam', "
           "'%s/claim4/phase_head.csv' u 1:2 skip 1 w lp pt 6 lc 'orange' t 'head', "
           "'%s/claim4/phase_minimal.csv' u 1:2 skip 1 w lp pt 4 lc 'gray40' t 'minimal'\nunset multiplot\n",
           fcline, f->quick ? 4 : 8, f->quick ? 4 : 20, D, D, D, D, D, D, D, D);
  plot(c, script, "fig4_phase", 1500, 600);
  double fs = 5.0 / 105.0;
  row(c, "siam, f = 0.048: final min_label_distance", fig_num(a, "final.min_label_distance"), 0,
      "collapse: no separated fixed point (docs/selfconsistency.md)");
  row(c, "siam-sg, f = 0.048: final min_label_distance", fig_num(b, "final.min_label_distance"), NAN, "free (set by the initial condition)");
  row(c, "siam-sg fixed point: residual (norm of the vector field)", fig_num(fp, "residual"), 0, "Levenberg-Marquardt on the reduced equations");
  row(c, "siam-sg fixed point: loss / D^2", fig_num(fp, "loss") / pow(fig_num(fp, "min_label_distance"), 2),
      fs / (2 * (1 + fs)), "f/(2(1+f)) (docs/selfconsistency.md)");
  row(c, "siam-sg fixed point: max real part of the Jacobian (non-zero modes)", fig_num(fp, "stability.max_real_part"), NAN,
      "negative: stable up to the family");
  row(c, "crossover f_c of siam-sg (fraction apart = 1/2)", fc, NAN, "basins of attraction: measured only");
  claim_end(c,
            "![Figure 4](fig4_phase.png)\n\n*Figure 4.* Left: median final separation against f for the four models; "
            "right: fraction of initial conditions whose classes stay apart, with 95% Wilson intervals; the dashed "
            "line marks f_c for siam-sg.\n",
            "Without stop-gradient (minimal, head, siam) every run with f > 0 collapses (separation at round-off). "
            "With it (siam-sg), small f keeps every run apart at a stable fixed point with nonzero loss; as f grows a "
            "growing share of initial conditions falls into the collapsed fixed point, which is also stable: basins of "
            "attraction, not an instability, set f_c.");
out:
  json_decref(ph);
  json_decref(fp);
  json_decref(a);
  json_decref(b);
}

/* ---- claim 5: mean-field self-consistency vs simulation ---- */
static void claim_5(fig_ctx *c) {
  fig_run *f = c->f;
  const char *D = f->dir;
  claim_begin(c, 5, "the mean field predicts the head",
              "The mean-field self-consistency predicts the head at the fixed point; simulation agrees, and the "
              "reduced dynamics predicts the separation.");
  fig_cmd(f, "selfconsistent --classes 2 --per-class 50 --pattern pair --frustration-list %s --dim 4 --model siam-sg --seeds %d --check --t-end 1500 --quiet --out %s/claim5/selfconsistent.csv",
          f->quick ? "0:0.2:3" : "0:0.3:7", f->quick ? 3 : 20, D);
  if (f->failed) return;
  char path[4200];
  snprintf(path, sizeof path, "%s/claim5/selfconsistent.csv", D);
  double *fv = NULL, *g = NULL, *gd = NULL, *gc = NULL, *sd = NULL, *sc = NULL, *ld = NULL, *lc = NULL;
  size_t n = fig_csv_column(path, "f", &fv);
  fig_csv_column(path, "head_gain_separation", &g);
  fig_csv_column(path, "gain_dynamics", &gd);
  fig_csv_column(path, "check_gain", &gc);
  fig_csv_column(path, "check_separation_diff", &sd);
  fig_csv_column(path, "check_separation", &sc);
  fig_csv_column(path, "loss_from_relation", &ld);
  fig_csv_column(path, "loss_dynamics", &lc);
  double wg = 0, wgc = 0, wl = 0, ws = 0;
  for (size_t k = 0; k < n && g && gd && gc && sd && ld && lc; k++) {
    if (isfinite(gd[k])) wg = fmax(wg, fabs(gd[k] - g[k]));
    if (isfinite(gc[k])) wgc = fmax(wgc, fabs(gc[k] - g[k]));
    if (isfinite(sd[k])) ws = fmax(ws, fabs(sd[k]));
    if (isfinite(ld[k]) && isfinite(lc[k])) wl = fmax(wl, fabs(ld[k] - lc[k]));
  }
  row(c, "max |gain measured (reduced runs) - gain predicted|", wg, 0, "p = sqrt(mu_sep), mu_sep = (1-f)/(1+f)");
  row(c, "max |gain measured (particle rk45) - gain predicted|", wgc, 0, "p = sqrt(mu_sep)");
  row(c, "max |loss measured - loss from the relation with the measured D|", wl, 0, "L = f D^2 / (2(1+f))");
  row(c, "max |separation particle - separation reduced (same seed)|", ws, 0,
      "the exact reduced dynamics (the separation itself is free in the equations)");
  free(fv);
  free(g);
  free(gd);
  free(gc);
  free(sd);
  free(sc);
  free(ld);
  free(lc);
  char script[40000];
  snprintf(script, sizeof script,
           "set datafile separator ','\nset grid\nset xlabel 'frustrated fraction f'\n"
           "set multiplot layout 1,2 title \"siam-sg, 2 classes x 50, d = 4: the head's gain on the separation from the mean-field equations vs simulation;\\nthe separation (free in the equations) from the exact reduced dynamics over initial conditions vs a particle run\"\n"
           "set key bottom left box opaque\nset ylabel 'head gain |P v|/|v| on v = y_0 - y_1'\nset title 'head gain'\n"
           "plot '%s/claim5/selfconsistent.csv' u 'f':'head_gain_separation' w l lw 2 lc 'black' t 'predicted: sqrt((1-f)/(1+f))', "
           "'' u 'f':'gain_dynamics' w p pt 7 ps 1.4 lc 'red' t 'reduced dynamics (mean over seeds)', "
           "'' u 'f':'check_gain' w p pt 6 ps 2.2 lc 'blue' t 'particles (rk45, seed 1)'\n"
           "set ylabel 'final min label distance'\nset title 'separation (free in the equations)'\nset key top right box opaque\n"
           "plot '%s/claim5/selfconsistent.csv' u 'f':'separation_median' w lp pt 7 lc 'red' t 'reduced dynamics: median over seeds', "
           "'' u 'f':'separation_mean' w lp pt 5 lc 'orange' t 'reduced dynamics: mean over seeds', "
           "'' u 'f':'check_separation' w p pt 6 ps 2 lc 'blue' t 'particles (rk45, seed 1)'\nunset multiplot\n",
           D, D);
  plot(c, script, "fig5_selfconsistency", 1500, 600);
  claim_end(c,
            "![Figure 5](fig5_selfconsistency.png)\n\n*Figure 5.* Left: the head's gain on the class separation, "
            "predicted by the mean-field equations (line) and measured; right: the separation, which the equations "
            "leave free, from the reduced dynamics averaged over initial conditions and from a particle run.\n",
            "The fixed-point equations fix the gains (sqrt(mu) on each mode of the class walk, 1 on the centre of "
            "mass) and loss/D^2, not the separation D: that is a free parameter of a continuous family of fixed "
            "points, predicted instead by the exact reduced dynamics from the same initial conditions.");
}

static void claim_6(fig_ctx *c) {
  fig_run *f = c->f;
  const char *D = f->dir;
  claim_begin(c, 6, "the same in a linear teacher-student model",
              "The same qualitative dynamics and prevention appear in the linear teacher-student model.");
  /* over-parameterized (D = 4N): the student moves like the minimal model */
  const int steps = f->quick ? 1500 : 3000;
  char O[512];
  snprintf(O, sizeof O,
           "--task teacher-student --input-dim 160 --classes 2 --dim 8 --integrator gd --dt 0.1 --steps %d --seed 1 --quiet",
           steps);
  /* N = 40 samples in every case: 40 clean ones, or 36 clean ones and F = round(f C / (1 - f)) = 4 frustrated
   * ones added (docs/model.md 6.3) */
  const char *cases[][2] = {{"clean", "--samples 40 --frustration 0"},
                            {"minimal", "--samples 36 --frustration 0.1"},
                            {"siam", "--samples 36 --frustration 0.1 --model siam"},
                            {"siam-sg", "--samples 36 --frustration 0.1 --model siam-sg"}};
  for (int k = 0; k < 4; k++) fig_cmd(f, "run %s %s --out %s/claim6/%s", O, cases[k][1], D, cases[k][0]);
  json_t *j[4] = {0};
  for (int k = 0; k < 4; k++) j[k] = fig_json(f, "%s/claim6/%s/summary.json", D, cases[k][0]);
  if (f->failed) goto out;
  /* label distances relative to each run's own D(0) */
  char script[40000];
  {
    double d0[4];
    for (int k = 0; k < 4; k++) {
      char path[4200];
      double *v = NULL;
      snprintf(path, sizeof path, "%s/claim6/%s/metrics.csv", D, cases[k][0]);
      d0[k] = fig_csv_column(path, "min_label_distance", &v) ? v[0] : 1.0;
      free(v);
    }
    snprintf(script, sizeof script,
             "set datafile separator ','\nset logscale x\nset format x '10^{%%L}'\nset grid\nset xlabel 'time t (units of 1/eta_W)'\n"
             "set multiplot layout 1,2 title \"Linear teacher-student, N = 40 inputs in D = 160 dimensions (D = 4N), K = 2, d = 8, gd (dt = 0.1):\\n"
             "36 clean samples and 4 (10%%) also observed with a conflicting label, except the blue run (40 clean)\"\n"
             "set key bottom left box opaque\nset logscale y\nset format y '10^{%%L}'\nset yrange [1e-8:3]\n"
             "set ylabel 'min label distance D(t)/D(0)'\nset title 'the classes collapse without stop-gradient'\n"
             "plot '%s/claim6/clean/metrics.csv' u 1:($6/%.17g) skip 1 w l lw 2 lc 'blue' t 'minimal, f = 0', "
             "'%s/claim6/minimal/metrics.csv' u 1:($6/%.17g) skip 1 w l lw 2 lc 'gray30' t 'minimal', "
             "'%s/claim6/siam/metrics.csv' u 1:($6/%.17g) skip 1 w l lw 2 dt 2 lc 'orange' t 'siam', "
             "'%s/claim6/siam-sg/metrics.csv' u 1:($6/%.17g) skip 1 w l lw 3 lc 'red' t 'siam-sg'\n"
             "unset logscale y\nset format y '%%g'\nset yrange [0:1.05]\nset key bottom right box opaque\n"
             "set ylabel 'train accuracy (clean samples)'\nset title 'accuracy rises first, on the fast timescale'\n"
             "plot '%s/claim6/clean/metrics.csv' u 1:3 skip 1 w l lw 2 lc 'blue' t 'minimal, f = 0', "
             "'%s/claim6/minimal/metrics.csv' u 1:3 skip 1 w l lw 2 lc 'gray30' t 'minimal', "
             "'%s/claim6/siam/metrics.csv' u 1:3 skip 1 w l lw 2 dt 2 lc 'orange' t 'siam', "
             "'%s/claim6/siam-sg/metrics.csv' u 1:3 skip 1 w l lw 3 lc 'red' t 'siam-sg'\nunset multiplot\n",
             D, d0[0], D, d0[1], D, d0[2], D, d0[3], D, D, D, D);
    plot(c, script, "fig6_teacher_student", 1500, 600);
    row(c, "minimal, f = 0: final D/D(0)", fig_num(j[0], "final.min_label_distance") / d0[0], NAN,
        "no collapse (finite; the student moves like the minimal model)");
    row(c, "minimal, f = 0.1: fitted slow rate of D(t)", fig_num(j[1], "fitted_slow_rate"),
        fig_num(j[1], "minimal_model_prediction.slow_rate"),
        "the minimal model's slow rate on the same observations (D >= 4N regime: approximate)");
    row(c, "minimal, f = 0.1: final D/D(0)", fig_num(j[1], "final.min_label_distance") / d0[1], 0, "collapse");
    row(c, "siam, f = 0.1: final D/D(0)", fig_num(j[2], "final.min_label_distance") / d0[2], 0, "collapse");
    row(c, "siam-sg, f = 0.1: final D/D(0)", fig_num(j[3], "final.min_label_distance") / d0[3], NAN,
        "finite (free, as in claim 4)");
    row(c, "siam-sg, f = 0.1: final train accuracy", fig_num(j[3], "final.accuracy"), 1, "classes kept apart and fitted");
  }
  claim_end(c,
            "![Figure 6](fig6_teacher_student.png)\n\n*Figure 6.* Linear teacher-student model: label distance (left) "
            "and train accuracy (right) for the minimal model without and with frustration, siam and siam-sg.\n",
            "With D >= 4N the inputs are nearly orthogonal and each x_i = W u_i moves as in the minimal model: the same "
            "early rise of accuracy, the same slow collapse under frustration, and the same prevention by "
            "stop-gradient. Other regimes (D + K <= N, where the architecture itself frustrates the data, and `flip`) "
            "are documented in README.md.");
out:
  for (int k = 0; k < 4; k++) json_decref(j[k]);
}

int cmd_figures(int argc, char **argv) {
  cli_options o;
  int rc = cli_parse(argc, argv, 2, OPT_OUTFILE | OPT_FIGURES, "figures", &o);
  if (rc) {
    cli_options_free(&o);
    return rc < 0 ? 0 : rc;
  }
  if (o.beyond) { /* docs/model.md 6.5: cmd_figures_beyond.c */
    cli_options_free(&o);
    return cmd_figures_beyond(argc, argv);
  }
  static const char *const subs[] = {"claim1", "claim2", "claim3", "claim4", "claim5", "claim6"};
  fig_run f;
  rc_dir_lock *lock = NULL;
  rc = fig_begin(&o, subs, 6, &f, &lock);
  if (rc) {
    cli_options_free(&o);
    return rc;
  }
  rc_error err;
  fig_ctx c;
  memset(&c, 0, sizeof c);
  c.f = &f;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  fig_text_add(&c.report,
               "# repcollapse: the paper's claims, reproduced\n\n"
               "\"A Minimal Model of Representation Collapse: Frustration, Stop-Gradient, and Dynamics\" (Yao, Liu, "
               "Li, 2026), the claims of section 5 of the project's docs/model.md. Produced by "
               "`%s figures --out %s%s` (repcollapse %s, commit %s). Every number below is computed by the commands "
               "listed with it, each of which runs as printed, from any directory (they name the binary that ran "
               "them and absolute paths); each prediction is computed independently of the simulation it is "
               "compared with (closed forms, conserved quantities, the mean-field equations).\n",
               f.exe, f.dir, o.quick ? " --quick" : "", rc_version(), rc_source_commit());
  claims_1_2(&c);
  if (!f.failed) claim_3(&c);
  if (!f.failed) claim_4(&c);
  if (!f.failed) claim_5(&c);
  if (!f.failed) claim_6(&c);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  int status = 0;
  if (f.failed) {
    fprintf(cli_stderr(), "repcollapse figures: error: %s\n", f.failure);
    status = 1;
  } else {
    fig_text_add(&c.report, "\n---\nWall time: %.1f s.\n",
                 (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    char path[4200];
    snprintf(path, sizeof path, "%s/report.md", o.out);
    rc_atomic_file af;
    if (rc_atomic_open(&af, path, &err) == RC_OK) {
      fputs(c.report.s, af.fp);
      if (rc_atomic_commit(&af, &err) == RC_OK) fprintf(cli_stdout(), "report: %s\n", path);
      else status = cli_fail(&err);
    } else {
      status = cli_fail(&err);
    }
  }
  fig_text_free(&c.report);
  fig_text_free(&c.table);
  fig_text_free(&f.commands);
  rc_dir_lock_release(lock);
  cli_options_free(&o);
  return status;
}
