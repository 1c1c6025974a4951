/* tests/unit/test_xalloc.c — the checked allocator: a refused allocation
 * ends the process with exit status 1 and one line naming the size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1 /* the sanitizers' allocators abort on a huge request */
#else
#define SANITIZED 0
#endif

/* Run the refused allocation in a child whose stderr is a pipe; return the
 * child's wait status and put what it wrote in OUT. */
static int refused_in_child(char *out, size_t outsz)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        if (SANITIZED)
            xalloc_die(SIZE_MAX / 2);
        void *volatile p = xmalloc(SIZE_MAX / 2);
        (void)p;
        _exit(0); /* not reached: the allocation cannot succeed */
    }
    close(fds[1]);
    ssize_t n = read(fds[0], out, outsz - 1);
    out[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

static void out_of_memory_exits_1(void **state)
{
    (void)state;
    char out[512];
    int st = refused_in_child(out, sizeof out);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
    assert_non_null(strstr(out, "out of memory"));
    char size[64];
    snprintf(size, sizeof size, "%zu bytes", SIZE_MAX / 2);
    assert_non_null(strstr(out, size));
}

static void ordinary_use(void **state)
{
    (void)state;
    char *s = xstrdup("abc");
    s = xrealloc(s, 10);
    strcat(s, "def");
    assert_string_equal(s, "abcdef");
    char *t = xstrndup(s, 2);
    assert_string_equal(t, "ab");
    int *z = xcalloc(4, sizeof *z);
    assert_int_equal(z[3], 0);
    free(s);
    free(t);
    free(z);
    free(xmalloc(0)); /* a zero-size request still gives a block */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(out_of_memory_exits_1),
        cmocka_unit_test(ordinary_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
