/*
 * pause: the sandbox ("infra") process of a Kubernetes pod, written for
 * openpai-ansible (not copied from upstream). It holds the pod's namespaces
 * open and does nothing else:
 *   - sleeps in pause() forever;
 *   - as PID 1 of a shared PID namespace, reaps every child on SIGCHLD;
 *   - exits 0 on SIGINT or SIGTERM.
 * Build: gcc -Os -Wall -Werror -static -o pause pause.c && strip pause
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NAME "pause"

static void on_stop(int signo) {
  (void)signo;
  _exit(0);
}

static void on_child(int signo) {
  int saved = errno;
  (void)signo;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

static int set_handler(int signo, void (*handler)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = handler;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  return sigaction(signo, &sa, NULL);
}

int main(int argc, char **argv) {
  if (argc > 1 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
    printf("%s (openpai-ansible)\n", NAME);
    return 0;
  }
  if (getpid() != 1) {
    fprintf(stderr, "%s: warning: not PID 1, children of other processes are not reaped\n", NAME);
  }
  if (set_handler(SIGINT, on_stop, 0) < 0 || set_handler(SIGTERM, on_stop, 0) < 0 ||
      set_handler(SIGCHLD, on_child, SA_NOCLDSTOP | SA_RESTART) < 0) {
    perror(NAME ": sigaction");
    return 1;
  }
  for (;;) {
    pause();
  }
  return 42; /* not reached */
}
