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
 *   wait(buffer, byteOffset, expected, timeoutMs) -> true when woken (or the word was no longer
 *     `expected`), false when timeoutMs passed: FUTEX_WAIT on the int32 at byteOffset of a mapped
 *     buffer, shared (not FUTEX_PRIVATE), so a wake from another process that maps the same file
 *     ends it. Blocks the calling thread, as Atomics.wait does.
 *   wake(buffer, byteOffset) -> how many waiters FUTEX_WAKE woke on that int32.
 *
 * Built by scripts/build-native.js with the C compiler and Node's own headers (node_api.h); where it
 * cannot be built, both users read and write the files instead.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <linux/futex.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <node_api.h>

static void unmap(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

static napi_value throw_error(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

/* The call's `count` arguments into argv; false after throwing `usage` when there are not exactly that many. */
static bool arguments(napi_env env, napi_callback_info info, size_t count, napi_value *argv, const char *usage) {
  size_t argc = count;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == count) return true;
  throw_error(env, "EINVAL", usage);
  return false;
}

static napi_value map(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!arguments(env, info, 3, argv, "map(fd, bytes, writable) takes three arguments")) return NULL;
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

/* The int32 at byteOffset of an ArrayBuffer argument, or NULL after throwing. */
static int32_t *word_at(napi_env env, napi_value buffer, napi_value offset_value) {
  void *data;
  size_t length;
  int64_t offset;
  if (napi_get_arraybuffer_info(env, buffer, &data, &length) != napi_ok || napi_get_value_int64(env, offset_value, &offset) != napi_ok) {
    throw_error(env, "EINVAL", "an ArrayBuffer and a byte offset");
    return NULL;
  }
  if (offset < 0 || offset % 4 != 0 || (uint64_t)offset + 4 > length) {
    throw_error(env, "EINVAL", "the byte offset must be a multiple of 4 inside the buffer");
    return NULL;
  }
  return (int32_t *)((char *)data + offset);
}

static napi_value wait_word(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!arguments(env, info, 4, argv, "wait(buffer, byteOffset, expected, timeoutMs) takes four arguments")) return NULL;
  int32_t *word = word_at(env, argv[0], argv[1]);
  if (word == NULL) return NULL;
  int32_t expected;
  double timeout_ms;
  if (napi_get_value_int32(env, argv[2], &expected) != napi_ok || napi_get_value_double(env, argv[3], &timeout_ms) != napi_ok ||
      !(timeout_ms >= 0) || timeout_ms > 60000)
    return throw_error(env, "EINVAL", "wait: an int32 expected value and a timeout of 0 to 60000 ms");
  struct timespec timeout;
  timeout.tv_sec = (time_t)(timeout_ms / 1000);
  timeout.tv_nsec = (long)((timeout_ms - (double)timeout.tv_sec * 1000) * 1e6);
  long result = syscall(SYS_futex, word, FUTEX_WAIT, expected, &timeout, NULL, 0);
  napi_value woken;
  napi_get_boolean(env, !(result == -1 && errno == ETIMEDOUT), &woken);
  return woken;
}

static napi_value wake_word(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!arguments(env, info, 2, argv, "wake(buffer, byteOffset) takes two arguments")) return NULL;
  int32_t *word = word_at(env, argv[0], argv[1]);
  if (word == NULL) return NULL;
  long result = syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
  napi_value woken;
  napi_create_int64(env, result < 0 ? 0 : result, &woken);
  return woken;
}

static int export_function(napi_env env, napi_value exports, const char *name, napi_callback callback) {
  napi_value fn;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, name, fn) == napi_ok;
}

NAPI_MODULE_INIT() {
  if (!export_function(env, exports, "map", map) || !export_function(env, exports, "wait", wait_word) ||
      !export_function(env, exports, "wake", wake_word))
    return NULL;
  return exports;
}
