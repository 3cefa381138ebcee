#include "CMPI.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Open MPI's handles are pointers to its predefined objects; MPI_IN_PLACE is ((void *) 1).
typedef void *mpi_handle;
#define ABL_MPI_IN_PLACE ((void *)1)
// One call moves at most INT_MAX elements; longer buffers go in chunks of this many.
#define ABL_MPI_CHUNK (1L << 30)

static struct {
    int (*init)(int *, char ***);
    int (*comm_rank)(mpi_handle, int *);
    int (*comm_size)(mpi_handle, int *);
    int (*allreduce)(const void *, void *, int, mpi_handle, mpi_handle, mpi_handle);
    int (*bcast)(void *, int, mpi_handle, int, mpi_handle);
    int (*barrier)(mpi_handle);
    int (*abort)(mpi_handle, int);
    int (*finalize)(void);
    mpi_handle comm_world, type_float, type_double, type_byte, op_sum;
    int rank, size;
} mpi;

int abl_mpi_launched_size(void) {
    // Open MPI's mpirun, then Slurm's srun (PMI-2 sets PMI_SIZE; PMIx sets PMIX_RANK, and Slurm
    // the step's task count). SLURM_NTASKS alone is a batch script run without srun: not a launch.
    const char *sizes[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (int i = 0; i < 2; i++) {
        const char *v = getenv(sizes[i]);
        if (v && atoi(v) > 0) return atoi(v);
    }
    if (getenv("PMIX_RANK")) {
        const char *v = getenv("SLURM_STEP_NUM_TASKS");
        return v && atoi(v) > 0 ? atoi(v) : 2;   // unknown here: MPI_Comm_size tells
    }
    return 1;
}

int abl_mpi_init(const char *library, char *err, size_t err_len) {
    const char *lib = library && *library ? library : "libmpi.so.40";
    // RTLD_GLOBAL: Open MPI's own plugins resolve symbols of libmpi when they are loaded.
    void *h = dlopen(lib, RTLD_NOW | RTLD_GLOBAL);
    if (!h) { snprintf(err, err_len, "cannot load %s (Open MPI): %s", lib, dlerror()); return -1; }
#define RESOLVE(field, name) \
    do { *(void **)&mpi.field = dlsym(h, name); \
         if (!mpi.field) { snprintf(err, err_len, "%s has no symbol %s (Open MPI 4 or 5 is needed)", lib, name); return -1; } } while (0)
    RESOLVE(init, "MPI_Init");
    RESOLVE(comm_rank, "MPI_Comm_rank");
    RESOLVE(comm_size, "MPI_Comm_size");
    RESOLVE(allreduce, "MPI_Allreduce");
    RESOLVE(bcast, "MPI_Bcast");
    RESOLVE(barrier, "MPI_Barrier");
    RESOLVE(abort, "MPI_Abort");
    RESOLVE(finalize, "MPI_Finalize");
    RESOLVE(comm_world, "ompi_mpi_comm_world");
    RESOLVE(type_float, "ompi_mpi_float");
    RESOLVE(type_double, "ompi_mpi_double");
    RESOLVE(type_byte, "ompi_mpi_byte");
    RESOLVE(op_sum, "ompi_mpi_op_sum");
#undef RESOLVE
    if (mpi.init(NULL, NULL) != 0) { snprintf(err, err_len, "MPI_Init failed"); return -1; }
    mpi.comm_rank(mpi.comm_world, &mpi.rank);
    mpi.comm_size(mpi.comm_world, &mpi.size);
    return 0;
}

int abl_mpi_rank(void) { return mpi.rank; }
int abl_mpi_size(void) { return mpi.size; }

void abl_mpi_sum_float(float *buffer, long count) {
    for (long at = 0; at < count; at += ABL_MPI_CHUNK) {
        long n = count - at < ABL_MPI_CHUNK ? count - at : ABL_MPI_CHUNK;
        mpi.allreduce(ABL_MPI_IN_PLACE, buffer + at, (int)n, mpi.type_float, mpi.op_sum, mpi.comm_world);
    }
}

void abl_mpi_sum_double(double *buffer, long count) {
    for (long at = 0; at < count; at += ABL_MPI_CHUNK) {
        long n = count - at < ABL_MPI_CHUNK ? count - at : ABL_MPI_CHUNK;
        mpi.allreduce(ABL_MPI_IN_PLACE, buffer + at, (int)n, mpi.type_double, mpi.op_sum, mpi.comm_world);
    }
}

void abl_mpi_broadcast(void *buffer, long bytes) {
    for (long at = 0; at < bytes; at += ABL_MPI_CHUNK) {
        long n = bytes - at < ABL_MPI_CHUNK ? bytes - at : ABL_MPI_CHUNK;
        mpi.bcast((char *)buffer + at, (int)n, mpi.type_byte, 0, mpi.comm_world);
    }
}

void abl_mpi_barrier(void) { mpi.barrier(mpi.comm_world); }
void abl_mpi_abort(int code) { mpi.abort(mpi.comm_world, code); }
void abl_mpi_finalize(void) { mpi.finalize(); }
