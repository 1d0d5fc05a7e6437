/* sweep_mpi.c: the MPI layer of `repcollapse sweep`. MPI is optional at
 * build time (CMake defines RC_HAVE_MPI when it finds MPI) and at run time:
 * MPI_Init is called only when a launcher (mpirun, srun) started the process,
 * so the same binary runs sweeps alone, with --jobs, or as one of R ranks. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/sweep_cli.h"

#ifdef RC_HAVE_MPI
#include <mpi.h>
#endif

static int g_rank = 0, g_size = 1, g_started = 0;

/* The world size a launcher announced (0: not launched by one). */
static long launcher_size(void) {
  const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}; /* OpenMPI; MPICH, Intel MPI, srun with PMI */
  for (size_t k = 0; k < sizeof vars / sizeof vars[0]; k++) {
    const char *v = getenv(vars[k]);
    if (v && *v) return atol(v);
  }
  return getenv("PMIX_RANK") || getenv("PMI_RANK") ? 1 : 0;
}

int sweep_mpi_start(int *argc, char ***argv, char *msg, size_t n) {
  long size = launcher_size();
#ifdef RC_HAVE_MPI
  if (size > 0) {
    int provided;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS) {
      snprintf(msg, n, "MPI_Init failed");
      return 1;
    }
    g_started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  }
#else
  (void)argc;
  (void)argv;
  if (size > 1) {
    snprintf(msg, n, "launched as %ld MPI ranks, but this repcollapse was built without MPI "
             "(install libopenmpi-dev and rebuild, or use --jobs and --shard)", size);
    return 1;
  }
#endif
  return 0;
}

int sweep_mpi_active(void) { return g_started; }
int sweep_mpi_rank(void) { return g_rank; }
int sweep_mpi_size(void) { return g_size; }

int sweep_mpi_bcast_int(int v) {
#ifdef RC_HAVE_MPI
  if (g_started) MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
#endif
  return v;
}

long sweep_mpi_sum(long v) {
#ifdef RC_HAVE_MPI
  long s = v;
  if (g_started) MPI_Allreduce(&v, &s, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  return s;
#else
  return v;
#endif
}

void sweep_mpi_stop(void) {
#ifdef RC_HAVE_MPI
  if (g_started) MPI_Finalize();
#endif
  g_started = 0;
}
