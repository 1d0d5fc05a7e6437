/* options.c: one table of every command-line option, parsed strictly into an
 * rc_run_config. A subcommand accepts the option groups it names; anything
 * else (unknown flag, bad number, missing value) is a one-line error. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/number.h"

typedef enum {
  O_CLASSES, O_PER_CLASS, O_FRUSTRATED, O_FRUSTRATION, O_PATTERN, O_OBSERVATIONS, O_SEED, O_DATA_SEED,
  O_INIT_SEED, O_RATES, O_ETA_X, O_ETA_Y, O_DIM, O_SIGMA, O_INIT, O_INIT_SPREAD, O_INTEGRATOR, O_T_END, O_DT,
  O_STEPS, O_TIMES, O_POINTS, O_T_MIN, O_EPS, O_RTOL, O_ATOL, O_OUT, O_SNAPSHOTS, O_QUIET, O_METHOD,
  O_EXACT_METHOD, O_MODEL, O_TERMS, O_ETA_HEAD, O_HEAD_INIT, O_HEAD_SCALE, O_F_LIST, O_SEEDS, O_MODELS, O_RATIOS,
  O_APART, O_CHECK, O_JSON, O_ZERO_TOL, O_QUICK, O_PRECISION, O_THREADS, O_HELP,
  O_APART_DECAY, O_BEYOND, O_CLAIMS, /* phase: 6.5's apart rule; figures --beyond [--claims] */
  O_CONFIG, O_ALLOW_CHANGED, O_CHECKPOINT_EVERY, O_RESUME, O_MAX_STEPS, O_METRICS,
  /* training: optimizers, weight decay, minibatches, EMA targets, collapse metric (optimizer.h) */
  O_OPTIMIZER, O_MOMENTUM, O_ADAM_BETAS, O_ADAM_EPS, O_WEIGHT_DECAY, O_WEIGHT_DECAY_ON, O_BATCH, O_BATCH_SEED,
  O_EMA_RATE, O_EMA, O_COLLAPSE_METRIC,
  O_SPHERE, O_UNIFORMITY_T, O_TEMPERATURE,
  O_TASK, O_SAMPLES, O_INPUT_DIM, O_TEACHER, O_MIXTURE_NOISE, O_FRUSTRATION_MODE, O_ETA_W, O_TEST_SAMPLES,
  O_ENCODER, O_INPUTS, O_INPUTS_FILE,
  O_HIDDEN, O_ACTIVATION,
  O_COUNT
} opt_id;
_Static_assert(O_COUNT <= 128, "cli_options.given holds 128 option ids");

typedef struct {
  const char *name;
  opt_id id;
  int has_arg;
  int group;
  const char *arg, *help;
} opt_def;

#define RUNLIKE (OPT_RUN | OPT_BENCH)
static const opt_def OPTS[] = {
    {"classes", O_CLASSES, 1, OPT_DATA, "K", "number of classes"},
    {"per-class", O_PER_CLASS, 1, OPT_DATA, "n|n1,n2,..", "clean samples per class (one value, or one per class)"},
    {"frustrated", O_FRUSTRATED, 1, OPT_DATA, "a-b:n,..", "n frustrated samples seen with classes a and b"},
    {"frustration", O_FRUSTRATION, 1, OPT_DATA, "f", "frustrated fraction f in [0,1): F = round(f C/(1-f))"},
    {"pattern", O_PATTERN, 1, OPT_DATA, "P", "pair|ring|random|complete"},
    {"observations", O_OBSERVATIONS, 1, OPT_DATA, "FILE", "CSV of observations 'sample,label'"},
    {"seed", O_SEED, 1, OPT_DATA | OPT_INIT, "S", "sets --data-seed and --init-seed"},
    {"data-seed", O_DATA_SEED, 1, OPT_DATA, "S", "seed of the random pattern"},
    {"init-seed", O_INIT_SEED, 1, OPT_INIT, "S", "seed of the initial embeddings"},
    {"rates", O_RATES, 1, OPT_MODEL, "R", "degree|uniform"},
    {"eta-x", O_ETA_X, 1, OPT_MODEL, "A", "sample learning rate"},
    {"eta-y", O_ETA_Y, 1, OPT_MODEL, "B", "label learning rate"},
    {"dim", O_DIM, 1, OPT_INIT, "d", "embedding dimension"},
    {"sigma", O_SIGMA, 1, OPT_INIT, "s", "initial entries N(0, s^2/d)"},
    {"init", O_INIT, 1, OPT_INIT, "I", "gaussian|class"},
    {"init-spread", O_INIT_SPREAD, 1, OPT_INIT, "s", "class init: x_i = m_c + s*noise"},
    {"integrator", O_INTEGRATOR, 1, RUNLIKE, "I", "exact|rk45|gd|reduced (reduced: term models)"},
    {"t-end", O_T_END, 1, RUNLIKE, "T", "final time"},
    {"dt", O_DT, 1, RUNLIKE, "h", "gd step"},
    {"steps", O_STEPS, 1, RUNLIKE, "S", "gd steps"},
    {"times", O_TIMES, 1, OPT_RECORD, "t1,t2,..", "recorded times (the last one is the end time)"},
    {"points", O_POINTS, 1, OPT_RECORD, "P", "log grid points"},
    {"t-min", O_T_MIN, 1, OPT_RECORD, "t", "first positive time of the log grid"},
    {"eps", O_EPS, 1, OPT_RECORD, "e", "collapse threshold: D(t) <= e D(0)"},
    {"rtol", O_RTOL, 1, OPT_RUN, "r", "rk45 relative tolerance (at least 1e-14)"},
    {"atol", O_ATOL, 1, OPT_RUN, "a", "rk45 absolute tolerance"},
    {"max-steps", O_MAX_STEPS, 1, OPT_RUN, "S", "rk45: stop with an error after S steps"},
    {"out", O_OUT, 1, OPT_OUTFILE, "PATH", "output directory (run, phase, figures) or file (the other commands)"},
    {"snapshots", O_SNAPSHOTS, 0, OPT_RUNDIR, NULL, "also write snapshots.h5 (embeddings at every time)"},
    {"quiet", O_QUIET, 0, OPT_PROGRESS, NULL, "no progress display"},
    {"method", O_METHOD, 1, OPT_SPECTRUM, "M", "auto|kxk|group (auto: kxk under degree)"},
    {"exact-method", O_EXACT_METHOD, 1, OPT_RUN | OPT_BENCH, "M", "auto|kxk|group, for the exact integrator"},
    {"model", O_MODEL, 1, OPT_HEAD, "M", "minimal|head|siam|siam-sg|simsiam|proj|proj-sg"},
    {"terms", O_TERMS, 1, OPT_HEAD, "SPEC", "user terms, e.g. 'Px-sg(y)+Py-sg(x)', 'cos(Px,sg(y))+cos(Py,sg(x))', 'x-y+0.5*uniformity(y)', 'infonce(x,y)' (see README)"},
    {"sphere", O_SPHERE, 0, OPT_HEAD, NULL, "keep samples and labels on the unit sphere (projection after each gd step)"},
    {"uniformity-t", O_UNIFORMITY_T, 1, OPT_HEAD, "t", "uniformity terms: the t of exp(-t |z^_a - z^_b|^2)"},
    {"temperature", O_TEMPERATURE, 1, OPT_HEAD, "tau", "infonce terms: the temperature tau"},
    {"eta-head", O_ETA_HEAD, 1, OPT_HEAD, "E", "head learning rate eta_P"},
    {"head-init", O_HEAD_INIT, 1, OPT_HEAD, "H", "identity|orthogonal|gaussian"},
    {"head-scale", O_HEAD_SCALE, 1, OPT_HEAD, "s", "gaussian head init: entries N(0, s^2/d)"},
    {"frustration-list", O_F_LIST, 1, OPT_SWEEP, "LIST", "frustration values: f1,f2,... or a range a:b:n (n values)"},
    {"seeds", O_SEEDS, 1, OPT_SWEEP, "S", "initial conditions per point: init seeds seed..seed+S-1"},
    {"models", O_MODELS, 1, OPT_PHASE, "M1,M2", "models to compare (default siam,siam-sg)"},
    {"head-ratio-list", O_RATIOS, 1, OPT_PHASE, "LIST", "eta_head sigma^2/eta_x values (default: from --eta-head)"},
    {"apart-threshold", O_APART, 1, OPT_SWEEP, "a", "stays apart: D(t_end) > a D(0)"},
    {"apart-decay-max", O_APART_DECAY, 1, OPT_PHASE, "r", "also apart only if the collapse metric's decay rate over the last decade of t is below r x the minimal model's slow_rate (0: off; docs/model.md 6.5 uses 0.01)"},
    {"check", O_CHECK, 0, OPT_SELFCONS, NULL, "also run the particle simulation at each f"},
    {"json", O_JSON, 0, OPT_SELFCONS, NULL, "print JSON instead of CSV"},
    {"zero-tol", O_ZERO_TOL, 1, OPT_FIXED, "r", "zero modes: |lambda| <= r max|lambda|"},
    {"quick", O_QUICK, 0, OPT_FIGURES, NULL, "figures: small sizes, under a minute"},
    {"beyond", O_BEYOND, 0, OPT_FIGURES, NULL, "figures: the claims beyond the paper (docs/model.md 6.5) instead of the paper's"},
    {"claims", O_CLAIMS, 1, OPT_FIGURES, "LIST", "figures --beyond: only these parts, of 7,8,9,10,geometry,order (default all)"},
    {"precision", O_PRECISION, 1, RUNLIKE, "P", "f64|f32: gd's floating-point type"},
    {"threads", O_THREADS, 1, RUNLIKE, "T", "threads of gd and the metrics (at most 4096; default also from OMP_NUM_THREADS); results do not depend on it"},
    {"metrics", O_METRICS, 1, OPT_RECORD | OPT_BENCH, "m1,m2,..", "metrics to compute (the other columns of metrics.csv stay empty)"},
    {"help", O_HELP, 0, ~0, NULL, "this help"},
    {"config", O_CONFIG, 1, ~0, "FILE", "settings from an INI file or a summary.json (flags given here override it)"},
    {"allow-changed-inputs", O_ALLOW_CHANGED, 0, ~0, NULL, "--config summary.json: accept input files whose content changed since"},
    {"checkpoint-every", O_CHECKPOINT_EVERY, 1, OPT_RUNDIR, "T", "save the run's state to DIR/checkpoint.bin every T of simulated time"},
    {"resume", O_RESUME, 0, OPT_RUNDIR, NULL, "continue from DIR/checkpoint.bin (same settings) if there is one"},
    {"optimizer", O_OPTIMIZER, 1, OPT_TRAIN, "O", "gd|momentum|nesterov|adam|adamw: the discrete optimizer (default gd; implies --integrator gd)"},
    {"momentum", O_MOMENTUM, 1, OPT_TRAIN, "beta", "momentum / nesterov: beta in [0, 1) (default 0.9)"},
    {"adam-betas", O_ADAM_BETAS, 1, OPT_TRAIN, "b1,b2", "adam / adamw: moment decay rates (default 0.9,0.999)"},
    {"adam-eps", O_ADAM_EPS, 1, OPT_TRAIN, "e", "adam / adamw: eps (default 1e-8)"},
    {"weight-decay", O_WEIGHT_DECAY, 1, OPT_TRAIN | OPT_SPECTRUM, "w", "weight decay w >= 0, added to the rate-scaled gradient, also in flow (default 0)"},
    {"weight-decay-on", O_WEIGHT_DECAY_ON, 1, OPT_TRAIN, "x,y,P,W,..", "the parameters weight decay applies to (default: every trained parameter)"},
    {"batch", O_BATCH, 1, OPT_TRAIN, "B", "minibatch: observations per step (default: all)"},
    {"batch-seed", O_BATCH_SEED, 1, OPT_TRAIN, "S", "seed of the minibatch shuffle (default: init seed + 2)"},
    {"ema-rate", O_EMA_RATE, 1, OPT_TRAIN, "kappa", "EMA targets: d(theta_bar)/dt = kappa (theta - theta_bar) (models with sg targets)"},
    {"ema", O_EMA, 1, OPT_TRAIN, "tau", "EMA targets, discrete shorthand: kappa = (1 - tau)/dt (BYOL's tau; 0 = plain sg)"},
    {"collapse-metric", O_COLLAPSE_METRIC, 1, OPT_TRAIN | OPT_PHASE, "M", "min_label_distance|relative_label_distance|angular_label_distance: what collapse_time, fitted_slow_rate and apart read (default min_label_distance)"},
    /* the teacher-student task (docs/model.md section 4): the linear encoder x = W u on generated inputs */
    {"task", O_TASK, 1, OPT_TASK, "T", "teacher-student: the linear teacher-student model (= --encoder linear --inputs teacher; the options below)"},
    {"encoder", O_ENCODER, 1, OPT_TASK, "E", "table|linear|mlp: free embeddings (default), x = W u, or x = W2 phi(W1 u + b1) + b2 on --inputs"},
    {"inputs", O_INPUTS, 1, OPT_TASK, "I", "encoder inputs: teacher|mixture|fashion-mnist|file (default teacher; fashion-mnist and file take --per-class n)"},
    {"inputs-file", O_INPUTS_FILE, 1, OPT_TASK, "PATH", "--inputs file: the HDF5 file of inputs (datasets inputs, labels, optionally test_inputs, test_labels)"},
    {"hidden", O_HIDDEN, 1, OPT_TASK, "h", "--encoder mlp: hidden width (default 64)"},
    {"activation", O_ACTIVATION, 1, OPT_TASK, "A", "--encoder mlp: relu|tanh (default relu)"},
    {"samples", O_SAMPLES, 1, OPT_TASK, "N", "teacher-student: clean training inputs (required; frustrated ones are added)"},
    {"input-dim", O_INPUT_DIM, 1, OPT_TASK, "D", "teacher-student: input dimension (required)"},
    {"teacher", O_TEACHER, 1, OPT_TASK, "T", "teacher-student: linear|mixture (default linear; the same as --inputs teacher|mixture)"},
    {"mixture-noise", O_MIXTURE_NOISE, 1, OPT_TASK, "s", "teacher-student: mixture u = mu_c + s xi (default 0.5)"},
    {"frustration-mode", O_FRUSTRATION_MODE, 1, OPT_TASK, "M", "teacher-student: conflict (added samples with two labels) | flip (labels replaced) (default conflict)"},
    {"eta-w", O_ETA_W, 1, OPT_TASK, "E", "teacher-student: learning rate of W (default 1)"},
    {"test-samples", O_TEST_SAMPLES, 1, OPT_TASK, "n", "teacher-student: fresh teacher-labelled inputs for test_accuracy (default 1000)"},
};
#define N_OPTS (sizeof OPTS / sizeof OPTS[0])

/* options of the embedding-table data sets and rates that the teacher-student task does not take */
static int table_only(opt_id id) {
  return id == O_PER_CLASS || id == O_FRUSTRATED || id == O_PATTERN || id == O_OBSERVATIONS || id == O_ETA_X ||
         id == O_EXACT_METHOD || id == O_INIT || id == O_INIT_SPREAD;
}

/* caps of integer options, named in their messages */
#define CAP_POINTS 10000000
#define CAP_SEEDS 1000000
#define CAP_THREADS 4096
#define CAP_RANGE 100000
#define STR_(x) #x
#define STR(x) STR_(x)

const char *cli_command;

void cli_error_prefix(void) {
  if (cli_command) fprintf(cli_stderr(), "repcollapse %s: error: ", cli_command);
  else fputs("repcollapse: error: ", cli_stderr()); /* no command known */
}

/* The defaults of a command: the library's run defaults, the CLI's own, and
 * the integrator each command uses unless told (one table for the code and
 * for --help, so the help cannot drift from what runs). */
static rc_integrator command_integrator(const char *cmd) {
  if (!strcmp(cmd, "fixedpoint") || !strcmp(cmd, "phase")) return RC_INTEGRATOR_REDUCED;
  if (!strcmp(cmd, "selfconsistent")) return RC_INTEGRATOR_RK45;
  if (!strcmp(cmd, "bench")) return RC_INTEGRATOR_GD;
  return RC_INTEGRATOR_EXACT;
}

static void set_defaults(cli_options *o, const char *cmd) {
  o->cfg = rc_run_config_default();
  o->cfg.integrator = command_integrator(cmd);
  o->method = RC_SPECTRUM_AUTO;
  o->sweep.seeds = CLI_DEFAULT_SEEDS;
  o->sweep.apart_threshold = CLI_DEFAULT_APART;
  o->zero_tol = CLI_DEFAULT_ZERO_TOL;
}

/* the default of an option for a command, as --help states it ("" if none to state) */
static void default_text(const opt_def *d, const char *cmd, char *buf, size_t n) {
  cli_options o;
  memset(&o, 0, sizeof o);
  set_defaults(&o, cmd);
  const rc_run_config *c = &o.cfg;
  const int bench = !strcmp(cmd, "bench");
  buf[0] = '\0';
  switch (d->id) {
    case O_PATTERN: snprintf(buf, n, "%s", rc_pattern_name(c->data.pattern)); break;
    case O_SEED:
    case O_DATA_SEED: snprintf(buf, n, "%lu", c->data.data_seed); break;
    case O_INIT_SEED: snprintf(buf, n, "%lu", (unsigned long)c->init.seed); break;
    case O_RATES: snprintf(buf, n, "%s", rc_rate_scheme_name(c->model.rates)); break;
    case O_ETA_X: snprintf(buf, n, "%g", c->model.eta_x); break;
    case O_ETA_Y: snprintf(buf, n, "%g", c->model.eta_y); break;
    case O_DIM: snprintf(buf, n, "%zu", c->dim); break;
    case O_SIGMA: snprintf(buf, n, "%g", c->init.sigma); break;
    case O_INIT: snprintf(buf, n, "%s", rc_init_kind_name(c->init.kind)); break;
    case O_INIT_SPREAD: snprintf(buf, n, "%g", c->init.spread); break;
    case O_INTEGRATOR: snprintf(buf, n, "%s", rc_integrator_name(c->integrator)); break;
    case O_T_END:
      if (bench) snprintf(buf, n, "exact: %g/slow_rate; gd runs --steps", RC_DEFAULT_T_END_SLOW);
      else if (!strcmp(cmd, "fixedpoint"))
        snprintf(buf, n,
                 "%g/slow_rate, or steps*dt for gd; for term models at least %g/eta_x; a run not at rest goes on, "
                 "up to %gx longer",
                 RC_DEFAULT_T_END_SLOW, RC_DEFAULT_T_END_HEAD, pow(RC_FIXEDPOINT_EXTEND, RC_FIXEDPOINT_MAX_EXTENSIONS));
      else
        snprintf(buf, n, "%g/slow_rate, or steps*dt for gd; for term models at least %g/eta_x", RC_DEFAULT_T_END_SLOW,
                 RC_DEFAULT_T_END_HEAD);
      break;
    case O_STEPS:
      if (bench) snprintf(buf, n, "%d", CLI_BENCH_DEFAULT_STEPS);
      else snprintf(buf, n, "t-end/dt");
      break;
    case O_POINTS: snprintf(buf, n, "%zu", c->points); break;
    case O_T_MIN: snprintf(buf, n, "%g/fast_rate", RC_DEFAULT_T_MIN_FAST); break;
    case O_EPS: snprintf(buf, n, "%g", c->eps); break;
    case O_RTOL: snprintf(buf, n, "%g", c->rtol); break;
    case O_ATOL: snprintf(buf, n, "%g", c->atol); break;
    case O_MAX_STEPS: snprintf(buf, n, "%lu", (unsigned long)(c->max_steps ? c->max_steps : RC_RK45_MAX_STEPS)); break;
    case O_METHOD:
    case O_EXACT_METHOD: snprintf(buf, n, "auto"); break;
    case O_MODEL: snprintf(buf, n, "%s", c->terms.name); break;
    case O_ETA_HEAD: snprintf(buf, n, "%g", c->eta_head); break;
    case O_HEAD_INIT: snprintf(buf, n, "%s", rc_head_init_name(c->head_init)); break;
    case O_HEAD_SCALE: snprintf(buf, n, "%g", c->head_scale); break;
    case O_UNIFORMITY_T: snprintf(buf, n, "%g", RC_DEFAULT_UNIFORMITY_T); break;
    case O_TEMPERATURE: snprintf(buf, n, "%g", RC_DEFAULT_TEMPERATURE); break;
    case O_SEEDS: snprintf(buf, n, "%zu", o.sweep.seeds); break;
    case O_APART: snprintf(buf, n, "%g", o.sweep.apart_threshold); break;
    case O_ZERO_TOL: snprintf(buf, n, "%g", o.zero_tol); break;
    case O_PRECISION: snprintf(buf, n, "%s", rc_precision_name(c->precision)); break;
    case O_THREADS: snprintf(buf, n, "all cores"); break;
    case O_METRICS: snprintf(buf, n, "all"); break;
    default: break;
  }
}

/* what an option does, for a command where the table's text is too general */
static const char *help_text(const opt_def *d, const char *cmd) {
  const int dir = !strcmp(cmd, "run") || !strcmp(cmd, "phase") || !strcmp(cmd, "figures");
  if (d->id == O_OUT) {
    if (dir) return "output directory (required)";
    if (!strcmp(cmd, "data")) return "write the observations to this CSV file";
    if (!strcmp(cmd, "fixedpoint")) return "also write the JSON to this file";
    return "write to this file instead of standard output";
  }
  if (d->id == O_INTEGRATOR && !strcmp(cmd, "bench")) return "gd|exact: what to time";
  return d->help;
}

static void print_help(const char *cmd, int groups, int ts) {
  fprintf(cli_stdout(), "usage: repcollapse %s %s[options]\n\noptions:\n", cmd,
          ts ? "--task teacher-student --samples N --input-dim D --integrator gd|rk45 --out DIR " : "");
  for (size_t k = 0; k < N_OPTS; k++) {
    if (!(OPTS[k].group & groups)) continue;
    /* with --task teacher-student: only what the task takes, in its own words */
    if (ts && (table_only(OPTS[k].id) || OPTS[k].id == O_CHECKPOINT_EVERY || OPTS[k].id == O_RESUME)) continue;
    char left[64], dflt[200];
    snprintf(left, sizeof left, "--%s%s%s", OPTS[k].name, OPTS[k].arg ? " " : "", OPTS[k].arg ? OPTS[k].arg : "");
    default_text(&OPTS[k], cmd, dflt, sizeof dflt);
    const char *help = help_text(&OPTS[k], cmd);
    if (ts && OPTS[k].id == O_INTEGRATOR) help = "gd|rk45 (required for this task)", dflt[0] = '\0';
    if (ts && OPTS[k].id == O_FRUSTRATION)
      help = "fraction f: conflict adds round(f C/(1-f)) frustrated samples to the C clean ones (f < 1), flip relabels round(f C)";
    if (ts && OPTS[k].id == O_CLASSES) help = "number of classes", snprintf(dflt, sizeof dflt, "2");
    fprintf(cli_stdout(), "  %-26s %s%s%s%s\n", left, help, dflt[0] ? " (default " : "", dflt, dflt[0] ? ")" : "");
  }
}

/* where the option being parsed comes from when not the command line ("exp.ini:7: key 'dim'") */
static const char *option_origin;

static int err_usage(const char *cmd, const char *fmt, const char *a, const char *b) {
  fprintf(cli_stderr(), "repcollapse %s: error: ", cmd);
  if (option_origin) fprintf(cli_stderr(), "%s: ", option_origin);
  fprintf(cli_stderr(), fmt, a, b);
  fputc('\n', cli_stderr());
  return 2;
}

/* numbers: the project's one parser (core/number.h): decimal only, finite */
static int parse_double(const char *s, double *v) { return rc_number_parse(s, v); }

static int parse_size(const char *s, size_t *v) {
  unsigned long long x;
  if (!rc_count_parse(s, &x) || x > (unsigned long long)SIZE_MAX) return 0;
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
  size_t cap = 1;
  for (const char *p = s; *p; p++) cap += *p == ',';
  size_t *v = malloc(cap * sizeof *v);
  char *copy = strdup(s), *save = NULL, *tok;
  size_t k = 0;
  int ok = v && copy;
  /* each item a decimal count (parse_size: digits only, any length, no sign or exponent) */
  for (tok = ok ? strtok_r(copy, ",", &save) : NULL; ok && tok; tok = strtok_r(NULL, ",", &save))
    if (!parse_size(tok, &v[k++]) || v[k - 1] > (size_t)1e15) ok = 0;
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

/* f1,f2,... or a:b:n (n evenly spaced values from a to b inclusive, n at most
 * CAP_RANGE): 1, 0 if malformed, -1 if n is past the cap */
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
  if (!parse_double(a, &lo) || !parse_double(b, &hi) || !parse_size(c2 + 1, &cnt) || cnt == 0) return 0;
  if (cnt > CAP_RANGE) return -1;
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

int cli_value_is_option(const char *v) {
  if (!v || strncmp(v, "--", 2) != 0 || !v[2]) return 0;
  const char *name = v + 2, *eq = strchr(name, '=');
  int has_arg, groups;
  const size_t len = eq ? (size_t)(eq - name) : strlen(name);
  static const char *const own[] = {"grid", "jobs", "shard"}; /* sweep's own options (cmd_sweep.c) */
  for (size_t q = 0; q < sizeof own / sizeof own[0]; q++)
    if (strlen(own[q]) == len && !strncmp(own[q], name, len)) return 1;
  return cli_option_find(name, len, &has_arg, &groups);
}

/* Options that say where and how to run, not what: not recorded in
 * summary.json's settings, and not part of a checkpoint's fingerprint. */
static int is_recorded(const char *name) {
  static const char *const not_recorded[] = {"out",    "quiet",           "config",
                                             "help",   "resume",          "checkpoint-every",
                                             "allow-changed-inputs"};
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
  if (!cli_command) cli_command = cmd;
  set_defaults(o, cmd);
  o->ts = rc_ts_data_spec_default();
  o->eta_w = 1.0;
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
  /* --task teacher-student (from the command line or the file) changes what the other options mean:
   * found first, wherever it is */
  /* --encoder linear likewise: an encoder on inputs takes the task's options */
  for (int k = first; (groups & OPT_TASK) && k < argc; k++) {
    if (!strcmp(argv[k], "--task") && k + 1 < argc) o->task_ts |= !strcmp(argv[k + 1], "teacher-student");
    else if (!strncmp(argv[k], "--task=", 7)) o->task_ts |= !strcmp(argv[k] + 7, "teacher-student");
    else if (!strcmp(argv[k], "--encoder") && k + 1 < argc) o->task_ts |= strcmp(argv[k + 1], "table") != 0;
    else if (!strncmp(argv[k], "--encoder=", 10)) o->task_ts |= strcmp(argv[k] + 10, "table") != 0;
  }
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
      else if (k + 1 < argc && !cli_value_is_option(argv[k + 1])) v = argv[++k];
      else if (k + 1 < argc) {
        char msg[400];
        snprintf(msg, sizeof msg, "option '--%s' needs a value (got the option '%.200s'; write --%s=VALUE for a value "
                 "starting with --)", def->name, argv[k + 1], def->name);
        return err_usage(cmd, "%s%s", msg, "");
      }
      else return err_usage(cmd, "option '--%s' needs a value%s", def->name, "");
    } else if (eq) {
      return err_usage(cmd, "option '--%s' takes no value%s", def->name, "");
    }
    double x;
    size_t n;
    int rc;
    rc_run_config *c = &o->cfg;
    if (v && def->arg && (!strcmp(def->arg, "FILE") || !strcmp(def->arg, "PATH")) && !*v)
      return err_usage(cmd, "--%s: expected a path (got '%s')", def->name, v);
#define NEED(cond, what) \
  if (!(cond)) return err_usage(cmd, "--%s: " what " (got '%s')", def->name, v)
    switch (def->id) {
      case O_CLASSES:
        NEED(parse_size(v, &n) && (n > 0 || o->task_ts), "expected a positive integer");
        c->data.n_classes = n;
        o->ts.n_classes = n;
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
        if (o->task_ts && !(x >= 0 && x <= 1)) return err_usage(cmd, "--frustration %s is outside [0, 1]%s", v, "");
        if (!o->task_ts && !(x >= 0 && x < 1))
          return err_usage(cmd, "--frustration %s is outside [0, 1)%s", v, x == 1 ? " (f = 1 leaves no clean sample)" : "");
        c->data.frustration = x;
        o->ts.frustration = x;
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
        o->ts_data_seed_given = 1;
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
        NEED(parse_size(v, &n) && n > 0 && n <= CAP_POINTS, "expected a positive integer, at most " STR(CAP_POINTS));
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
      case O_MAX_STEPS:
        NEED(parse_size(v, &n) && n > 0, "expected a positive integer");
        c->max_steps = (unsigned long)n;
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
      case O_SPHERE: o->sphere = 1; break;
      case O_UNIFORMITY_T:
        NEED(parse_double(v, &x) && x > 0 && x <= 100, "expected a number in (0, 100]");
        o->uniformity_t = x;
        break;
      case O_TEMPERATURE:
        NEED(parse_double(v, &x) && x >= 1e-4, "expected a number of at least 1e-4");
        o->temperature = x;
        break;
      case O_F_LIST:
        free(o->f_list);
        o->f_list = NULL;
        rc = parse_list_or_range(v, &o->f_list, &n);
        NEED(rc >= 0, "a range a:b:n gives at most " STR(CAP_RANGE) " values");
        NEED(rc > 0, "expected f1,f2,... or a:b:n");
        for (size_t q = 0; q < n; q++)
          if (!(o->f_list[q] >= 0 && o->f_list[q] < 1)) return err_usage(cmd, "--frustration-list: %s contains a value outside [0, 1)%s", v, "");
        o->sweep.f = o->f_list;
        o->sweep.n_f = n;
        break;
      case O_SEEDS:
        NEED(parse_size(v, &n) && n > 0 && n <= CAP_SEEDS, "expected a positive integer, at most " STR(CAP_SEEDS));
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
        rc = parse_list_or_range(v, &o->ratio_list, &n);
        NEED(rc >= 0, "a range a:b:n gives at most " STR(CAP_RANGE) " values");
        NEED(rc > 0, "expected r1,r2,... or a:b:n");
        for (size_t q = 0; q < n; q++) NEED(o->ratio_list[q] > 0, "every ratio must be positive");
        o->sweep.ratios = o->ratio_list;
        o->sweep.n_ratios = n;
        break;
      case O_APART:
        NEED(parse_double(v, &x) && x > 0 && x < 1, "expected a number in (0, 1)");
        o->sweep.apart_threshold = x;
        break;
      case O_APART_DECAY:
        NEED(parse_double(v, &x) && x >= 0 && x < 1, "expected a number in [0, 1)");
        o->sweep.apart_decay_max = x;
        break;
      case O_BEYOND: o->beyond = 1; break;
      case O_CLAIMS: {
        char copy[256];
        NEED(strlen(v) < sizeof copy, "expected a list of 7,8,9,10,geometry,order");
        snprintf(copy, sizeof copy, "%s", v);
        o->claims = 0;
        for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
          static const char *names[] = {"7", "8", "9", "10", "geometry", "order"};
          int k = 0;
          while (k < 6 && strcmp(tok, names[k])) k++;
          NEED(k < 6, "expected a list of 7,8,9,10,geometry,order");
          o->claims |= 1u << k;
        }
        NEED(o->claims, "expected a list of 7,8,9,10,geometry,order");
        break;
      }
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
        NEED(parse_size(v, &n) && n > 0 && n <= CAP_THREADS, "expected a positive integer, at most " STR(CAP_THREADS));
        c->threads = (int)n;
        break;
      case O_HELP: print_help(cmd, groups, o->task_ts); return -1;
      case O_CONFIG: break; /* read by cli_config_expand */
      case O_ALLOW_CHANGED: o->allow_changed_inputs = 1; break;
      case O_CHECKPOINT_EVERY:
        NEED(parse_double(v, &x) && x > 0, "expected a positive simulated time");
        c->checkpoint_every = x;
        break;
      case O_RESUME: c->resume = 1; break;
      case O_OPTIMIZER:
        if (rc_parse_optimizer(v, &c->train.opt.kind, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        c->train.optimizer_given = 1;
        break;
      case O_MOMENTUM:
        NEED(parse_double(v, &x) && x >= 0 && x < 1, "expected a number in [0, 1)");
        c->train.opt.momentum = x;
        break;
      case O_ADAM_BETAS: {
        double *bl = NULL;
        NEED(parse_list_double(v, &bl, &n), "expected b1,b2");
        int good = n == 2 && bl[0] >= 0 && bl[0] < 1 && bl[1] >= 0 && bl[1] < 1;
        if (good) {
          c->train.opt.beta1 = bl[0];
          c->train.opt.beta2 = bl[1];
        }
        free(bl);
        NEED(good, "expected b1,b2, each in [0, 1)");
        break;
      }
      case O_ADAM_EPS:
        NEED(parse_double(v, &x) && x > 0, "expected a positive number");
        c->train.opt.adam_eps = x;
        break;
      case O_WEIGHT_DECAY:
        NEED(parse_double(v, &x) && x >= 0, "expected a non-negative number");
        c->train.opt.weight_decay = x;
        break;
      case O_WEIGHT_DECAY_ON:
        if (rc_parse_decay_on(v, &c->train.decay_on, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        break;
      case O_BATCH:
        NEED(parse_size(v, &n) && n > 0, "expected a positive integer");
        c->train.batch = n;
        break;
      case O_BATCH_SEED:
        NEED(parse_size(v, &n), "expected a non-negative integer");
        c->train.batch_seed = n;
        c->train.batch_seed_given = 1;
        break;
      case O_EMA_RATE:
        NEED(parse_double(v, &x) && x >= 0, "expected a non-negative rate kappa");
        if (c->train.ema == RC_EMA_TAU) return err_usage(cmd, "give either --ema-rate or --ema, not both%s%s", "", "");
        c->train.ema = RC_EMA_RATE;
        c->train.ema_rate = x;
        break;
      case O_EMA:
        NEED(parse_double(v, &x) && x >= 0 && x <= 1, "expected tau in [0, 1] (kappa dt = 1 - tau <= 1)");
        if (c->train.ema == RC_EMA_RATE) return err_usage(cmd, "give either --ema-rate or --ema, not both%s%s", "", "");
        c->train.ema = RC_EMA_TAU;
        c->train.ema_tau = x;
        break;
      case O_COLLAPSE_METRIC:
        if (rc_parse_collapse_metric(v, &c->collapse_metric, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        break;
      case O_TASK:
        if (strcmp(v, "teacher-student"))
          return err_usage(cmd, "unknown task '%s'%s", v,
                           " (expected teacher-student; without --task, run simulates the embedding models)");
        break;
      case O_SAMPLES:
      case O_INPUT_DIM:
      case O_TEST_SAMPLES:
        NEED(parse_size(v, &n), "expected a non-negative integer");
        if (def->id == O_SAMPLES) o->ts.n_samples = n, o->ts_samples_given = 1;
        else if (def->id == O_INPUT_DIM) o->ts.input_dim = n, o->ts_dim_given = 1;
        else o->ts.n_test = n;
        break;
      case O_MIXTURE_NOISE:
        NEED(parse_double(v, &x), "expected a number");
        o->ts.mixture_noise = x;
        break;
      case O_ETA_W:
        NEED(parse_double(v, &x), "expected a number");
        o->eta_w = x;
        break;
      case O_TEACHER:
        if (rc_parse_teacher(v, &o->ts.teacher, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        o->teacher_given = 1;
        break;
      case O_ENCODER:
        if (rc_parse_encoder(v, &c->encoder, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        break;
      case O_INPUTS:
        if (rc_parse_run_inputs(v, &c->inputs, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        break;
      case O_INPUTS_FILE:
        NEED(v[0] != '\0', "expected a path");
        c->inputs_file = v;
        break;
      case O_HIDDEN:
        NEED(parse_size(v, &n) && n > 0, "expected a positive integer");
        c->hidden = n;
        break;
      case O_ACTIVATION:
        if (rc_parse_activation(v, &c->activation, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        break;
      case O_FRUSTRATION_MODE:
        if (rc_parse_frustration_mode(v, &o->ts.mode, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        break;
      case O_COUNT: break;
      case O_METRICS:
        if (rc_metrics_parse(v, &c->metrics, &err)) return err_usage(cmd, "%s%s", err.msg, "");
        break;
    }
    o->given[def->id] = 1;
#undef NEED
    record_setting(o, def, v);
  }
  if (o->model_given && o->terms_given)
    return err_usage(cmd, "give either --model or --terms, not both%s%s", "", "");
  { /* the settings of docs/model.md section 6.2, on the model and on each of --models */
    int has_u = rc_model_has_kind(&o->cfg.terms, RC_TERM_UNIFORMITY), has_i = rc_model_has_kind(&o->cfg.terms, RC_TERM_INFONCE);
    for (size_t q = 0; q < o->sweep.n_models && o->models; q++) {
      has_u |= rc_model_has_kind(&o->models[q], RC_TERM_UNIFORMITY);
      has_i |= rc_model_has_kind(&o->models[q], RC_TERM_INFONCE);
    }
    if (o->uniformity_t > 0 && !has_u)
      return err_usage(cmd, "--uniformity-t applies to uniformity terms, and the model has none%s%s",
                       " (e.g. --terms 'x-y+uniformity(y)')", "");
    if (o->temperature > 0 && !has_i)
      return err_usage(cmd, "--temperature applies to infonce terms, and the model has none%s%s",
                       " (e.g. --terms 'infonce(x,y)')", "");
    rc_model *ms[] = {&o->cfg.terms};
    for (size_t q = 0; q <= o->sweep.n_models; q++) {
      rc_model *m = q == 0 ? ms[0] : (o->models ? &o->models[q - 1] : NULL);
      if (!m) continue;
      m->sphere = o->sphere;
      m->uniformity_t = o->uniformity_t;
      m->temperature = o->temperature;
    }
  }
  /* --optimizer applies to the discrete integrator, the default when it is given */
  if (o->cfg.train.optimizer_given && !o->integrator_given) o->cfg.integrator = RC_INTEGRATOR_GD;
  option_origin = NULL;
  /* the task's options and the table's: each only where it applies */
  for (size_t q = 0; q < N_OPTS; q++) {
    if (!o->given[OPTS[q].id]) continue;
    if (o->task_ts && OPTS[q].id == O_ETA_X)
      return err_usage(cmd, "--eta-x does not apply to the teacher-student task%s%s",
                       " (the samples x = W u move through W: use --eta-w)", "");
    if (o->task_ts && (OPTS[q].id == O_INIT || OPTS[q].id == O_INIT_SPREAD) && o->cfg.init.kind != RC_INIT_GAUSSIAN)
      return err_usage(cmd, "--init class does not apply to the teacher-student task (x = W u)%s%s", "", "");
    const int real = o->cfg.inputs == RC_RUN_INPUTS_FASHION_MNIST || o->cfg.inputs == RC_RUN_INPUTS_FILE;
    if (o->task_ts && o->cfg.inputs == RC_RUN_INPUTS_FILE && !o->cfg.inputs_file)
      return err_usage(cmd, "--inputs file needs --inputs-file PATH%s%s", "", "");
    if (o->task_ts && real && OPTS[q].id == O_PER_CLASS) continue; /* real inputs: n clean per class (6.3) */
    if (o->task_ts && real &&
        (OPTS[q].id == O_SAMPLES || OPTS[q].id == O_INPUT_DIM || OPTS[q].id == O_TEACHER ||
         OPTS[q].id == O_MIXTURE_NOISE || OPTS[q].id == O_CLASSES))
      return err_usage(cmd, "--%s does not apply to --inputs %s", OPTS[q].name,
                       o->cfg.inputs == RC_RUN_INPUTS_FILE ? "file (its sizes and classes are the file's; the clean "
                                                             "samples are --per-class n)"
                                                           : "fashion-mnist (10 classes of 28 x 28 images; the clean "
                                                             "samples are --per-class n)");
    if ((OPTS[q].id == O_HIDDEN || OPTS[q].id == O_ACTIVATION) && o->cfg.encoder != RC_ENCODER_MLP)
      return err_usage(cmd, "--%s applies to --encoder mlp%s", OPTS[q].name, "");
    if (o->task_ts && table_only(OPTS[q].id) && OPTS[q].id != O_INIT && OPTS[q].id != O_INIT_SPREAD)
      return err_usage(cmd, "unknown option '--%s' for --task teacher-student%s", OPTS[q].name,
                       " (its data set is --samples, --input-dim, --classes, --frustration)");
    if (!o->task_ts && OPTS[q].group == OPT_TASK && OPTS[q].id != O_TASK)
      return err_usage(cmd, "--%s is an option of --task teacher-student%s", OPTS[q].name, "");
  }
  o->settings_text = json_dumps(o->settings, JSON_COMPACT | JSON_SORT_KEYS);
  o->cfg.settings = o->settings_text;
  if (o->task_ts) { /* an encoder on inputs: --task teacher-student = --encoder linear --inputs teacher|mixture */
    rc_run_config *c = &o->cfg;
    o->ts.seed = c->data.data_seed; /* --seed sets both seeds; --data-seed alone the data's */
    o->ts.frustration = c->data.has_frustration ? c->data.frustration : 0.0;
    if (!o->classes_given) o->ts.n_classes = 2;
    if (!o->given[O_ENCODER]) c->encoder = RC_ENCODER_LINEAR;
    if (o->given[O_TASK] && c->encoder != RC_ENCODER_LINEAR)
      return err_usage(cmd, "--task teacher-student is the linear encoder: drop --encoder %s%s",
                       rc_encoder_name(c->encoder), "");
    if (o->teacher_given) {
      const rc_run_inputs want = o->ts.teacher == RC_TEACHER_MIXTURE ? RC_RUN_INPUTS_MIXTURE : RC_RUN_INPUTS_TEACHER;
      if (o->given[O_INPUTS] && c->inputs != want)
        return err_usage(cmd, "--teacher %s disagrees with --inputs %s: give one of them", rc_teacher_name(o->ts.teacher),
                         rc_run_inputs_name(c->inputs));
      c->inputs = want;
    }
    o->ts.teacher = c->inputs == RC_RUN_INPUTS_MIXTURE ? RC_TEACHER_MIXTURE : RC_TEACHER_LINEAR;
    if (c->inputs == RC_RUN_INPUTS_FILE && !c->inputs_file)
      return err_usage(cmd, "--inputs file needs --inputs-file PATH%s%s", "", "");
    if (c->inputs_file && c->inputs != RC_RUN_INPUTS_FILE)
      return err_usage(cmd, "--inputs-file goes with --inputs file (not %s)%s", rc_run_inputs_name(c->inputs), "");
    const int generated = c->inputs == RC_RUN_INPUTS_TEACHER || c->inputs == RC_RUN_INPUTS_MIXTURE;
    if (generated && (!o->ts_samples_given || !o->ts_dim_given))
      return err_usage(cmd, "--task teacher-student needs --samples N and --input-dim D%s%s", "", "");
    if (!strcmp(cmd, "run") && !o->integrator_given && !c->train.optimizer_given) /* --optimizer: gd */
      return err_usage(cmd, "--task teacher-student needs --integrator gd (with --dt) or rk45%s%s", "", "");
    if ((c->inputs == RC_RUN_INPUTS_FASHION_MNIST || c->inputs == RC_RUN_INPUTS_FILE) && o->per_class_given) {
      if (c->data.n_class_sizes != 1)
        return err_usage(cmd, "--per-class takes one value with --inputs %s (the same n for every class)%s",
                         rc_run_inputs_name(c->inputs), "");
      c->per_class = c->data.class_sizes[0];
    }
    c->ts = o->ts;
    c->eta_w = o->eta_w;
  }
  if ((groups & OPT_DATA) && !o->task_ts) {
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
  if (fflush(cli_stdout()) != 0 || ferror(cli_stdout())) {
    int e = errno ? errno : EIO;
    cli_error_prefix();
    fprintf(cli_stderr(), "cannot write to standard output: %s\n", strerror(e));
    return rc ? rc : 1;
  }
  return rc;
}

int cli_fail(const rc_error *err) {
  cli_io_current()->status = err->code;
  cli_error_prefix();
  fprintf(cli_stderr(), "%s\n", err->msg[0] ? err->msg : rc_status_name(err->code));
  return err->code == RC_EINVAL || err->code == RC_EUNSTABLE ? 2 : 1;
}

/* strict number parsing for subcommands with options of their own */
int cli_parse_double(const char *s, double *v) { return parse_double(s, v); }
int cli_parse_size(const char *s, size_t *v) { return parse_size(s, v); }

int cli_option_kind(const char *name, int groups) {
  for (size_t k = 0; k < N_OPTS; k++)
    if (!strcmp(OPTS[k].name, name) && (OPTS[k].group & groups) && OPTS[k].id != O_HELP) return OPTS[k].has_arg;
  return -1;
}
