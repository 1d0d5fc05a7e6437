/* checkpoints.c: checkpoints of one run (checkpoints.h). A checkpoint is
 * taken where the integrator can continue bit for bit; with --snapshots (or
 * a spec's journal) every recorded state (or record) also goes to an
 * append-only journal, flushed to disk before each checkpoint, from which a
 * resumed run rebuilds what it recorded before the kill. The fingerprint covers what decides the numbers: the
 * settings as given, the data set, the initial state, the recorded times and
 * the integrator's parameters; the source commit must match too. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/input.h"
#include "core/hash.h"
#include "experiment/checkpoints.h"
#include "repcollapse/repcollapse.h"

static uint64_t run_fingerprint(const rc_run_config *cfg, const rc_dataset *ds, const run_checkpoints_spec *sp,
                                const double *grid, size_t n_times) {
  const char *settings = cfg->settings ? cfg->settings : "";
  const rc_train_settings *tr = &cfg->train; /* the optimizer and its buffers' meaning (docs/model.md 6.1) */
  uint64_t words[] = {cfg->integrator, cfg->dim, cfg->model.rates, cfg->exact_method, cfg->snapshots != 0,
                      ds->n_samples, ds->n_classes, ds->nnz, n_times, tr->opt.kind, tr->decay_on, tr->batch,
                      rc_train_batch_seed(tr, cfg->init.seed), tr->ema, cfg->max_steps};
  double reals[] = {cfg->model.eta_x, cfg->model.eta_y, cfg->dt, cfg->rtol, cfg->atol, cfg->eps, cfg->eta_head,
                    tr->opt.momentum, tr->opt.beta1, tr->opt.beta2, tr->opt.adam_eps, tr->opt.weight_decay,
                    tr->ema_rate, tr->ema_tau};
  uint64_t h = rc_hash_bytes(RC_HASH_INIT, settings, strlen(settings) + 1);
  h = rc_hash_bytes(h, words, sizeof words);
  h = rc_hash_bytes(h, reals, sizeof reals);
  h = rc_hash_bytes(h, ds->row_ptr, (ds->n_samples + 1) * sizeof *ds->row_ptr);
  h = rc_hash_bytes(h, ds->labels, ds->nnz * sizeof *ds->labels);
  h = rc_hash_bytes(h, ds->counts, ds->nnz * sizeof *ds->counts);
  h = rc_hash_bytes(h, sp->init, sp->n_init * sizeof *sp->init);
  if (sp->n_extra) h = rc_hash_bytes(h, sp->extra, sp->n_extra * sizeof *sp->extra);
  return rc_hash_bytes(h, grid, n_times * sizeof *grid);
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* values of one journal record (a recorded state: the embeddings, and P when the model has a head) */
static size_t state_values(const run_checkpoints *c) { return c->record_values; }

/* the journal's running hash and count, over the records as written */
static void count_record(run_checkpoints *c, double t, uint64_t step, const double *z) {
  c->journal_hash = rc_hash_bytes(c->journal_hash, &t, sizeof t);
  c->journal_hash = rc_hash_bytes(c->journal_hash, &step, sizeof step);
  c->journal_hash = rc_hash_bytes(c->journal_hash, z, state_values(c) * sizeof *z);
  c->journal_records++;
}

rc_status run_checkpoints_record_values(run_checkpoints *c, double t, size_t step, const double *v, rc_error *err) {
  if (!c->journal) return RC_OK;
  uint64_t step64 = step;
  size_t nz = state_values(c);
  if (fwrite(&t, sizeof t, 1, c->journal) != 1 || fwrite(&step64, sizeof step64, 1, c->journal) != 1 ||
      fwrite(v, sizeof *v, nz, c->journal) != nz)
    return rc_error_set(err, RC_EIO, "cannot write '%s'", c->journal_path);
  count_record(c, t, step64, v);
  return RC_OK;
}

rc_status run_checkpoints_record(run_checkpoints *c, double t, size_t step, const rc_state *s, rc_error *err) {
  return run_checkpoints_record_values(c, t, step, s->z, err);
}

/* write a checkpoint at (next_time, step, t, h) holding n_z values z */
static rc_status save_payload(run_checkpoints *c, size_t next_time, size_t step, double t, double h, const double *z,
                              size_t n_z, rc_error *err) {
  if (c->journal && (fflush(c->journal) != 0 || fsync(fileno(c->journal)) != 0))
    return rc_error_set(err, RC_EIO, "cannot write '%s'", c->journal_path);
  rc_checkpoint ck;
  memset(&ck, 0, sizeof ck);
  ck.fingerprint = c->fingerprint;
  snprintf(ck.commit, sizeof ck.commit, "%s", rc_source_commit());
  ck.integrator = c->integrator;
  ck.n = c->n;
  ck.k = c->k;
  ck.d = c->d;
  ck.next_time = next_time;
  ck.step = step;
  ck.t = t;
  ck.h = h;
  ck.wall_seconds = c->wall_before + now_seconds() - c->wall_start;
  ck.journal_records = c->journal_records;
  ck.journal_hash = c->journal_hash;
  ck.n_z = n_z;
  ck.z = (double *)z;
  ck.n_rows = *c->n_rows;
  ck.rows = c->rows;
  rc_status st = rc_checkpoint_write(c->path, &ck, err);
  if (!st) c->have_checkpoint = 1;
  return st;
}

rc_status run_checkpoints_save(const rc_resume_point *p, void *ctx, rc_error *err) {
  run_checkpoints *c = ctx;
  return save_payload(c, p->next_time, p->step, p->t, p->h, p->state ? p->state->z : NULL,
                      p->state ? state_values(c) : 0, err);
}

static rc_status save_engine(const rc_engine_resume_point *p, void *ctx, rc_error *err) {
  return save_payload(ctx, p->next_time, p->step, p->t, p->h, p->z, p->n_z, err);
}

void run_checkpoints_engine(run_checkpoints *c, rc_engine_checkpointing *out) {
  memset(out, 0, sizeof *out);
  out->every = c->every;
  out->save = save_engine;
  out->ctx = c;
  out->from = c->loaded ? &c->efrom : NULL;
}

/* is the checkpoint this run's, and whole? */
static rc_status check_loaded(const run_checkpoints *c, const rc_checkpoint *ck, int snapshots, size_t n_times,
                              rc_error *err) {
  if (strcmp(ck->commit, rc_source_commit()) != 0)
    return rc_error_set(err, RC_EINVAL,
                        "checkpoint '%s' was written by repcollapse commit %.12s, this is %.12s: the resumed run "
                        "would not be bit-identical; run without --resume to start afresh",
                        c->path, ck->commit, rc_source_commit());
  if (ck->fingerprint != c->fingerprint)
    return rc_error_set(err, RC_EINVAL,
                        "checkpoint '%s' belongs to a run with other settings (options, data, initial state or "
                        "recorded times differ): give the original command with --resume, or run without --resume "
                        "to start afresh",
                        c->path);
  /* an engine run's payload size is the loop's to check (it knows its optimizer's buffers) */
  size_t nz = c->integrator == RC_INTEGRATOR_EXACT ? 0 : state_values(c);
  if (ck->integrator != (uint64_t)c->integrator || ck->n != c->n || ck->k != c->k || ck->d != c->d ||
      ck->next_time > n_times || ck->n_rows != ck->next_time || (c->engine ? ck->n_z == 0 : ck->n_z != nz) ||
      (snapshots && ck->journal_records != ck->n_rows))
    return rc_error_set(err, RC_EINVAL, "checkpoint '%s' is inconsistent with this run; delete it to start afresh",
                        c->path);
  return RC_OK;
}

/* rebuild the snapshots recorded before the checkpoint from the journal, and cut the journal there */
static rc_status replay_journal(run_checkpoints *c, const rc_checkpoint *ck, const run_checkpoints_spec *sp,
                                rc_error *err) {
  FILE *probe = NULL; /* a regular file, not a FIFO or a device (core/input.h) */
  rc_status st0 = rc_input_open(c->journal_path, "snapshot journal", &probe, NULL, err);
  if (probe) fclose(probe);
  if (st0 == RC_EINVAL) return st0;
  c->journal = st0 ? NULL : fopen(c->journal_path, "r+b");
  if (!c->journal)
    return rc_error_set(err, RC_EIO, "snapshot journal '%s' is missing: cannot rebuild snapshots.h5 (run without "
                                     "--resume to start afresh)", c->journal_path);
  size_t nz = state_values(c);
  double *v = rc_calloc(nz + 1, sizeof *v, "snapshot journal record", err);
  rc_status st = v ? RC_OK : RC_ENOMEM;
  for (uint64_t r = 0; !st && r < ck->journal_records; r++) {
    double t;
    uint64_t step;
    if (fread(&t, sizeof t, 1, c->journal) != 1 || fread(&step, sizeof step, 1, c->journal) != 1 ||
        fread(v, sizeof *v, nz, c->journal) != nz) {
      st = rc_error_set(err, RC_EINVAL, "snapshot journal '%s' is shorter than checkpoint '%s' says", c->journal_path,
                        c->path);
      break;
    }
    count_record(c, t, step, v);
    if (sp->replay) st = sp->replay((size_t)r, t, (size_t)step, v, sp->replay_ctx, err);
  }
  free(v);
  if (!st && c->journal_hash != ck->journal_hash)
    st = rc_error_set(err, RC_EINVAL, "snapshot journal '%s' does not match checkpoint '%s' (damaged)",
                      c->journal_path, c->path);
  long end = (long)(c->journal_records * (2 * 8 + nz * 8));
  if (!st && (fseek(c->journal, end, SEEK_SET) != 0 || ftruncate(fileno(c->journal), end) != 0))
    st = rc_error_set(err, RC_EIO, "cannot truncate '%s'", c->journal_path);
  return st;
}

rc_status run_checkpoints_open_spec(run_checkpoints *c, const rc_run_config *cfg, const rc_dataset *ds,
                                    const run_checkpoints_spec *sp, const double *grid, size_t n_times,
                                    rc_metrics_row *rows, size_t *n_rows, double wall_start, rc_error *err) {
  memset(c, 0, sizeof *c);
  c->rows = rows;
  c->n_rows = n_rows;
  c->wall_start = wall_start;
  c->journal_hash = RC_HASH_INIT;
  if (!cfg->out_dir) return RC_OK;
  snprintf(c->path, sizeof c->path, "%s/checkpoint.bin", cfg->out_dir);
  snprintf(c->journal_path, sizeof c->journal_path, "%s/checkpoint.snapshots", cfg->out_dir);
  rc_atomic_remove_stale(c->path);
  if (!(cfg->checkpoint_every > 0) && !cfg->resume) return RC_OK;
  c->every = cfg->checkpoint_every > 0 ? cfg->checkpoint_every : 0.0;
  c->integrator = cfg->integrator;
  c->n = sp->n;
  c->k = sp->k;
  c->d = sp->d;
  c->record_values = sp->record_values;
  c->engine = sp->engine;
  c->fingerprint = run_fingerprint(cfg, ds, sp, grid, n_times);
  rc_status st = cfg->resume ? rc_checkpoint_read(c->path, &c->loaded, err) : RC_OK;
  if (st) return st;
  if (!c->loaded) { /* from t = 0: an older checkpoint in DIR is void */
    unlink(c->path);
    if ((cfg->snapshots || sp->journal) && c->every > 0 && !(c->journal = fopen(c->journal_path, "w+b")))
      return rc_error_set(err, RC_EIO, "cannot write '%s'", c->journal_path);
    c->journal_created = c->journal != NULL;
    return RC_OK;
  }
  const rc_checkpoint *ck = c->loaded;
  const int journal = cfg->snapshots || sp->journal;
  st = check_loaded(c, ck, journal, n_times, err);
  if (!st && journal) st = replay_journal(c, ck, sp, err);
  if (!st && ck->n_z && !c->engine) {
    st = rc_state_alloc(c->n, c->k, c->d, &c->from_state, err);
    if (!st) memcpy(c->from_state->z, ck->z, ck->n_z * sizeof *ck->z);
  }
  if (st) return st;
  memcpy(rows, ck->rows, ck->n_rows * sizeof *rows);
  *n_rows = ck->n_rows;
  c->have_checkpoint = 1;
  c->wall_before = ck->wall_seconds;
  c->from = (rc_resume_point){ck->next_time, ck->step, ck->t, ck->h, c->from_state};
  c->efrom = (rc_engine_resume_point){ck->next_time, ck->step, ck->t, ck->h, ck->z, ck->n_z};
  return RC_OK;
}

/* the particle runs: journal records are states, replayed into snapshots.h5 */
typedef struct {
  rc_snapshots *snap;
  rc_state *s;
} state_replay;

static rc_status replay_state(size_t r, double t, size_t step, const double *v, void *ctx, rc_error *err) {
  state_replay *p = ctx;
  if (!p->snap) return RC_OK;
  memcpy(p->s->z, v, rc_state_size(p->s) * sizeof *v);
  return rc_snapshots_write(p->snap, r, t, (long)step, p->s, err);
}

rc_status run_checkpoints_open(run_checkpoints *c, const rc_run_config *cfg, const rc_dataset *ds,
                               const rc_state *init, const double *grid, size_t n_times, rc_metrics_row *rows,
                               size_t *n_rows, rc_snapshots *snap, double wall_start, int engine, rc_error *err) {
  state_replay rp = {snap, NULL};
  run_checkpoints_spec sp = {init->n, init->k, init->d, init->z, rc_state_size(init), NULL, 0, rc_state_size(init),
                             replay_state, &rp, engine, 0};
  rc_status st = rc_state_alloc_head(init->n, init->k, init->d, init->P != NULL, &rp.s, err);
  if (!st) st = run_checkpoints_open_spec(c, cfg, ds, &sp, grid, n_times, rows, n_rows, wall_start, err);
  rc_state_free(rp.s);
  return st;
}

void run_checkpoints_close(run_checkpoints *c, int success) {
  int had_journal = c->journal != NULL && c->journal_created;
  if (c->journal) fclose(c->journal);
  c->journal = NULL;
  if (c->path[0] && success) {
    unlink(c->path);
    unlink(c->journal_path);
  } else if (had_journal && !c->have_checkpoint) {
    unlink(c->journal_path);
  }
  rc_checkpoint_free(c->loaded);
  rc_state_free(c->from_state);
  c->loaded = NULL;
  c->from_state = NULL;
}
