# Neural-network engine: CPU reference + OpenBLAS, and the CUDA backend.
libnvc_core_la_SOURCES += \
	nn/nn.h \
	nn/ops_list.h \
	nn/cpu.h \
	nn/rng.h \
	nn/ssim.h \
	nn/rate_math.h \
	nn/vmath.h \
	nn/clones.h \
	nn/optim.h \
	nn/checkpoint.h \
	nn/nn.c \
	nn/gemm.c \
	nn/conv.c \
	nn/conv_direct.c \
	nn/elementwise.c \
	nn/resample.c \
	nn/norm.c \
	nn/ssim.c \
	nn/loss.c \
	nn/optim.c \
	nn/checkpoint.c
libnvc_core_la_CFLAGS += $(BLAS_CFLAGS)

if HAVE_CUDA
libnvc_core_la_SOURCES += \
	nn/cuda/cuda.h \
	nn/cuda/common.cuh \
	nn/cuda/device.cu \
	nn/cuda/conv.cu \
	nn/cuda/elementwise.cu \
	nn/cuda/resample.cu \
	nn/cuda/loss.cu
libnvc_core_la_LIBADD += $(CUDA_LIBS)
endif

# nvcc without the CUDA libraries (see configure.ac): compile the kernels
# anyway so that a change that breaks them fails the build.
if CUDA_COMPILE_ONLY
noinst_LTLIBRARIES += nn/libnvc_cuda_compile.la
nn_libnvc_cuda_compile_la_SOURCES = nn/cuda/cuda.h nn/cuda/common.cuh nn/cuda/device.cu \
	nn/cuda/conv.cu nn/cuda/elementwise.cu nn/cuda/resample.cu nn/cuda/loss.cu
endif

# Tests of the engine (tests/nn_cases.c: one case per op, shared with the CUDA comparison).
if HAVE_CHECK
check_PROGRAMS += tests/test_nn_ops
tests_test_nn_ops_SOURCES = tests/test_nn_ops.c tests/nn_cases.c tests/nn_cases.h tests/common.h
tests_test_nn_ops_CFLAGS = $(TEST_CFLAGS)
tests_test_nn_ops_LDADD = $(TEST_LDADD)
TESTS += tests/test_nn_ops

check_PROGRAMS += tests/test_nn_core
tests_test_nn_core_SOURCES = tests/test_nn_core.c tests/nn_cases.c tests/nn_cases.h tests/common.h
tests_test_nn_core_CFLAGS = $(TEST_CFLAGS)
tests_test_nn_core_LDADD = $(TEST_LDADD)
TESTS += tests/test_nn_core

check_PROGRAMS += tests/test_nn_learn
tests_test_nn_learn_SOURCES = tests/test_nn_learn.c tests/nn_model.c tests/nn_model.h tests/common.h
tests_test_nn_learn_CFLAGS = $(TEST_CFLAGS)
tests_test_nn_learn_LDADD = $(TEST_LDADD)
TESTS += tests/test_nn_learn

check_PROGRAMS += tests/test_nn_torch
tests_test_nn_torch_SOURCES = tests/test_nn_torch.c tests/common.h
tests_test_nn_torch_CFLAGS = $(TEST_CFLAGS)
tests_test_nn_torch_LDADD = $(TEST_LDADD)
TESTS += tests/test_nn_torch
endif
EXTRA_DIST += tests/nn_torch_ref.py tests/data/nn_torch_ref.bin tests/gpu/run.sh nn/README.md

# CUDA against the CPU for every op (plain C: tests/gpu/run.sh builds it without autotools).
if HAVE_CUDA
check_PROGRAMS += tests/test_nn_cuda
tests_test_nn_cuda_SOURCES = tests/test_nn_cuda.c tests/nn_cases.c tests/nn_cases.h tests/nn_model.c \
	tests/nn_model.h
tests_test_nn_cuda_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
tests_test_nn_cuda_LDADD = libnvc_core.la $(NVC_DEP_LIBS)
TESTS += tests/test_nn_cuda
endif
