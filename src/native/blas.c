/*
 * recsys optional native kernel: single-precision matrix products through the system BLAS
 * (OpenBLAS from Debian's libopenblas-dev). Built by scripts/build-native.mjs when a C compiler,
 * Node's headers and cblas.h are present; otherwise the two-tower model uses tfjs wasm.
 *
 *   sgemm(a, m, k, b, n, transA, out)  out (m×n) = op(A)·B, all row-major Float32Arrays;
 *                                      transA = 0: A is m×k; 1: A is k×m (out = Aᵀ·B).
 *   threads()                          OpenBLAS's thread count.
 */
#include <node_api.h>
#include <cblas.h>
#include <stdint.h>

static int f32(napi_env env, napi_value v, float **data, size_t *len) {
  napi_typedarray_type type;
  size_t length, offset;
  void *raw;
  napi_value buffer;
  if (napi_get_typedarray_info(env, v, &type, &length, &raw, &buffer, &offset) != napi_ok || type != napi_float32_array) return 0;
  *data = (float *)raw;
  *len = length;
  return 1;
}

static napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 7) {
    napi_throw_type_error(env, NULL, "sgemm(a, m, k, b, n, transA, out)");
    return NULL;
  }
  float *a, *b, *c;
  size_t la, lb, lc;
  int32_t m, k, n, ta;
  if (!f32(env, argv[0], &a, &la) || !f32(env, argv[3], &b, &lb) || !f32(env, argv[6], &c, &lc)) {
    napi_throw_type_error(env, NULL, "sgemm: a, b and out must be Float32Arrays");
    return NULL;
  }
  napi_get_value_int32(env, argv[1], &m);
  napi_get_value_int32(env, argv[2], &k);
  napi_get_value_int32(env, argv[4], &n);
  napi_get_value_int32(env, argv[5], &ta);
  if (m < 0 || k < 0 || n < 0 || la < (size_t)m * k || lb < (size_t)k * n || lc < (size_t)m * n) {
    napi_throw_range_error(env, NULL, "sgemm: array shorter than its stated shape");
    return NULL;
  }
  if (m > 0 && n > 0) {
    if (k == 0) {
      for (size_t j = 0; j < (size_t)m * n; j++) c[j] = 0.0f;
    } else {
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, ta ? m : k, b, n, 0.0f, c, n);
    }
  }
  return NULL;
}

static napi_value Threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_int32(env, openblas_get_num_threads(), &out);
  return out;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t t = 1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc == 1) napi_get_value_int32(env, argv[0], &t);
  openblas_set_num_threads(t < 1 ? 1 : t);
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_default, NULL},
    {"threads", NULL, Threads, NULL, NULL, NULL, napi_default, NULL},
    {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 3, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
