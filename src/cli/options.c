/* options.c: one table of every command-line option, parsed strictly into an
 * rc_run_config. A subcommand accepts the option groups it names; anything
 * else (unknown flag, bad number, missing value) is a one-line error. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

typedef enum {
  O_CLASSES, O_PER_CLASS, O_FRUSTRATED, O_FRUSTRATION, O_PATTERN, O_OBSERVATIONS, O_SEED, O_DATA_SEED,
  O_INIT_SEED, O_RATES, O_ETA_X, O_ETA_Y, O_DIM, O_SIGMA, O_INIT, O_INIT_SPREAD, O_INTEGRATOR, O_T_END, O_DT,
  O_STEPS, O_TIMES, O_POINTS, O_T_MIN, O_EPS, O_RTOL, O_ATOL, O_OUT, O_SNAPSHOTS, O_QUIET, O_METHOD,
  O_EXACT_METHOD, O_MODEL, O_TERMS, O_ETA_HEAD, O_HEAD_INIT, O_HEAD_SCALE, O_F_LIST, O_SEEDS, O_MODELS, O_RATIOS,
  O_APART, O_CHECK, O_JSON, O_ZERO_TOL, O_QUICK, O_PRECISION, O_THREADS, O_HELP,
  O_CONFIG, O_CHECKPOINT_EVERY, O_RESUME, O_METRICS
} opt_id;

typedef struct {
  const char *name;
  opt_id id;
  int has_arg;
  int group;
  const char *arg, *help;
} opt_def;

static const opt_def OPTS[] = {
    {"classes", O_CLASSES, 1, OPT_DATA, "K", "number of classes"},
    {"per-class", O_PER_CLASS, 1, OPT_DATA, "n|n1,n2,..", "clean samples per class (one value, or one per class)"},
    {"frustrated", O_FRUSTRATED, 1, OPT_DATA, "a-b:n,..", "n frustrated samples seen with classes a and b"},
    {"frustration", O_FRUSTRATION, 1, OPT_DATA, "f", "frustrated fraction f in [0,1): F = round(f C/(1-f))"},
    {"pattern", O_PATTERN, 1, OPT_DATA, "P", "pair|ring|random|complete (default pair)"},
    {"observations", O_OBSERVATIONS, 1, OPT_DATA, "FILE", "CSV of observations 'sample,label'"},
    {"seed", O_SEED, 1, OPT_DATA | OPT_INIT, "S", "sets --data-seed and --init-seed (default 1)"},
    {"data-seed", O_DATA_SEED, 1, OPT_DATA, "S", "seed of the random pattern"},
    {"init-seed", O_INIT_SEED, 1, OPT_INIT, "S", "seed of the initial embeddings"},
    {"rates", O_RATES, 1, OPT_MODEL, "R", "degree|uniform (default degree)"},
    {"eta-x", O_ETA_X, 1, OPT_MODEL, "A", "sample learning rate (default 1)"},
    {"eta-y", O_ETA_Y, 1, OPT_MODEL, "B", "label learning rate (default 1)"},
    {"dim", O_DIM, 1, OPT_INIT, "d", "embedding dimension (default 16)"},
    {"sigma", O_SIGMA, 1, OPT_INIT, "s", "initial entries N(0, s^2/d) (default 1)"},
    {"init", O_INIT, 1, OPT_INIT, "I", "gaussian|class (default gaussian)"},
    {"init-spread", O_INIT_SPREAD, 1, OPT_INIT, "s", "class init: x_i = m_c + s*noise (default 0.1)"},
    {"integrator", O_INTEGRATOR, 1, OPT_RUN | OPT_BENCH, "I", "exact|rk45|gd|reduced (default exact; reduced: term models)"},
    {"t-end", O_T_END, 1, OPT_RUN | OPT_BENCH, "T", "final time (default 10/slow_rate)"},
    {"dt", O_DT, 1, OPT_RUN | OPT_BENCH, "h", "gd step"},
    {"steps", O_STEPS, 1, OPT_RUN | OPT_BENCH, "S", "gd steps (t-end = S*dt)"},
    {"times", O_TIMES, 1, OPT_RUN, "t1,t2,..", "recorded times (default: 0 and a log grid)"},
    {"points", O_POINTS, 1, OPT_RUN, "P", "log grid points (default 80)"},
    {"t-min", O_T_MIN, 1, OPT_RUN, "t", "first positive time of the log grid (default 0.01/fast_rate)"},
    {"eps", O_EPS, 1, OPT_RUN, "e", "collapse threshold: D(t) <= e D(0) (default 0.01)"},
    {"rtol", O_RTOL, 1, OPT_RUN, "r", "rk45 relative tolerance (default 1e-10)"},
    {"atol", O_ATOL, 1, OPT_RUN, "a", "rk45 absolute tolerance (default 1e-12)"},
    {"out", O_OUT, 1, OPT_RUN | OPT_OUTFILE | OPT_SWEEP | OPT_FIGURES, "PATH", "output directory (run, phase, figures) or file (data, spectrum, fixedpoint, selfconsistent)"},
    {"snapshots", O_SNAPSHOTS, 0, OPT_RUN, NULL, "also write snapshots.h5 (embeddings at every time)"},
    {"quiet", O_QUIET, 0, OPT_RUN | OPT_SWEEP, NULL, "no progress display"},
    {"method", O_METHOD, 1, OPT_SPECTRUM, "M", "auto|kxk|group (default auto: kxk under degree)"},
    {"exact-method", O_EXACT_METHOD, 1, OPT_RUN, "M", "auto|kxk|group, for the exact integrator"},
    {"model", O_MODEL, 1, OPT_HEAD, "M", "minimal|head|siam|siam-sg (default minimal)"},
    {"terms", O_TERMS, 1, OPT_HEAD, "SPEC", "user terms, e.g. 'Px-sg(y)+Py-sg(x)' (see README)"},
    {"eta-head", O_ETA_HEAD, 1, OPT_HEAD, "E", "head learning rate eta_P (default 1)"},
    {"head-init", O_HEAD_INIT, 1, OPT_HEAD, "H", "identity|orthogonal|gaussian (default identity)"},
    {"head-scale", O_HEAD_SCALE, 1, OPT_HEAD, "s", "gaussian head init: entries N(0, s^2/d) (default 1)"},
    {"frustration-list", O_F_LIST, 1, OPT_SWEEP, "LIST", "frustration values: f1,f2,... or a range a:b:n (n values)"},
    {"seeds", O_SEEDS, 1, OPT_SWEEP, "S", "initial conditions per point: init seeds seed..seed+S-1 (default 10)"},
    {"models", O_MODELS, 1, OPT_SWEEP, "M1,M2", "models to compare (phase; default siam,siam-sg)"},
    {"head-ratio-list", O_RATIOS, 1, OPT_SWEEP, "LIST", "eta_head sigma^2/eta_x values (phase; default: from --eta-head)"},
    {"apart-threshold", O_APART, 1, OPT_SWEEP, "a", "stays apart: D(t_end) > a D(0) (default 1e-3)"},
    {"check", O_CHECK, 0, OPT_SWEEP, NULL, "selfconsistent: also run the particle simulation at each f"},
    {"json", O_JSON, 0, OPT_SWEEP, NULL, "print JSON instead of CSV"},
    {"zero-tol", O_ZERO_TOL, 1, OPT_FIXED, "r", "zero modes: |lambda| <= r max|lambda| (default 1e-6)"},
    {"quick", O_QUICK, 0, OPT_FIGURES, NULL, "figures: small sizes, under a minute"},
    {"precision", O_PRECISION, 1, OPT_RUN | OPT_BENCH, "P", "f64|f32: gd's floating-point type (default f64)"},
    {"threads", O_THREADS, 1, OPT_RUN | OPT_BENCH, "T", "threads of gd and the metrics (default: all cores); results do not depend on it"},
    {"metrics", O_METRICS, 1, OPT_RUN, "m1,m2,..", "metrics to compute (default all; the other columns of metrics.csv stay empty)"},
    {"help", O_HELP, 0, ~0, NULL, "this help"},
    {"config", O_CONFIG, 1, ~0, "FILE", "settings from an INI file or a summary.json (flags given here override it)"},
    {"checkpoint-every", O_CHECKPOINT_EVERY, 1, OPT_RUN, "T", "save the run's state to DIR/checkpoint.bin every T of simulated time"},
    {"resume", O_RESUME, 0, OPT_RUN, NULL, "continue from DIR/checkpoint.bin (same settings) if there is one"},
};
#define N_OPTS (sizeof OPTS / sizeof OPTS[0])

static void print_help(const char *cmd, int groups) {
  printf("usage: repcollapse %s [options]\n\noptions:\n", cmd);
  for (size_t k = 0; k < N_OPTS; k++) {
    if (!(OPTS[k].group & groups)) continue;
    char left[64];
    snprintf(left, sizeof left, "--%s%s%s", OPTS[k].name, OPTS[k].arg ? " " : "", OPTS[k].arg ? OPTS[k].arg : "");
    printf("  %-26s %s\n", left, OPTS[k].help);
  }
  if (!strcmp(cmd, "run"))
    printf("  %-26s %s\n", "--task teacher-student",
           "the linear teacher-student model (MODEL.md section 4): repcollapse run --task teacher-student --help");
}

/* where the option being parsed comes from when not the command line ("exp.ini:7: key 'dim'") */
static const char *option_origin;

static int err_usage(const char *cmd, const char *fmt, const char *a, const char *b) {
  fprintf(stderr, "repcollapse %s: error: ", cmd);
  if (option_origin) fprintf(stderr, "%s: ", option_origin);
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
  return 2;
}

static int parse_double(const char *s, double *v) {
  if (!*s) return 0;
  errno = 0;
  char *end;
  *v = strtod(s, &end);
  return *end == '\0' && errno == 0 && isfinite(*v);
}

static int parse_size(const char *s, size_t *v) {
  if (!*s || *s == '-' || *s == '+') return 0;
  for (const char *p = s; *p; p++)
    if (*p < '0' || *p > '9') return 0;
  errno = 0;
  unsigned long long x = strtoull(s, NULL, 10);
  if (errno) return 0;
  *v = (size_t)x;
  return 1;
}

/* comma list of doubles or sizes; *out malloc'ed */
static int parse_list_double(const char *s, double **out, size_t *n) {
  size_t cap = 1;
  for (const char *p = s; *p; p++) cap += *p == ',';
  double *v = malloc(cap * sizeof *v);
  if (!v) return 0;
  char *copy = strdup(s), *save = NULL, *tok;
  size_t k = 0;
  int ok = copy != NULL;
  for (tok = ok ? strtok_r(copy, ",", &save) : NULL; ok && tok; tok = strtok_r(NULL, ",", &save))
    if (!parse_double(tok, &v[k++])) ok = 0;
  if (ok && (k != cap || k == 0)) ok = 0; /* empty items */
  free(copy);
  if (!ok) {
    free(v);
    return 0;
  }
  *out = v;
  *n = k;
  return 1;
}

static int parse_list_size(const char *s, size_t **out, size_t *n) {
  double *d;
  size_t k;
  if (!parse_list_double(s, &d, &k)) return 0;
  size_t *v = malloc(k * sizeof *v);
  int ok = v != NULL;
  for (size_t i = 0; ok && i < k; i++) {
    if (d[i] < 0 || d[i] != floor(d[i]) || d[i] > 1e15) ok = 0;
    else v[i] = (size_t)d[i];
  }
  free(d);
  if (!ok) {
    free(v);
    return 0;
  }
  /* also reject forms like "1e3" or "+5" for sizes */
  for (const char *p = s; *p; p++)
    if (!(*p == ',' || (*p >= '0' && *p <= '9'))) {
      free(v);
      return 0;
    }
  *out = v;
  *n = k;
  return 1;
}

/* f1,f2,... or a:b:n (n evenly spaced values from a to b inclusive) */
static int parse_list_or_range(const char *s, double **out, size_t *n) {
  const char *c1 = strchr(s, ':');
  if (!c1) return parse_list_double(s, out, n);
  char a[64], b[64];
  const char *c2 = strchr(c1 + 1, ':');
  if (!c2 || strchr(c2 + 1, ':') || (size_t)(c1 - s) >= sizeof a || (size_t)(c2 - c1 - 1) >= sizeof b) return 0;
  memcpy(a, s, (size_t)(c1 - s));
  a[c1 - s] = '\0';
  memcpy(b, c1 + 1, (size_t)(c2 - c1 - 1));
  b[c2 - c1 - 1] = '\0';
  double lo, hi;
  size_t cnt;
  if (!parse_double(a, &lo) || !parse_double(b, &hi) || !parse_size(c2 + 1, &cnt) || cnt == 0 || cnt > 100000) return 0;
  if (cnt == 1 && lo != hi) return 0;
  double *v = malloc(cnt * sizeof *v);
  if (!v) return 0;
  for (size_t k = 0; k < cnt; k++) v[k] = cnt == 1 ? lo : lo + (hi - lo) * (double)k / (double)(cnt - 1);
  *out = v;
  *n = cnt;
  return 1;
}

void cli_options_free(cli_options *o) {
  free(o->f_list);
  free(o->ratio_list);
  free(o->models);
  free(o->class_sizes);
  free(o->pairs);
  free(o->times);
  free(o->command_line);
  for (int k = 0; k < o->nargs; k++) {
    free(o->args[k]);
    free(o->origins[k]);
  }
  free(o->args);
  free(o->origins);
  json_decref(o->settings);
  free(o->settings_text);
}

int cli_option_find(const char *name, size_t len, int *has_arg, int *groups) {
  for (size_t q = 0; q < N_OPTS; q++)
    if (strlen(OPTS[q].name) == len && !strncmp(OPTS[q].name, name, len)) {
      *has_arg = OPTS[q].has_arg;
      *groups = OPTS[q].group;
      return 1;
    }
  return 0;
}

/* Options that say where and how to run, not what: not recorded in
 * summary.json's settings, and not part of a checkpoint's fingerprint. */
static int is_recorded(const char *name) {
  static const char *const not_recorded[] = {"out", "quiet", "config", "help", "resume", "checkpoint-every"};
  for (size_t k = 0; k < sizeof not_recorded / sizeof *not_recorded; k++)
    if (!strcmp(name, not_recorded[k])) return 0;
  return 1;
}

/* Record an applied option as a setting (a file path made absolute, so that a
 * summary.json reruns from any directory). */
static void record_setting(cli_options *o, const opt_def *def, const char *v) {
  if (!is_recorded(def->name)) return;
  char *abs = v && def->arg && !strcmp(def->arg, "FILE") ? realpath(v, NULL) : NULL;
  json_object_set_new(o->settings, def->name, json_string(abs ? abs : v ? v : "true"));
  free(abs);
}

static int parse_method(const char *v, rc_spectrum_method *m) {
  if (!strcmp(v, "auto")) *m = RC_SPECTRUM_AUTO;
  else if (!strcmp(v, "kxk")) *m = RC_SPECTRUM_KK;
  else if (!strcmp(v, "group")) *m = RC_SPECTRUM_GROUP;
  else return 0;
  return 1;
}

int cli_parse(int argc, char **argv, int first, int groups, const char *cmd, cli_options *o) {
  memset(o, 0, sizeof *o);
  option_origin = NULL;
  o->cfg = rc_run_config_default();
  o->method = RC_SPECTRUM_AUTO;
  o->sweep.seeds = 10;
  o->sweep.apart_threshold = 1e-3;
  o->zero_tol = 1e-6;
  /* record the command line */
  size_t len = 1;
  for (int k = 0; k < argc; k++) len += strlen(argv[k]) + 1;
  o->command_line = calloc(len, 1);
  for (int k = 0; o->command_line && k < argc; k++) {
    if (!strcmp(argv[k], "--resume")) continue; /* a resumed run records the command it continues */
    if (k) strcat(o->command_line, " ");
    strcat(o->command_line, argv[k]);
  }
  o->cfg.command_line = o->command_line;
  o->settings = json_object();
  int config_rc = cli_config_expand(argc, argv, first, groups, cmd, o);
  if (config_rc) return config_rc;
  if (o->args) {
    argc = o->nargs;
    argv = o->args;
  }
  rc_error err;
  for (int k = first; k < argc; k++) {
    const char *a = argv[k];
    option_origin = o->origins ? o->origins[k] : NULL;
    if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
      return err_usage(cmd, "unexpected argument '%s'%s", a, " (options start with --)");
    const char *name = a + 2, *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    const opt_def *def = NULL;
    for (size_t q = 0; q < N_OPTS; q++)
      if (strlen(OPTS[q].name) == nlen && !strncmp(OPTS[q].name, name, nlen)) def = &OPTS[q];
    if (!def || !(def->group & groups)) return err_usage(cmd, "unknown option '%s'%s", a, " (see --help)");
    const char *v = NULL;
    if (def->has_arg) {
      if (eq) v = eq + 1;
      else if (k + 1 < argc) v = argv[++k];
      else return err_usage(cmd, "option '--%s' needs a value%s", def->name, "");
    } else if (eq) {
      return err_usage(cmd, "option '--%s' takes no value%s", def->name, "");
    }
    double x;
    size_t n;
    rc_run_config *c = &o->cfg;
#define NEED(cond, what) \
  if (!(cond)) return err_usage(cmd, "--%s: " what " (got '%s')", def->name, v)
    switch (def->id) {
      case O_CLASSES:
        NEED(parse_size(v, &n) && n > 0, "expected a positive integer");
        c->data.n_classes = n;
        o->classes_given = 1;
        break;
      case O_PER_CLASS:
        free(o->class_sizes);
        NEED(parse_list_size(v, &o->class_sizes, &n), "expected a positive integer or a comma list of them");
        for (size_t q = 0; q < n; q++) NEED(o->class_sizes[q] > 0, "every class size must be positive");
        c->data.class_sizes = o->class_sizes;
        c->data.n_class_sizes = n;
        o->per_class_given = 1;
        break;
      case O_FRUSTRATED:
        free(o->pairs);
        o->pairs = NULL;
        if (rc_parse_pairs(v, &o->pairs, &n, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        c->data.pairs = o->pairs;
        c->data.n_pairs = n;
        break;
      case O_FRUSTRATION:
        NEED(parse_double(v, &x), "expected a number");
        if (!(x >= 0 && x < 1))
          return err_usage(cmd, "--frustration %s is outside [0, 1)%s", v, x == 1 ? " (f = 1 leaves no clean sample)" : "");
        c->data.frustration = x;
        c->data.has_frustration = 1;
        break;
      case O_PATTERN:
        if (rc_parse_pattern(v, &c->data.pattern, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        break;
      case O_OBSERVATIONS: c->data.observations_file = v; break;
      case O_SEED:
        NEED(parse_size(v, &n), "expected a non-negative integer");
        if (!o->data_seed_given) c->data.data_seed = n;
        if (!o->init_seed_given) c->init.seed = n;
        o->seed_given = 1;
        break;
      case O_DATA_SEED:
        NEED(parse_size(v, &n), "expected a non-negative integer");
        c->data.data_seed = n;
        o->data_seed_given = 1;
        break;
      case O_INIT_SEED:
        NEED(parse_size(v, &n), "expected a non-negative integer");
        c->init.seed = n;
        o->init_seed_given = 1;
        break;
      case O_RATES:
        if (rc_parse_rate_scheme(v, &c->model.rates, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        break;
      case O_ETA_X:
        NEED(parse_double(v, &x) && x > 0, "expected a positive number");
        c->model.eta_x = x;
        break;
      case O_ETA_Y:
        NEED(parse_double(v, &x) && x > 0, "expected a positive number");
        c->model.eta_y = x;
        break;
      case O_DIM:
        NEED(parse_size(v, &n) && n > 0, "expected a positive integer");
        c->dim = n;
        o->dim_given = 1;
        break;
      case O_SIGMA:
        NEED(parse_double(v, &x) && x > 0, "expected a positive number");
        c->init.sigma = x;
        break;
      case O_INIT:
        if (rc_parse_init_kind(v, &c->init.kind, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        break;
      case O_INIT_SPREAD:
        NEED(parse_double(v, &x) && x >= 0, "expected a non-negative number");
        c->init.spread = x;
        break;
      case O_INTEGRATOR:
        if (rc_parse_integrator(v, &c->integrator, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        o->integrator_given = 1;
        break;
      case O_T_END:
        NEED(parse_double(v, &x) && x > 0, "expected a positive number");
        c->t_end = x;
        break;
      case O_DT:
        NEED(parse_double(v, &x) && x > 0, "expected a positive number");
        c->dt = x;
        break;
      case O_STEPS:
        NEED(parse_size(v, &n) && n > 0, "expected a positive integer");
        c->steps = n;
        break;
      case O_TIMES:
        free(o->times);
        o->times = NULL;
        NEED(parse_list_double(v, &o->times, &n), "expected a comma list of times");
        c->times = o->times;
        c->n_times = n;
        break;
      case O_POINTS:
        NEED(parse_size(v, &n) && n > 0 && n <= 10000000, "expected a positive integer");
        c->points = n;
        break;
      case O_T_MIN:
        NEED(parse_double(v, &x) && x > 0, "expected a positive number");
        c->t_min = x;
        break;
      case O_EPS:
        NEED(parse_double(v, &x) && x > 0 && x < 1, "expected a number in (0, 1)");
        c->eps = x;
        break;
      case O_RTOL:
        NEED(parse_double(v, &x) && x > 0, "expected a positive number");
        c->rtol = x;
        break;
      case O_ATOL:
        NEED(parse_double(v, &x) && x > 0, "expected a positive number");
        c->atol = x;
        break;
      case O_OUT: o->out = v; break;
      case O_SNAPSHOTS: c->snapshots = 1; break;
      case O_QUIET: o->quiet = 1; break;
      case O_METHOD: NEED(parse_method(v, &o->method), "expected auto, kxk or group"); break;
      case O_EXACT_METHOD: NEED(parse_method(v, &c->exact_method), "expected auto, kxk or group"); break;
      case O_MODEL:
        if (rc_model_preset(v, &c->terms, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        o->model_given = 1;
        break;
      case O_TERMS:
        if (rc_model_parse_terms(v, &c->terms, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        o->terms_given = 1;
        break;
      case O_ETA_HEAD:
        NEED(parse_double(v, &x) && x > 0, "expected a positive number");
        c->eta_head = x;
        break;
      case O_HEAD_INIT:
        if (rc_parse_head_init(v, &c->head_init, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        break;
      case O_HEAD_SCALE:
        NEED(parse_double(v, &x) && x > 0, "expected a positive number");
        c->head_scale = x;
        break;
      case O_F_LIST:
        free(o->f_list);
        o->f_list = NULL;
        NEED(parse_list_or_range(v, &o->f_list, &n), "expected f1,f2,... or a:b:n");
        for (size_t q = 0; q < n; q++)
          if (!(o->f_list[q] >= 0 && o->f_list[q] < 1)) return err_usage(cmd, "--frustration-list: %s contains a value outside [0, 1)%s", v, "");
        o->sweep.f = o->f_list;
        o->sweep.n_f = n;
        break;
      case O_SEEDS:
        NEED(parse_size(v, &n) && n > 0 && n <= 1000000, "expected a positive integer");
        o->sweep.seeds = n;
        break;
      case O_MODELS: {
        free(o->models);
        size_t cap = 1;
        for (const char *p = v; *p; p++) cap += *p == ',';
        o->models = calloc(cap, sizeof *o->models);
        char *copy = strdup(v), *save = NULL;
        n = 0;
        for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save))
          if (!o->models || rc_model_preset(tok, &o->models[n++], &err)) {
            free(copy);
            return err_usage(cmd, "--models: %s%s", o->models ? err.msg : "out of memory", "");
          }
        free(copy);
        NEED(n == cap, "expected a comma list of models");
        o->sweep.models = o->models;
        o->sweep.n_models = n;
        break;
      }
      case O_RATIOS:
        free(o->ratio_list);
        o->ratio_list = NULL;
        NEED(parse_list_or_range(v, &o->ratio_list, &n), "expected r1,r2,... or a:b:n");
        for (size_t q = 0; q < n; q++) NEED(o->ratio_list[q] > 0, "every ratio must be positive");
        o->sweep.ratios = o->ratio_list;
        o->sweep.n_ratios = n;
        break;
      case O_APART:
        NEED(parse_double(v, &x) && x > 0 && x < 1, "expected a number in (0, 1)");
        o->sweep.apart_threshold = x;
        break;
      case O_CHECK: o->sweep.check = 1; break;
      case O_QUICK: o->quick = 1; break;
      case O_JSON: o->json = 1; break;
      case O_ZERO_TOL:
        NEED(parse_double(v, &x) && x > 0 && x < 1, "expected a number in (0, 1)");
        o->zero_tol = x;
        break;
      case O_PRECISION:
        if (rc_parse_precision(v, &c->precision, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        break;
      case O_THREADS:
        NEED(parse_size(v, &n) && n > 0 && n <= 4096, "expected a positive integer");
        c->threads = (int)n;
        break;
      case O_HELP: print_help(cmd, groups); return -1;
      case O_CONFIG: break; /* read by cli_config_expand */
      case O_CHECKPOINT_EVERY:
        NEED(parse_double(v, &x) && x > 0, "expected a positive simulated time");
        c->checkpoint_every = x;
        break;
      case O_RESUME: c->resume = 1; break;
      case O_METRICS:
        if (rc_metrics_parse(v, &c->metrics, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        break;
    }
#undef NEED
    record_setting(o, def, v);
  }
  if (o->model_given && o->terms_given)
    return err_usage(cmd, "give either --model or --terms, not both%s%s", "", "");
  option_origin = NULL;
  o->settings_text = json_dumps(o->settings, JSON_COMPACT | JSON_SORT_KEYS);
  o->cfg.settings = o->settings_text;
  if (groups & OPT_DATA) {
    rc_data_spec *d = &o->cfg.data;
    if (d->observations_file) {
      if (o->classes_given || o->per_class_given || d->n_pairs || d->has_frustration)
        return err_usage(cmd, "--observations describes the whole data set: drop %s%s",
                         "--classes, --per-class, --frustrated and --frustration", "");
    } else {
      if (!o->per_class_given) return err_usage(cmd, "no data set: give --classes K --per-class n (or --observations FILE)%s%s", "", "");
      if (d->n_class_sizes == 1 && !o->classes_given)
        return err_usage(cmd, "--per-class with one size needs --classes K%s%s", "", "");
    }
  }
  return 0;
}

int cli_finish(int rc) {
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "repcollapse: error: cannot write to standard output: %s\n", strerror(errno ? errno : EIO));
    return rc ? rc : 1;
  }
  return rc;
}

int cli_fail(const rc_error *err) {
  fprintf(stderr, "repcollapse: error: %s\n", err->msg[0] ? err->msg : rc_status_name(err->code));
  return err->code == RC_EINVAL || err->code == RC_EUNSTABLE ? 2 : 1;
}

/* strict number parsing for subcommands with options of their own (cmd_run_ts.c) */
int cli_parse_double(const char *s, double *v) { return parse_double(s, v); }
int cli_parse_size(const char *s, size_t *v) { return parse_size(s, v); }

int cli_option_kind(const char *name, int groups) {
  for (size_t k = 0; k < N_OPTS; k++)
    if (!strcmp(OPTS[k].name, name) && (OPTS[k].group & groups) && OPTS[k].id != O_HELP) return OPTS[k].has_arg;
  return -1;
}
