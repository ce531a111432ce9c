/*
 * map-file: map a file into this process's memory as an ArrayBuffer (src/core/mapped-file.ts).
 * Node offers no mmap; this is the one call it lacks. Two users, both in a job's 0700 folder on
 * tmpfs: the lane board (src/comm/zmq/board-memory.ts), whose ranks exchange small all-reduces
 * through shared pages instead of a pwrite and a pread per post, and a processes rank's shard file
 * (src/runtime/shard-file.ts), whose rows it uses in place instead of reading them into fresh pages.
 *
 *   map(fd, bytes, writable) -> ArrayBuffer over bytes 0..bytes of fd, MAP_SHARED | MAP_POPULATE
 *     (PROT_READ | PROT_WRITE when writable, else PROT_READ: a write through a read-only mapping
 *     faults instead of changing the file). The mapping lives until the ArrayBuffer is collected.
 *
 * Built by scripts/build-native.js with the C compiler and Node's own headers (node_api.h); where it
 * cannot be built, both users read and write the files instead.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <node_api.h>

static void unmap(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

static napi_value throw_error(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

static napi_value map(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3)
    return throw_error(env, "EINVAL", "map(fd, bytes, writable) takes three arguments");
  int32_t fd;
  int64_t bytes;
  bool writable;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int64(env, argv[1], &bytes) != napi_ok ||
      napi_get_value_bool(env, argv[2], &writable) != napi_ok)
    return throw_error(env, "EINVAL", "map(fd, bytes, writable): a descriptor, a byte count and a boolean");
  if (fd < 0 || bytes <= 0 || bytes > (int64_t)1 << 30)
    return throw_error(env, "EINVAL", "map: the descriptor must be open and the size between 1 byte and 1 GiB");
  void *data = mmap(NULL, (size_t)bytes, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (data == MAP_FAILED) return throw_error(env, "EMAP", strerror(errno));
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, data, (size_t)bytes, unmap, (void *)(uintptr_t)bytes, &buffer) != napi_ok) {
    munmap(data, (size_t)bytes);
    return throw_error(env, "EMAP", "map: this Node cannot wrap external memory in an ArrayBuffer");
  }
  return buffer;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "map", NAPI_AUTO_LENGTH, map, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "map", fn) != napi_ok) return NULL;
  return exports;
}
