// oneDNN per-layer probe (issue 17): times oneDNN's 3x3 convolution (forward training, backward
// data, backward weights) and BatchNorm (forward training, backward) on the distinct layer shapes
// of WRN-16-1 at one input size, in ms per call (median), for comparison with
// `abl bench --layers` (scripts/onednn_probe/compare.py runs both).
//
// Build (Debian libdnnl-dev; no pkg-config file is shipped):
//   cc -O2 -o /tmp/onednn_probe scripts/onednn_probe/onednn_probe.c -ldnnl
// Run:
//   OMP_NUM_THREADS=1 /tmp/onednn_probe [channels size batch calls all|conv|bn]   (default 3 32 128 9 all)
//   ONEDNN_VERBOSE=1 shows every primitive created and run.
//
// Convolution variants, per shape and direction:
//   plain        f32, every tensor fixed to NCHW / OIHW (our layers' layout): oneDNN's own choice
//                for that layout, no reorder.
//   plain+reord  f32, the convolution in the layouts oneDNN prefers (format any), with the
//                reorders from and to NCHW / OIHW timed in each call (their count is printed).
//   blocked      f32, format any, reorders excluded: the best case of a network kept blocked.
//   bf16+reord   bf16 activations and weights (f32 weight gradient), format any, with the
//                reorders (and conversions) from and to f32 NCHW / OIHW timed.
//   bf16         as bf16+reord, reorders excluded.
// BatchNorm variants: plain (NCHW f32) and blocked (nChw16c f32), with scale and shift, and with
// the ReLU fused where WRN's pre-activation blocks fuse it (every BatchNorm but the last).
//
// Output: one line per measurement, tab-separated:
//   kind cin cout h w stride direction variant ms reorders implementation
#include <dnnl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHECK(f)                                                                             \
    do {                                                                                     \
        dnnl_status_t s_ = (f);                                                              \
        if (s_ != dnnl_success) {                                                            \
            fprintf(stderr, "%s:%d: %s failed: status %d\n", __FILE__, __LINE__, #f, (int)s_); \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static int calls = 9, warmup = 2;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float rnd(void) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) * (1.0 / 16777216.0)) * 2 - 1;
}

// A memory object for md, filled with small random values (f32 or bf16).
static dnnl_memory_t make_memory(const dnnl_memory_desc_t *md) {
    dnnl_memory_t m;
    CHECK(dnnl_memory_create(&m, md, engine, DNNL_MEMORY_ALLOCATE));
    void *p;
    CHECK(dnnl_memory_get_data_handle(m, &p));
    size_t bytes = dnnl_memory_desc_get_size(md);
    if (md->data_type == dnnl_bf16) {
        uint16_t *q = p;
        for (size_t i = 0; i < bytes / 2; i++) { float f = rnd() * 0.1f; uint32_t u; memcpy(&u, &f, 4); q[i] = (uint16_t)(u >> 16); }
    } else {
        float *q = p;
        for (size_t i = 0; i < bytes / 4; i++) q[i] = rnd() * 0.1f;
    }
    return m;
}

static void md_init(dnnl_memory_desc_t *md, int n, const dnnl_dim_t *dims, dnnl_data_type_t dt, dnnl_format_tag_t tag) {
    CHECK(dnnl_memory_desc_init_by_tag(md, n, dims, dt, tag));
}

typedef enum { FWD, BWD_DATA, BWD_WEIGHTS } direction;
static const char *direction_names[] = {"forward", "backward-data", "backward-weights"};

typedef struct { int cin, cout, h, w, stride; } conv_shape;

// One argument of a primitive: its index, whether the primitive reads or writes it, and the
// layout the user (our engine) holds it in.
typedef struct { int arg; int is_output; dnnl_memory_desc_t user, op; } conv_arg;

// Times one convolution direction. plain: the tensors fixed to NCHW/OIHW f32. Otherwise format
// any with data type dt (f32 or bf16); reorders: include the reorders from/to NCHW f32.
static void time_conv(conv_shape s, int batch, direction d, const char *variant, int plain, dnnl_data_type_t dt, int reorders) {
    int ho = (s.h + 2 - 3) / s.stride + 1, wo = (s.w + 2 - 3) / s.stride + 1;
    dnnl_dims_t src_dims = {batch, s.cin, s.h, s.w}, wei_dims = {s.cout, s.cin, 3, 3}, dst_dims = {batch, s.cout, ho, wo};
    dnnl_dims_t strides = {s.stride, s.stride}, pad = {1, 1};
    dnnl_format_tag_t act = plain ? dnnl_nchw : dnnl_format_tag_any, wt = plain ? dnnl_oihw : dnnl_format_tag_any;
    dnnl_memory_desc_t src, wei, dst, dwei, usrc, uwei, udst;
    md_init(&src, 4, src_dims, dt, act);
    md_init(&wei, 4, wei_dims, dt, wt);
    md_init(&dst, 4, dst_dims, dt, act);
    md_init(&dwei, 4, wei_dims, dnnl_f32, wt);  // the weight gradient stays f32
    md_init(&usrc, 4, src_dims, dnnl_f32, dnnl_nchw);
    md_init(&uwei, 4, wei_dims, dnnl_f32, dnnl_oihw);
    md_init(&udst, 4, dst_dims, dnnl_f32, dnnl_nchw);

    dnnl_convolution_desc_t fd, bd;
    dnnl_primitive_desc_t fpd, pd;
    CHECK(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &src, &wei, NULL, &dst, strides, pad, pad));
    CHECK(dnnl_primitive_desc_create(&fpd, &fd, NULL, engine, NULL));
    conv_arg args[3];
    if (d == FWD) {
        pd = fpd;
        args[0] = (conv_arg){DNNL_ARG_SRC, 0, usrc, *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0)};
        args[1] = (conv_arg){DNNL_ARG_WEIGHTS, 0, uwei, *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)};
        args[2] = (conv_arg){DNNL_ARG_DST, 1, udst, *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0)};
    } else if (d == BWD_DATA) {
        CHECK(dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &src, &wei, &dst, strides, pad, pad));
        CHECK(dnnl_primitive_desc_create(&pd, &bd, NULL, engine, fpd));
        args[0] = (conv_arg){DNNL_ARG_DIFF_DST, 0, udst, *dnnl_primitive_desc_query_md(pd, dnnl_query_diff_dst_md, 0)};
        args[1] = (conv_arg){DNNL_ARG_WEIGHTS, 0, uwei, *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)};
        args[2] = (conv_arg){DNNL_ARG_DIFF_SRC, 1, usrc, *dnnl_primitive_desc_query_md(pd, dnnl_query_diff_src_md, 0)};
    } else {
        CHECK(dnnl_convolution_backward_weights_desc_init(&bd, dnnl_convolution_direct, &src, &dwei, NULL, &dst, strides, pad, pad));
        CHECK(dnnl_primitive_desc_create(&pd, &bd, NULL, engine, fpd));
        args[0] = (conv_arg){DNNL_ARG_SRC, 0, usrc, *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0)};
        args[1] = (conv_arg){DNNL_ARG_DIFF_DST, 0, udst, *dnnl_primitive_desc_query_md(pd, dnnl_query_diff_dst_md, 0)};
        args[2] = (conv_arg){DNNL_ARG_DIFF_WEIGHTS, 1, uwei, *dnnl_primitive_desc_query_md(pd, dnnl_query_diff_weights_md, 0)};
    }
    const char *impl = "?";
    CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
    dnnl_primitive_t prim;
    CHECK(dnnl_primitive_create(&prim, pd));

    dnnl_exec_arg_t exec[3];
    dnnl_primitive_t reorder[3] = {NULL, NULL, NULL};
    dnnl_exec_arg_t reorder_args[3][2];
    int n_reorders = 0;
    for (int i = 0; i < 3; i++) {
        dnnl_memory_t op = make_memory(&args[i].op);
        exec[i] = (dnnl_exec_arg_t){args[i].arg, op};
        if (reorders && !dnnl_memory_desc_equal(&args[i].user, &args[i].op)) {
            dnnl_memory_t user = make_memory(&args[i].user);
            const dnnl_memory_desc_t *from = args[i].is_output ? &args[i].op : &args[i].user;
            const dnnl_memory_desc_t *to = args[i].is_output ? &args[i].user : &args[i].op;
            dnnl_primitive_desc_t rpd;
            CHECK(dnnl_reorder_primitive_desc_create(&rpd, from, engine, to, engine, NULL));
            CHECK(dnnl_primitive_create(&reorder[i], rpd));
            dnnl_primitive_desc_destroy(rpd);
            reorder_args[i][0] = (dnnl_exec_arg_t){DNNL_ARG_FROM, args[i].is_output ? op : user};
            reorder_args[i][1] = (dnnl_exec_arg_t){DNNL_ARG_TO, args[i].is_output ? user : op};
            n_reorders++;
        }
    }
    double *t = malloc(sizeof(double) * calls);
    for (int k = -warmup; k < calls; k++) {
        double t0 = now_ms();
        for (int i = 0; i < 3; i++)
            if (reorder[i] && !args[i].is_output) CHECK(dnnl_primitive_execute(reorder[i], stream, 2, reorder_args[i]));
        CHECK(dnnl_primitive_execute(prim, stream, 3, exec));
        for (int i = 0; i < 3; i++)
            if (reorder[i] && args[i].is_output) CHECK(dnnl_primitive_execute(reorder[i], stream, 2, reorder_args[i]));
        CHECK(dnnl_stream_wait(stream));
        if (k >= 0) t[k] = now_ms() - t0;
    }
    qsort(t, calls, sizeof(double), cmp_double);
    double med = calls % 2 ? t[calls / 2] : (t[calls / 2 - 1] + t[calls / 2]) / 2;
    printf("conv3x3\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%.3f\t%d\t%s\n", s.cin, s.cout, s.h, s.w, s.stride, direction_names[d], variant, med,
           n_reorders, impl);
    fflush(stdout);
    free(t);
    // memory objects and primitives are left to the process exit (a probe)
}

// BatchNorm forward training and backward (scale, shift; ReLU fused when relu), NCHW or nChw16c f32.
// oneDNN 2.6's backward counts DNNL_ARG_SHIFT among its inputs when dnnl_use_shift is set: without
// it, dnnl_primitive_execute returns dnnl_invalid_arguments.
static void time_bn(int c, int h, int w, int batch, int relu, const char *variant, dnnl_format_tag_t tag) {
    dnnl_dims_t dims = {batch, c, h, w}, cdims = {c};
    dnnl_memory_desc_t data, vec;
    md_init(&data, 4, dims, dnnl_f32, tag);
    md_init(&vec, 1, cdims, dnnl_f32, dnnl_a);
    unsigned flags = dnnl_use_scale | dnnl_use_shift | (relu ? dnnl_fuse_norm_relu : 0);
    dnnl_batch_normalization_desc_t fd, bd;
    dnnl_primitive_desc_t fpd, bpd;
    CHECK(dnnl_batch_normalization_forward_desc_init(&fd, dnnl_forward_training, &data, 1e-5f, flags));
    CHECK(dnnl_primitive_desc_create(&fpd, &fd, NULL, engine, NULL));
    CHECK(dnnl_batch_normalization_backward_desc_init(&bd, dnnl_backward, &data, &data, 1e-5f, flags));
    CHECK(dnnl_primitive_desc_create(&bpd, &bd, NULL, engine, fpd));
    dnnl_memory_t src = make_memory(&data), dst = make_memory(&data), ddst = make_memory(&data), dsrc = make_memory(&data);
    dnnl_memory_t mean = make_memory(&vec), var = make_memory(&vec), scale = make_memory(&vec), shift = make_memory(&vec);
    dnnl_memory_t dscale = make_memory(&vec), dshift = make_memory(&vec), ws = NULL;
    if (relu) ws = make_memory(dnnl_primitive_desc_query_md(fpd, dnnl_query_workspace_md, 0));
    dnnl_exec_arg_t fa[7] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_MEAN, mean}, {DNNL_ARG_VARIANCE, var},
                             {DNNL_ARG_SCALE, scale}, {DNNL_ARG_SHIFT, shift}, {DNNL_ARG_WORKSPACE, ws}};
    dnnl_exec_arg_t ba[11] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_MEAN, mean}, {DNNL_ARG_VARIANCE, var}, {DNNL_ARG_DIFF_DST, ddst},
                              {DNNL_ARG_SCALE, scale}, {DNNL_ARG_SHIFT, shift}, {DNNL_ARG_DIFF_SRC, dsrc}, {DNNL_ARG_DIFF_SCALE, dscale},
                              {DNNL_ARG_DIFF_SHIFT, dshift}, {DNNL_ARG_WORKSPACE, ws}};
    int nf = relu ? 7 : 6, nb = relu ? 10 : 9;
    dnnl_primitive_t fp, bp;
    CHECK(dnnl_primitive_create(&fp, fpd));
    CHECK(dnnl_primitive_create(&bp, bpd));
    for (int i = 0; i < nb; i++) {
        const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md(bpd, dnnl_query_exec_arg_md, ba[i].arg), *have;
        CHECK(dnnl_memory_get_memory_desc(ba[i].memory, &have));
        if (!dnnl_memory_desc_equal(want, have)) fprintf(stderr, "bn backward arg %d: layout mismatch (ndims %d vs %d)\n", ba[i].arg, want->ndims, have->ndims);
    }
    const char *names[2];
    CHECK(dnnl_primitive_desc_query(fpd, dnnl_query_impl_info_str, 0, &names[0]));
    CHECK(dnnl_primitive_desc_query(bpd, dnnl_query_impl_info_str, 0, &names[1]));
    double *t = malloc(sizeof(double) * calls);
    for (int pass = 0; pass < 2; pass++) {
        for (int k = -warmup; k < calls; k++) {
            double t0 = now_ms();
            if (pass == 0) CHECK(dnnl_primitive_execute(fp, stream, nf, fa));
            else CHECK(dnnl_primitive_execute(bp, stream, nb, ba));
            CHECK(dnnl_stream_wait(stream));
            if (k >= 0) t[k] = now_ms() - t0;
        }
        qsort(t, calls, sizeof(double), cmp_double);
        double med = calls % 2 ? t[calls / 2] : (t[calls / 2 - 1] + t[calls / 2]) / 2;
        printf("batchnorm\t%d\t%d\t%d\t%d\t1\t%s\t%s%s\t%.3f\t0\t%s\n", c, c, h, w, pass ? "backward" : "forward", variant,
               relu ? "" : "-norelu", med, names[pass]);
        fflush(stdout);
    }
    free(t);
}

// Linux grants a process AMX tile data only after arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA);
// oneDNN asks for it itself. ARCH_GET_XCOMP_PERM: the extended features this process may use.
static unsigned long xcomp_perm(void) {
    unsigned long bits = 0;
    if (syscall(SYS_arch_prctl, 0x1022 /* ARCH_GET_XCOMP_PERM */, &bits) != 0) return 0;
    return bits;
}

int main(int argc, char **argv) {
    unsigned long perm_before = xcomp_perm();
    int channels = argc > 1 ? atoi(argv[1]) : 3, size = argc > 2 ? atoi(argv[2]) : 32;
    int batch = argc > 3 ? atoi(argv[3]) : 128;
    if (argc > 4) calls = atoi(argv[4]);
    const char *what = argc > 5 ? argv[5] : "all";  // all, conv or bn
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    const dnnl_version_t *v = dnnl_version();
    printf("# oneDNN %d.%d.%d (hash %s), cpu runtime %u, effective ISA 0x%x, batch %d, input %dx%dx%d, median of %d calls\n",
           v->major, v->minor, v->patch, v->hash, v->cpu_runtime, (unsigned)dnnl_get_effective_cpu_isa(), batch, channels, size, size, calls);
    // WRN-16-1: conv1, then per group the first layer (stride 1, 2, 2) and the other three 3x3s.
    int s2 = (size + 1) / 2, s4 = (s2 + 1) / 2;
    conv_shape shapes[] = {
        {channels, 16, size, size, 1}, {16, 16, size, size, 1}, {16, 32, size, size, 2},
        {32, 32, s2, s2, 1}, {32, 64, s2, s2, 2}, {64, 64, s4, s4, 1},
    };
    for (size_t i = 0; strcmp(what, "bn") && i < sizeof shapes / sizeof shapes[0]; i++) {
        for (int d = FWD; d <= BWD_WEIGHTS; d++) {
            if (i == 0 && d == BWD_DATA) continue;  // the network computes no input gradient for conv1
            time_conv(shapes[i], batch, d, "plain", 1, dnnl_f32, 0);
            time_conv(shapes[i], batch, d, "plain+reord", 0, dnnl_f32, 1);
            time_conv(shapes[i], batch, d, "blocked", 0, dnnl_f32, 0);
            time_conv(shapes[i], batch, d, "bf16+reord", 0, dnnl_bf16, 1);
            time_conv(shapes[i], batch, d, "bf16", 0, dnnl_bf16, 0);
        }
    }
    int bn[][4] = {{16, size, size, 1}, {32, s2, s2, 1}, {64, s4, s4, 1}, {64, s4, s4, 0}};
    for (size_t i = 0; strcmp(what, "conv") && i < sizeof bn / sizeof bn[0]; i++) {
        time_bn(bn[i][0], bn[i][1], bn[i][2], batch, bn[i][3], "plain", dnnl_nchw);
        time_bn(bn[i][0], bn[i][1], bn[i][2], batch, bn[i][3], "blocked", dnnl_nChw16c);
    }
    printf("# XCOMP permissions (bit 18: AMX tile data): 0x%lx at start, 0x%lx at the end\n", perm_before, xcomp_perm());
    return 0;
}
