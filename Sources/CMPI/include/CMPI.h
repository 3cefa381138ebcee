#ifndef CMPI_H
#define CMPI_H
#include <stddef.h>

/// The few MPI calls data-parallel training needs, resolved at run time from Open MPI's
/// libmpi.so.40 with dlopen/dlsym, so a binary built without MPI runs on a machine without it.
/// Open MPI only: its predefined handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are the
/// addresses of exported globals (`ompi_mpi_comm_world`, ...); MPICH's are integer constants.

/// The world size the launcher announces in the environment (Open MPI's mpirun, Slurm's srun
/// with PMIx or PMI-2), or 1 when the process was not started by an MPI launcher.
int abl_mpi_launched_size(void);

/// Loads `library` (NULL: libmpi.so.40), resolves the symbols and calls MPI_Init. Returns 0, or
/// -1 with a message in `err`.
int abl_mpi_init(const char *library, char *err, size_t err_len);

int abl_mpi_rank(void);
int abl_mpi_size(void);
/// In-place sums over every rank.
void abl_mpi_sum_float(float *buffer, long count);
void abl_mpi_sum_double(double *buffer, long count);
/// Rank 0's bytes into every rank's `buffer`.
void abl_mpi_broadcast(void *buffer, long bytes);
void abl_mpi_barrier(void);
/// Ends every rank of the job with `code`.
void abl_mpi_abort(int code);
void abl_mpi_finalize(void);

#endif
